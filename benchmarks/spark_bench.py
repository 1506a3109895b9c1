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
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks.run import SHARED_TEXTS, _machine

BEGIN = "<!-- spark-bench:begin -->"
END = "<!-- spark-bench:end -->"


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
    from benchmarks.metrics import pair_scores
    from benchmarks.synthetic import generate_corpus, load_cstnews_sentences
    from dedupe import Article, Config, cluster_articles
    from dedupe.readers.records import parse_published

    sentences = load_cstnews_sentences(SHARED_TEXTS)
    corpus = generate_corpus(size, seed=seed, base_sentences=sentences or None)
    config = Config()
    workdir = Path(tempfile.mkdtemp(prefix="dedupe-spark-bench-"))
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

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    from dedupe.spark.engine import run_spark
    from dedupe.spark.io import read_articles

    spark = (
        SparkSession.builder.master(master)
        .appName(f"dedupe-bench-{size}")
        .config("spark.driver.memory", os.environ.get("DEDUPE_SPARK_DRIVER_MEMORY", "14g"))
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.port", "4150")
        .config("spark.local.dir", str(workdir / "spark-local"))
        .config("spark.sql.shuffle.partitions", os.environ.get("DEDUPE_SPARK_PARTITIONS", "16"))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    memory.reset()
    started = time.perf_counter()
    frame, _ = read_articles(spark, [str(path)], config.readers)
    read_seconds = time.perf_counter() - started
    run = run_spark(frame, config)
    assigned = run.members.select("id", "cluster_id").collect()
    spark_seconds = time.perf_counter() - started
    spark_peak = memory.reset()
    memory.stop()
    groups: dict[str, list[str]] = {}
    for row in assigned:
        groups.setdefault(row["cluster_id"], []).append(row["id"])
    spark_groups = sorted(tuple(sorted(g)) for g in groups.values())
    shuffle = _shuffle_by_group(spark)
    quality = pair_scores(spark_groups, corpus.truth)
    figures = {
        "size": size,
        "master": master,
        "base_text": "cstnews sentences" if sentences else "pseudo-words",
        "local_seconds": local_seconds,
        "local_peak_mib": local_peak / 2**20,
        "local_stages": local_stages,
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
        "clusters": len(spark_groups),
        "equal_to_local": spark_groups == local_groups,
        "f1": quality.f1,
    }
    spark.stop()
    return figures


def _markdown(results: list[dict[str, Any]], command: str, not_run: list[int]) -> str:
    lines = [
        BEGIN,
        "## `--engine spark` beside the local path (`make bench-spark`)",
        "",
        f"Command: `{command}`  ",
        f"Machine: {_machine()}; shared with other engineers' test and benchmark runs while "
        "measured, so absolute times are noisy  ",
        f"Date: {time.strftime('%Y-%m-%d')}",
        "",
        "Same seeded corpus as `make bench` (written as JSON Lines and read by Spark); the "
        "local path runs first in the same process. Peak memory = summed RSS of the whole "
        "process tree (driver, JVM, Python workers). Shuffle = bytes written by the shuffle "
        "map stages of the stage's jobs (Spark UI REST API).",
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
        "`RunResult.stages`):",
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
    lines += [END, ""]
    return "\n".join(lines)


def _write(output: Path, section: str) -> None:
    text = output.read_text(encoding="utf-8") if output.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        after = rest.split(END, 1)[1].lstrip("\n")
        text = before + section + after
    else:
        text = text.rstrip("\n") + "\n\n" + section
    output.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--output", type=Path)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.one, args.seed, args.master)))
        return 0
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
    command = "python -m benchmarks.spark_bench " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    section = _markdown(results, command.strip(), not_run)
    if args.output:
        _write(args.output, section)
    else:
        print(section)
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main())
