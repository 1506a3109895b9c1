"""`make bench-spark`: the Spark engine on local[2] beside the local path, same corpus, same run.

Per corpus size, in its own subprocess: the seeded synthetic corpus is written as JSON Lines,
clustered by the local path (``cluster_articles``) and then by Spark reading that file
(``read_articles`` + ``run_spark``). Reported per stage: wall time, shuffle bytes written and
read (from the Spark UI's REST API on 127.0.0.1, summed over the jobs of the stage's job
group ``dedupe:<stage>``) and the peak memory of the whole process tree (driver Python, the
JVM and Spark's Python workers, sampled from /proc every 0.2 s). The two paths' clusters are
compared: they must be equal.

Usage:
    python -m benchmarks.spark_bench --sizes 100000 --output BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks.markdown import heading, replace_section
from benchmarks.run import SHARED_TEXTS

BEGIN = "<!-- spark-bench:begin -->"
END = "<!-- spark-bench:end -->"
SCALE_BEGIN = "<!-- spark-scale:begin -->"
SCALE_END = "<!-- spark-scale:end -->"


class TreeMemory:
    """Peak summed RSS of this process and all its descendants, sampled in a thread."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def reset(self) -> int:
        peak, self.peak = self.peak, 0
        return peak

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_rss(os.getpid()))
            time.sleep(0.2)

    def stop(self) -> None:
        self._stop.set()


def _tree_rss(root: int) -> int:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            rss[int(entry.name)] = int(stat[21]) * os.sysconf("SC_PAGE_SIZE")
            children.setdefault(int(stat[1]), []).append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total


def _rest(spark: Any, path: str) -> Any:
    url = f"{spark.sparkContext.uiWebUrl}/api/v1/applications/{spark.sparkContext.applicationId}"
    with urllib.request.urlopen(f"{url}/{path}", timeout=30) as response:
        return json.loads(response.read())


def _shuffle_by_group(spark: Any) -> dict[str, dict[str, int]]:
    stages = {s["stageId"]: s for s in _rest(spark, "stages")}
    totals: dict[str, dict[str, int]] = {}
    for job in _rest(spark, "jobs"):
        group = job.get("jobGroup", "")
        bucket = totals.setdefault(group, {"write": 0, "read": 0})
        for stage_id in job.get("stageIds", []):
            stage = stages.get(stage_id)
            if stage is None:
                continue
            bucket["write"] += int(stage.get("shuffleWriteBytes", 0))
            bucket["read"] += int(stage.get("shuffleReadBytes", 0))
            # A stage shared by several jobs (skipped re-use) is counted once.
            stages.pop(stage_id)
    return totals


def measure(size: int, seed: int, master: str) -> dict[str, Any]:
    from benchmarks.synthetic import generate_corpus, load_cstnews_sentences
    from dedupe import Config

    sentences = load_cstnews_sentences(SHARED_TEXTS)
    corpus = generate_corpus(size, seed=seed, base_sentences=sentences or None)
    config = Config()
    workdir = Path(tempfile.mkdtemp(prefix="dedupe-spark-bench-"))
    try:
        return _measure_in(workdir, size, master, corpus, sentences, config)
    finally:
        # The corpus copy and Spark's scratch are ~1 GiB per 100k articles: never leave them.
        shutil.rmtree(workdir, ignore_errors=True)


