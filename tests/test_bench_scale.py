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


def test_spark_scale_section_replaces_only_itself(tmp_path: Path) -> None:
    from benchmarks.markdown import replace_section
    from benchmarks.spark_bench import BEGIN, END, SCALE_BEGIN, SCALE_END, _markdown

    stage = {"name": "verify", "seconds": 2.0, "items_out": 5}
    stage |= {"shuffle_write": 0, "shuffle_read": 0}
    result = {
        "size": 400,
        "master": "local[2]",
        "local_seconds": 1.0,
        "local_peak_mib": 100,
        "local_stages": [{"name": "verify", "seconds": 0.5}],
        "spark_seconds": 4.0,
        "spark_read_seconds": 0.5,
        "spark_peak_mib": 900.0,
        "spark_stages": [stage],
        "shuffle_total": 0,
        "equal_to_local": True,
        "f1": 1.0,
    }
    bigger = result | {"size": 800, "spark_seconds": 9.0}
    bigger["spark_stages"] = [stage | {"seconds": 5.0}]
    output = tmp_path / "BENCHMARKS.md"
    output.write_text(f"notes\n{BEGIN}\nmake bench corpus\n{END}\nmore notes\n", encoding="utf-8")
    for _ in range(2):  # the second run replaces the first one's section
        section = _markdown([result, bigger], "cmd", [], SCALE_BEGIN)
        replace_section(output, section, SCALE_BEGIN, SCALE_END)
    text = output.read_text(encoding="utf-8")
    assert text.count(SCALE_BEGIN) == 1 and text.count(SCALE_END) == 1
    assert "make bench corpus" in text and "more notes" in text
    assert "make bench-scale`'s corpus" in text and "| 400 | verify | 2.0 | 0.5 |" in text
    assert "From 400 to 800 articles (2x): Spark's wall time grew 2.2x (verify 2.5x)" in text
    # 300M / 800 articles x 5 s x 2 cores of local[2], in hours:
    assert "| verify | 10 | 1,042 |" in text
