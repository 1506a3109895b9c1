"""The scale benchmark measures a real `dedupe cluster` run (tiny corpus here)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.scale import STAGES, _markdown, measure


def test_scale_bench_runs_the_cli_and_scores_its_clusters(tmp_path: Path) -> None:
    result = measure(400, tmp_path)
    assert tuple(s["name"] for s in result["stages"]) == STAGES
    assert result["articles_read"] == 400 and result["clusters"] > 0
    assert result["peak_rss_mib"] > 0 and result["wall_seconds"] > 0
    assert result["f1"] >= 0.9
    table = _markdown([result], "python -m benchmarks.scale --sizes 400")
    assert "| 400 | 200 |" in table and "| 400 | verify |" in table
    # A second run reuses the generated corpus.
    corpus = next(tmp_path.glob("scale-400-*.jsonl"))
    before = corpus.stat().st_mtime_ns
    measure(400, tmp_path)
    assert corpus.stat().st_mtime_ns == before