def _measure_in(
    workdir: Path, size: int, master: str, corpus: Any, sentences: list[str], config: Any
) -> dict[str, Any]:
    from benchmarks.metrics import pair_scores
    from dedupe import Article, cluster_articles
    from dedupe.readers.records import parse_published

    path = workdir / "corpus.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for record in corpus.records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    articles = [
        Article(
            id=r["id"],
            text=r["text"],
            outlet=r.get("outlet", ""),
            published=parse_published(r["published"]) if r.get("published") else None,
        )
        for r in corpus.records
    ]
    del corpus.records[:]
    memory = TreeMemory()
    started = time.perf_counter()
    local = cluster_articles(articles, config)
    local_seconds = time.perf_counter() - started
    local_peak = memory.reset()
    local_groups = sorted(c.article_ids for c in local.clusters)
    local_stages = [{"name": s.name, "seconds": s.seconds} for s in local.stages]
    del local, articles

    spark = _spark_session(master, f"dedupe-bench-{size}", workdir)
    spark_figures, spark_groups = _spark_run(spark, path, config, memory)
    memory.stop()
    spark.stop()
    quality = pair_scores(spark_groups, corpus.truth)
    return {
        "size": size,
        "master": master,
        "base_text": "cstnews sentences" if sentences else "pseudo-words",
        "local_seconds": local_seconds,
        "local_peak_mib": local_peak / 2**20,
        "local_stages": local_stages,
        **spark_figures,
        "clusters": len(spark_groups),
        "equal_to_local": spark_groups == local_groups,
        "f1": quality.f1,
    }


def _spark_run(
    spark: Any, path: Path, config: Any, memory: TreeMemory
) -> tuple[dict[str, Any], list[tuple[str, ...]]]:
    """Cluster the JSONL file at ``path`` on Spark: figures, and its clusters as sorted ids."""
    from dedupe.spark.engine import run_spark
    from dedupe.spark.io import read_articles

    memory.reset()
    started = time.perf_counter()
    frame, _ = read_articles(spark, [str(path)], config.readers)
    read_seconds = time.perf_counter() - started
    run = run_spark(frame, config)
    assigned = run.members.select("id", "cluster_id").collect()
    spark_seconds = time.perf_counter() - started
    spark_peak = memory.reset()
    groups: dict[str, list[str]] = {}
    for row in assigned:
        groups.setdefault(row["cluster_id"], []).append(row["id"])
    spark_groups = sorted(tuple(sorted(g)) for g in groups.values())
    shuffle = _shuffle_by_group(spark)
    figures = {
        "spark_seconds": spark_seconds,
        "spark_read_seconds": read_seconds,
        "spark_peak_mib": spark_peak / 2**20,
        "spark_stages": [
            {
                "name": s.name,
                "seconds": s.seconds,
                "items_out": s.items_out,
                "shuffle_write": shuffle.get(f"dedupe:{s.name}", {}).get("write", 0),
                "shuffle_read": shuffle.get(f"dedupe:{s.name}", {}).get("read", 0),
            }
            for s in run.stages
        ],
        "shuffle_total": sum(v["write"] for v in shuffle.values()),
    }
    return figures, spark_groups


def measure_scale(size: int, workdir: Path, master: str) -> dict[str, Any]:
    """The ``make bench-scale`` corpus of ``size`` articles: the CLI locally, then Spark.

    Each path runs in its own process, one after the other, so neither's memory counts
    against the other's: at 1M the local CLI peaks at ~17 GiB and Spark's driver JVM is
    given 14 GiB on this 24 GiB machine.
    """
    from benchmarks import scale
    from benchmarks.metrics import pair_scores

    local = scale.measure(size, workdir)
    corpus_path, truth_path = scale.corpus_paths(size, workdir)
    groups_path = workdir / f"spark-{size}.groups.json"
    log_path = workdir / f"spark-{size}.log"
    print(f"bench-spark: Spark on {size:,} articles (log: {log_path}) ...", file=sys.stderr)
    command = [
        sys.executable, "-m", "benchmarks.spark_bench", "--spark-file", str(corpus_path),
        str(groups_path), "--master", master,
    ]  # fmt: skip
    with log_path.open("w", encoding="utf-8") as log:
        done = subprocess.run(
            command,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"Spark run failed ({done.returncode}); see {log_path}")
    spark_figures = json.loads(done.stdout.strip().splitlines()[-1])
    spark_groups = [tuple(g) for g in json.loads(groups_path.read_text(encoding="utf-8"))]
    report = json.loads((workdir / f"scale-{size}.clusters.json").read_text(encoding="utf-8"))
    local_groups = sorted(tuple(sorted(m["id"] for m in c["members"])) for c in report["clusters"])
    del report
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    return {
        "size": size,
        "master": master,
        "base_text": "pseudo-words, one outlet per 500 articles (make bench-scale's corpus)",
        "local_seconds": local["wall_seconds"],
        "local_peak_mib": local["peak_rss_mib"],
        "local_stages": local["stages"],
        **spark_figures,
        "clusters": len(spark_groups),
        "equal_to_local": spark_groups == local_groups,
        "f1": pair_scores([list(g) for g in spark_groups], truth).f1,
    }


