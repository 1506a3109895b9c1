"""The add-ceiling benchmark compares the shipped store with in-memory lookups (tiny index)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.add_ceiling import BEGIN, END, main


def test_in_memory_lookups_give_the_same_verdicts_and_a_report(tmp_path: Path) -> None:
    output = tmp_path / "BENCHMARKS.md"
    output.write_text("# Benchmarks\n\nkept by hand\n", encoding="utf-8")
    argv = [
        "--size",
        "300",
        "--adds",
        "80",
        "--warmup",
        "20",
        "--rounds",
        "1",
        "--workdir",
        str(tmp_path / "w"),
    ]
    # Exit 0 only when both modes gave byte-identical verdicts for the 80 adds.
    assert main([*argv, "--output", str(output)]) == 0
    text = output.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nkept by hand\n")
    section = text[text.index(BEGIN) : text.index(END)]
    assert "| 1 | disk |" in section and "| 1 | memory |" in section
    assert "Verdicts of every run byte-identical: yes" in section
    assert "300 signatures" in section
    # The copies made for each run are removed; the base index and corpus stay in --workdir.
    assert sorted(p.name for p in (tmp_path / "w").iterdir()) == ["base.idx", "corpus.jsonl"]


def test_a_second_run_in_the_same_folder_builds_its_index_again(tmp_path: Path) -> None:
    # The index left by the first run holds ids the second run adds: reusing it would time
    # no-op adds of known ids (thousands per second), not adds.
    argv = ["--workdir", str(tmp_path), "--rounds", "1", "--warmup", "0"]
    assert main([*argv, "--size", "200", "--adds", "60"]) == 0
    assert main([*argv, "--size", "150", "--adds", "100"]) == 0
