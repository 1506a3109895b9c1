"""`make bench-scale`: `dedupe cluster` on a JSONL file of 100k and 1M articles, as a user runs it.

Issue #2 asks that 1M articles be clusterable on one 24 GiB machine with near-linear growth of
time. This measures exactly that, through the CLI a user runs
(``dedupe cluster corpus.jsonl --format json -o clusters.json``): wall time per stage and end
to end, the CLI process's peak RSS, and pair precision/recall/F1 against the generator's truth.

Two choices differ from ``benchmarks.run``, both so that the growth measured is the pipeline's
and not the corpus's:

- the base text is the seeded pseudo-language, not CSTNews: 2,012 real sentences spread over
  1M articles would make every article share half-sentences with thousands of unrelated ones;
- the number of outlets grows with the corpus (one per 500 articles, at least 200), so an
  outlet's footer is shared by the same number of unrelated articles at every size, as in a
  real archive where more articles means more outlets.

The corpus is generated in its own subprocess and written to ``--workdir`` (kept between
runs: a 1M file takes ~4 min to generate), so its memory is not counted against dedupe's.

Usage:
    python -m benchmarks.scale --sizes 100000,1000000 --output BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.markdown import heading, replace_section
from dedupe.pipeline import STAGE_NAMES as STAGES

BEGIN = "<!-- scale-bench:begin -->"
END = "<!-- scale-bench:end -->"
SEED = 1
ARTICLES_PER_OUTLET = 500
# Kept between runs (a 1M corpus takes ~4 min to generate); make bench-spark reads it too.
DEFAULT_WORKDIR = Path(os.environ.get("TMPDIR", "/tmp")) / "dedupe-bench-scale"
STAGE_LINE = re.compile(
    r"dedupe: (?P<name>\w+)\s+(?P<into>\d+) in\s+(?P<out>\d+) out\s+(?P<seconds>[\d.]+)s"
    r"\s+peak RSS\s+(?P<rss>\d+) MiB"
)


def num_outlets(size: int) -> int:
    """Outlets for a corpus of ``size`` articles: the same articles per outlet at every size."""
    return max(200, size // ARTICLES_PER_OUTLET)


def write_corpus(size: int, corpus_path: Path, truth_path: Path) -> None:
    """Generate the corpus and write it as JSON Lines, with its truth beside it."""
    from benchmarks.synthetic import generate_corpus

    corpus = generate_corpus(size, seed=SEED, base_sentences=None, num_outlets=num_outlets(size))
    partial = corpus_path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8") as out:
        for record in corpus.records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    partial.replace(corpus_path)
    truth_path.write_text(json.dumps(corpus.truth), encoding="utf-8")


def corpus_paths(size: int, workdir: Path) -> tuple[Path, Path]:
    """The corpus of ``size`` articles and its truth in ``workdir``, generated if missing."""
    corpus_path = workdir / f"scale-{size}-seed{SEED}.jsonl"
    truth_path = workdir / f"scale-{size}-seed{SEED}.truth.json"
    if not (corpus_path.exists() and truth_path.exists()):
        print(f"bench-scale: generating {size:,} articles ...", file=sys.stderr, flush=True)
        subprocess.run(
            [sys.executable, "-m", "benchmarks.scale", "--write", str(size), str(workdir)],
            check=True,
        )
    return corpus_path, truth_path


def measure(size: int, workdir: Path) -> dict[str, Any]:
    """Run ``dedupe cluster`` on the corpus of ``size`` articles and score its clusters."""
    from benchmarks.metrics import adjusted_rand, pair_scores

    corpus_path, truth_path = corpus_paths(size, workdir)
    report_path = workdir / f"scale-{size}.clusters.json"
    command = [
        sys.executable, "-m", "dedupe", "cluster", str(corpus_path),
        "--format", "json", "-o", str(report_path), "--quiet", "--verbose",
    ]  # fmt: skip
    print(f"bench-scale: clustering {size:,} articles ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    child = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    assert child.stderr is not None
    stderr = child.stderr.read()
    # wait4 gives this child's own peak RSS (the whole run, report writing included); the
    # generator subprocess's would pollute RUSAGE_CHILDREN.
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    returncode = os.waitstatus_to_exitcode(status)
    if returncode != 0:
        raise RuntimeError(f"dedupe cluster failed ({returncode}):\n{stderr}")
    stages: list[dict[str, Any]] = [
        {
            "name": m["name"],
            "seconds": float(m["seconds"]),
            "items_out": int(m["out"]),
            "peak_rss_mib": int(m["rss"]),
        }
        for m in STAGE_LINE.finditer(stderr)
    ]
    if [s["name"] for s in stages] != list(STAGES):
        raise RuntimeError(f"expected the CLI's --verbose stage lines {STAGES}, got:\n{stderr}")
    staged = sum(float(s["seconds"]) for s in stages)
    report = json.loads(report_path.read_text(encoding="utf-8"))
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    predicted = [[m["id"] for m in c["members"]] for c in report["clusters"]]
    quality = pair_scores(predicted, truth)
    return {
        "size": size,
        "outlets": num_outlets(size),
        "corpus_mib": corpus_path.stat().st_size / 2**20,
        "wall_seconds": wall,
        "read_and_write_seconds": wall - staged,
        "docs_per_second": size / wall,
        "stages": stages,
        "peak_rss_mib": usage.ru_maxrss // 1024,  # Linux: KiB
        "articles_read": report["summary"]["articles_read"],
        "clusters": report["summary"]["clusters"],
        "pairs": len(report["pairs"]),
        "precision": quality.precision,
        "recall": quality.recall,
        "f1": quality.f1,
        "ari": adjusted_rand(predicted, truth),
    }


def _markdown(results: list[dict[str, Any]], command: str) -> str:
    title = "`dedupe cluster` from a JSONL file at 100k and 1M articles (`make bench-scale`)"
    lines = [
        *heading(BEGIN, title, command),
        "What a user runs: `dedupe cluster corpus.jsonl --format json -o clusters.json`, one "
        "process from reading the file to writing the report. Corpus: `benchmarks/synthetic.py`, "
        f"seed {SEED}, pseudo-language base text, one outlet per {ARTICLES_PER_OUTLET} articles "
        "(see `benchmarks/scale.py` for why these differ from `make bench`).",
        "",
        "| articles | outlets | file MiB | wall s | docs/s | read + write s | peak RSS MiB "
        "| pair precision | pair recall | pair F1 | ARI | clusters |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r['size']:,} | {r['outlets']:,} | {r['corpus_mib']:,.0f} | "
            f"{r['wall_seconds']:.0f} | {r['docs_per_second']:,.0f} | "
            f"{r['read_and_write_seconds']:.0f} | {r['peak_rss_mib']:,} | "
            f"{r['precision']:.4f} | {r['recall']:.4f} | {r['f1']:.4f} | {r['ari']:.4f} | "
            f"{r['clusters']:,} |"
        )
    lines += [
        "",
        "| articles | stage | seconds | out | peak RSS MiB after it |",
        "| ---: | --- | ---: | ---: | ---: |",
    ]
    for r in results:
        for s in r["stages"]:
            lines.append(
                f"| {r['size']:,} | {s['name']} | {s['seconds']:.1f} | {s['items_out']:,} | "
                f"{s['peak_rss_mib']:,} |"
            )
    if len(results) >= 2:
        small, large = results[0], results[-1]
        growth = large["size"] / small["size"]
        lines += [
            "",
            f"Growth from {small['size']:,} to {large['size']:,} articles ({growth:.0f}x): "
            f"wall time {large['wall_seconds'] / small['wall_seconds']:.1f}x, "
            f"peak RSS {large['peak_rss_mib'] / max(small['peak_rss_mib'], 1):.1f}x.",
        ]
    lines += [END, ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated corpus sizes")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=DEFAULT_WORKDIR,
        help="where the generated corpora and reports are kept",
    )
    parser.add_argument("--output", type=Path, help="update this Markdown file")
    parser.add_argument("--write", nargs=2, metavar=("SIZE", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.write:
        size, workdir = int(args.write[0]), Path(args.write[1])
        write_corpus(
            size,
            workdir / f"scale-{size}-seed{SEED}.jsonl",
            workdir / f"scale-{size}-seed{SEED}.truth.json",
        )
        return 0
    args.workdir.mkdir(parents=True, exist_ok=True)
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        result = measure(size, args.workdir)
        results.append(result)
        print(
            f"bench-scale: {size:,}: {result['wall_seconds']:.0f} s, "
            f"{result['docs_per_second']:,.0f} docs/s, F1 {result['f1']:.4f}, "
            f"peak RSS {result['peak_rss_mib']:,} MiB",
            file=sys.stderr,
            flush=True,
        )
    command = "python -m benchmarks.scale " + " ".join(argv if argv is not None else sys.argv[1:])
    section = _markdown(results, command.strip())
    if args.output:
        replace_section(args.output, section, BEGIN, END)
    else:
        print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