def spark_file(path: Path, groups_path: Path, master: str) -> dict[str, Any]:
    """One Spark run over a JSONL file (a subprocess of ``measure_scale``)."""
    from dedupe import Config

    workdir = Path(tempfile.mkdtemp(prefix="dedupe-spark-bench-", dir=groups_path.parent))
    memory = TreeMemory()
    spark = _spark_session(master, f"dedupe-bench-{path.name}", workdir)
    # Stage tables are checkpointed to disk, as on a real cluster, not kept in the one JVM's
    # block manager: at 1M they would crowd the memory the shuffles need.
    spark.sparkContext.setCheckpointDir(str(workdir / "checkpoints"))
    try:
        figures, groups = _spark_run(spark, path, Config(), memory)
    finally:
        memory.stop()
        spark.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    groups_path.write_text(json.dumps(groups), encoding="utf-8")
    return figures


def _spark_session(master: str, name: str, workdir: Path) -> Any:
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(master)
        .appName(name)
        .config("spark.driver.memory", os.environ.get("DEDUPE_SPARK_DRIVER_MEMORY", "14g"))
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.port", "4150")
        .config("spark.local.dir", str(workdir / "spark-local"))
        .config("spark.sql.shuffle.partitions", os.environ.get("DEDUPE_SPARK_PARTITIONS", "16"))
        # The shuffle figures come from the UI's job and stage lists: keep them all (the
        # default keeps the last 1,000, and a run has more: older ones would go uncounted).
        .config("spark.ui.retainedJobs", "1000000")
        .config("spark.ui.retainedStages", "1000000")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _shuffle_since(spark: Any, before: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Shuffle bytes per job group written since ``before`` (an earlier ``_shuffle_by_group``)."""
    now = _shuffle_by_group(spark)
    return {
        group: {k: v[k] - before.get(group, {}).get(k, 0) for k in ("write", "read")}
        for group, v in now.items()
    }


def _run_figures(run: Any, seconds: float, shuffle: dict[str, dict[str, int]]) -> dict[str, Any]:
    return {
        "seconds": seconds,
        "stages": [
            {
                "name": s.name,
                "seconds": s.seconds,
                "items_out": s.items_out,
                "shuffle_write": shuffle.get(f"dedupe:{s.name}", {}).get("write", 0),
                "notes": dict(s.notes),
            }
            for s in run.stages
        ],
        "shuffle_total": sum(v["write"] for v in shuffle.values()),
    }


def _groups_with(rows: list[Any], wanted: set[str]) -> list[tuple[str, ...]]:
    """Clusters (sorted id tuples) that hold at least one id of ``wanted``."""
    groups: dict[str, list[str]] = {}
    for row in rows:
        groups.setdefault(row["cluster_id"], []).append(row["id"])
    return sorted(tuple(sorted(g)) for g in groups.values() if wanted.intersection(g))


def measure_incremental(size: int, batch_days: float, seed: int, master: str) -> dict[str, Any]:
    """A daily run with ``--spark-state`` beside a full run over the same articles.

    The corpus's last ``batch_days`` of publication time are the new batch; everything
    before is the state, built by a first run. Retention is set long enough that the state
    keeps every old article, so the full run over old + new is the incremental run's oracle.
    """
    workdir = Path(tempfile.mkdtemp(prefix="dedupe-spark-incr-"))
    try:
        return _incremental_in(workdir, size, batch_days, seed, master)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _incremental_in(
    workdir: Path, size: int, batch_days: float, seed: int, master: str
) -> dict[str, Any]:
    import dataclasses

    from benchmarks.synthetic import generate_corpus, load_cstnews_sentences
    from dedupe import Config
    from dedupe.readers.records import parse_published

    sentences = load_cstnews_sentences(SHARED_TEXTS)
    corpus = generate_corpus(size, seed=seed, base_sentences=sentences or None)
    config = Config()
    config = dataclasses.replace(
        config, backend=dataclasses.replace(config.backend, spark_state_days=36_500.0)
    )
    times = [parse_published(r["published"]).timestamp() for r in corpus.records]
    cut = max(times) - batch_days * 86_400
    paths = {name: workdir / f"{name}.jsonl" for name in ("old", "new", "all")}
    files = {name: path.open("w", encoding="utf-8") for name, path in paths.items()}
    new_ids: set[str] = set()
    for record, when in zip(corpus.records, times, strict=True):
        line = json.dumps(record, ensure_ascii=False) + "\n"
        files["all"].write(line)
        if when > cut:
            files["new"].write(line)
            new_ids.add(record["id"])
        else:
            files["old"].write(line)
    for handle in files.values():
        handle.close()
    del corpus

    from dedupe.spark.engine import run_spark
    from dedupe.spark.incremental import run_incremental
    from dedupe.spark.io import read_articles
    from dedupe.spark.state import read_state, write_state

    spark = _spark_session(master, f"dedupe-bench-incremental-{size}", workdir)
    state_path = str(workdir / "state")
    memory = TreeMemory()

    def daily(path: Path, now: float) -> tuple[Any, float, float, dict[str, dict[str, int]]]:
        before = _shuffle_by_group(spark)
        started = time.perf_counter()
        state = read_state(spark, state_path, config)
        frame, _ = read_articles(spark, [str(path)], config.readers)
        run, following = run_incremental(frame, state, config, now=now)
        rows = run.members.select("id", "cluster_id").collect()
        run_seconds = time.perf_counter() - started
        started = time.perf_counter()
        write_state(spark, state_path, following, config)
        return (
            (run, rows),
            run_seconds,
            time.perf_counter() - started,
            _shuffle_since(spark, before),
        )

    (first, _), first_seconds, first_write, first_shuffle = daily(paths["old"], cut)
    first_peak = memory.reset()
    (run, rows), run_seconds, write_seconds, shuffle = daily(paths["new"], cut + 86_400)
    run_peak = memory.reset()

    before = _shuffle_by_group(spark)
    started = time.perf_counter()
    frame, _ = read_articles(spark, [str(paths["all"])], config.readers)
    full = run_spark(frame, config)
    full_rows = full.members.select("id", "cluster_id").collect()
    full_seconds = time.perf_counter() - started
    full_peak = memory.reset()
    full_shuffle = _shuffle_since(spark, before)
    memory.stop()
    incremental_groups = _groups_with(rows, new_ids)
    full_groups = _groups_with(full_rows, new_ids)
    figures = {
        "size": size,
        "old": size - len(new_ids),
        "new": len(new_ids),
        "batch_days": batch_days,
        "master": master,
        "first": _run_figures(first, first_seconds, first_shuffle) | {"write": first_write},
        "first_peak_mib": first_peak / 2**20,
        "incremental": _run_figures(run, run_seconds, shuffle) | {"write": write_seconds},
        "incremental_peak_mib": run_peak / 2**20,
        "full": _run_figures(full, full_seconds, full_shuffle),
        "full_peak_mib": full_peak / 2**20,
        "clusters_with_new": len(incremental_groups),
        "equal_to_full": incremental_groups == full_groups,
    }
    spark.stop()
    return figures


_CORPUS_NOTES = {
    BEGIN: (
        "`--engine spark` beside the local path (`make bench-spark`)",
        "Same seeded corpus as `make bench` (written as JSON Lines and read by Spark); the "
        "local path runs first in the same process.",
    ),
    SCALE_BEGIN: (
        "`--engine spark` beside the local path on `make bench-scale`'s corpus",
        "The corpus of `make bench-scale` (seeded pseudo-language, one outlet per 500 "
        "articles, so candidate pairs per article stay constant as it grows and 1M measures "
        "the engine, not the corpus). The local path is the CLI, `dedupe cluster FILE "
        "--format json` (peak memory: its own peak RSS), in its own process; then Spark reads "
        "the same file in another process, with checkpoints in a local directory.",
    ),
}


def _markdown(
    results: list[dict[str, Any]], command: str, not_run: list[int], begin: str = BEGIN
) -> str:
    title, corpus_note = _CORPUS_NOTES[begin]
    lines = [
        *heading(
            begin,
            title,
            command,
            "; shared with other engineers' test and benchmark runs while measured, so "
            "absolute times are noisy",
        ),
        f"{corpus_note} Spark peak memory = summed RSS of the whole process tree (driver, "
        "JVM, Python workers). Shuffle = bytes written by the shuffle map stages of the "
        "stage's jobs (Spark UI REST API).",
        "",
        "| articles | engine | wall s | docs/s | peak memory MiB | shuffle written MiB | "
        "clusters equal to local | pair F1 |",
        "| ---: | --- | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r['size']:,} | local (2 workers) | {r['local_seconds']:.1f} | "
            f"{r['size'] / r['local_seconds']:,.0f} | {r['local_peak_mib']:,.0f} | - | - | - |"
        )
        lines.append(
            f"| {r['size']:,} | spark {r['master']} | {r['spark_seconds']:.1f} | "
            f"{r['size'] / r['spark_seconds']:,.0f} | {r['spark_peak_mib']:,.0f} | "
            f"{r['shuffle_total'] / 2**20:,.0f} | {'yes' if r['equal_to_local'] else 'NO'} | "
            f"{r['f1']:.4f} |"
        )
    lines += [
        "",
        "Per stage (Spark stages are materialized one after another; local stage times from "
        + (
            "the CLI's `--verbose` stage lines):"
            if begin == SCALE_BEGIN
            else "`RunResult.stages`):"
        ),
        "",
        "| articles | stage | spark s | local s | out | shuffle written MiB | shuffle read MiB |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        local = {s["name"]: s["seconds"] for s in r["local_stages"]}
        for s in r["spark_stages"]:
            lines.append(
                f"| {r['size']:,} | {s['name']} | {s['seconds']:.1f} | "
                f"{local.get(s['name'], 0.0):.1f} | {s['items_out']:,} | "
                f"{s['shuffle_write'] / 2**20:,.1f} | {s['shuffle_read'] / 2**20:,.1f} |"
            )
    if not_run:
        sizes = ", ".join(f"{n:,}" for n in not_run)
        lines += ["", f"Not run in this measurement: {sizes} articles (see the notes below)."]
    if begin == SCALE_BEGIN and results:
        lines += _growth(results) + _paper_estimate(results[-1])
    lines += [SCALE_END if begin == SCALE_BEGIN else END, ""]
    return "\n".join(lines)


PAPER_ARTICLES = 300_000_000
PAPER_CORES = 800  # 100 executors x 8 cores


def _growth(results: list[dict[str, Any]]) -> list[str]:
    """How Spark's and the local path's time grew from one size to the next."""
    lines = []
    for small, big in itertools.pairwise(results):
        factor = big["size"] / small["size"]
        before = {s["name"]: s["seconds"] for s in small["spark_stages"]}
        stages = ", ".join(
            f"{s['name']} {s['seconds'] / before[s['name']]:.1f}x"
            for s in big["spark_stages"]
            if before.get(s["name"])
        )
        lines += [
            "",
            f"From {small['size']:,} to {big['size']:,} articles ({factor:g}x): Spark's wall "
            f"time grew {big['spark_seconds'] / small['spark_seconds']:.1f}x ({stages}), the "
            f"local path's {big['local_seconds'] / small['local_seconds']:.1f}x; Spark's "
            f"shuffle {big['shuffle_total'] / max(small['shuffle_total'], 1):.1f}x.",
        ]
    return lines


def _paper_estimate(r: dict[str, Any]) -> list[str]:
    """Core-hours and shuffle for 300M articles, scaled linearly from the run of ``r``.

    Core-seconds = wall seconds x the cores of the master (local[N]): stages run one after
    another, each using every core, so this is pessimistic (the driver and the JVM share them).
    """
    match = re.fullmatch(r"local\[(\d+|\*)\]", r["master"])
    if match is None:
        return []
    cores = (os.cpu_count() or 1) if match.group(1) == "*" else int(match.group(1))
    scale = PAPER_ARTICLES / r["size"]
    rows = [("read JSONL + count", r["spark_read_seconds"], 0)] + [
        (s["name"], s["seconds"], s["shuffle_write"]) for s in r["spark_stages"]
    ]
    lines = [
        "",
        f"Paper estimate for {PAPER_ARTICLES / 1e6:,.0f}M articles, scaled linearly from the "
        f"{r['size']:,}-article Spark run above ({cores} cores: core-seconds = {cores} x wall "
        "seconds):",
        "",
        f"| stage | core-s per {r['size']:,} | core-hours for 300M | shuffle GiB per "
        f"{r['size']:,} | shuffle TiB for 300M |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    total_core_s = total_bytes = 0.0
    for name, seconds, written in rows:
        total_core_s += seconds * cores
        total_bytes += written
        lines.append(
            f"| {name} | {seconds * cores:,.0f} | {seconds * cores * scale / 3600:,.0f} | "
            f"{written / 2**30:,.2f} | {written * scale / 2**40:,.1f} |"
        )
    hours = total_core_s * scale / 3600
    lines += [
        f"| **total** | **{total_core_s:,.0f}** | **{hours:,.0f}** | "
        f"**{total_bytes / 2**30:,.2f}** | **{total_bytes * scale / 2**40:,.1f}** |",
        "",
        f"On {PAPER_CORES} cores (e.g. 100 executors x 8): {hours / PAPER_CORES:.1f} h of "
        "compute before shuffle I/O, skew and retries.",
    ]
    return lines


INCREMENTAL_BEGIN = "<!-- spark-incremental:begin -->"
INCREMENTAL_END = "<!-- spark-incremental:end -->"


def _incremental_markdown(r: dict[str, Any], command: str) -> str:
    runs = [
        ("first run: old articles, no state yet", r["first"], r["old"], r["first_peak_mib"]),
        (
            "daily run: new batch against the state",
            r["incremental"],
            r["new"],
            r["incremental_peak_mib"],
        ),
        ("full run: old + new, no state", r["full"], r["size"], r["full_peak_mib"]),
    ]
    lines = [
        *heading(
            INCREMENTAL_BEGIN,
            "Daily incremental runs (`--spark-state`) beside a full run",
            command,
            f"; Spark {r['master']}",
        ),
        f"Same seeded corpus as `make bench`, {r['size']:,} articles over 60 days of "
        f"publication time. The last {r['batch_days']:g} days ({r['new']:,} articles) are "
        f"the new batch, the {r['old']:,} before them the state, built by a first run "
        "(`run_incremental` without a state, then `write_state`). The daily run reads the "
        "state, clusters the batch against it and writes the next state; the full run "
        "clusters old + new from scratch (`run_spark`), what a user without a state would "
        "run. Retention is set long (`backend.spark_state_days`) so that the state keeps "
        "every old article and the full run is the daily run's oracle.",
        "",
        "| run | articles read | wall s (clustering) | s writing the state | peak memory MiB "
        "| shuffle written MiB |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, run, count, peak in runs:
        write = f"{run['write']:.1f}" if "write" in run else "-"
        lines.append(
            f"| {label} | {count:,} | {run['seconds']:.1f} | {write} | {peak:,.0f} | "
            f"{run['shuffle_total'] / 2**20:,.0f} |"
        )
    daily = r["incremental"]["seconds"] + r["incremental"]["write"]
    lines += [
        "",
        f"Daily run (clustering + writing the state) / full run: "
        f"{daily / r['full']['seconds']:.2f}x the wall time. Clusters holding a new "
        f"article: {r['clusters_with_new']:,}; equal to the full run's: "
        f"{'yes' if r['equal_to_full'] else 'NO'}.",
        "",
        "Per stage:",
        "",
        "| stage | daily run s | full run s | daily shuffle MiB | full shuffle MiB |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    full = {s["name"]: s for s in r["full"]["stages"]}
    names = [s["name"] for s in r["incremental"]["stages"]]
    names += [n for n in full if n not in names]
    daily_stages = {s["name"]: s for s in r["incremental"]["stages"]}
    for name in names:
        d, f = daily_stages.get(name), full.get(name)
        lines.append(
            f"| {name} | {d['seconds'] if d else 0:.1f} | {f['seconds'] if f else 0:.1f} | "
            f"{(d['shuffle_write'] if d else 0) / 2**20:,.1f} | "
            f"{(f['shuffle_write'] if f else 0) / 2**20:,.1f} |"
        )
    lines += [INCREMENTAL_END, ""]
    return "\n".join(lines)


def _write(output: Path, section: str, begin: str = BEGIN, end: str = END) -> None:
    replace_section(output, section, begin, end)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--output", type=Path)
    parser.add_argument(
        "--incremental",
        type=int,
        metavar="N",
        help="instead of --sizes: a daily --spark-state run on N articles beside a full run",
    )
    parser.add_argument("--batch-days", type=float, default=2.0)
    parser.add_argument(
        "--corpus",
        choices=("make-bench", "scale"),
        default="make-bench",
        help="make bench's CSTNews-based corpus, or make bench-scale's (generated in --workdir)",
    )
    from benchmarks.scale import DEFAULT_WORKDIR

    parser.add_argument(
        "--workdir",
        type=Path,
        default=DEFAULT_WORKDIR,
        help="with --corpus scale: where corpora, reports and Spark's files are kept",
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--spark-file", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.one, args.seed, args.master)))
        return 0
    if args.spark_file:
        corpus_path, groups_path = args.spark_file
        print(json.dumps(spark_file(corpus_path, groups_path, args.master)))
        return 0
    command = "python -m benchmarks.spark_bench " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    if args.incremental:
        result = measure_incremental(args.incremental, args.batch_days, args.seed, args.master)
        print(json.dumps(result, indent=1), file=sys.stderr)
        section = _incremental_markdown(result, command.strip())
        if args.output:
            _write(args.output, section, INCREMENTAL_BEGIN, INCREMENTAL_END)
        else:
            print(section)
        return 0 if result["equal_to_full"] else 1
    if args.corpus == "scale":
        return _main_scale(args, command.strip())
    results, not_run = [], []
    for size in (int(s) for s in args.sizes.split(",")):
        print(f"bench-spark: {size:,} articles ...", file=sys.stderr, flush=True)
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.spark_bench",
                "--one",
                str(size),
                "--seed",
                str(args.seed),
                "--master",
                args.master,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            print(done.stderr[-5000:], file=sys.stderr)
            not_run.append(size)
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        results.append(result)
        print(json.dumps(result, indent=1), file=sys.stderr)
    section = _markdown(results, command.strip(), not_run)
    if args.output:
        _write(args.output, section)
    else:
        print(section)
    return 0 if results else 1


def _main_scale(args: argparse.Namespace, command: str) -> int:
    args.workdir.mkdir(parents=True, exist_ok=True)
    results, not_run = [], []
    for size in (int(s) for s in args.sizes.split(",")):
        try:
            result = measure_scale(size, args.workdir, args.master)
        except RuntimeError as exc:
            print(f"bench-spark: {size:,} articles not measured: {exc}", file=sys.stderr)
            not_run.append(size)
            continue
        results.append(result)
        print(json.dumps(result, indent=1), file=sys.stderr, flush=True)
        # Each size's figures are kept as soon as they exist: a 1M run takes over an hour.
        (args.workdir / f"spark-{size}.result.json").write_text(json.dumps(result))
    section = _markdown(results, command, not_run, SCALE_BEGIN)
    if args.output:
        _write(args.output, section, SCALE_BEGIN, SCALE_END)
    else:
        print(section)
    return 0 if results and all(r["equal_to_local"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
