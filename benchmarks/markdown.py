"""Writing a benchmark's section into BENCHMARKS.md without touching the others."""

from __future__ import annotations

from pathlib import Path

HEADER = "# Benchmarks\n\nFigures measured by `make bench`; rerun it to refresh them.\n\n"


def replace_section(output: Path, section: str, begin: str, end: str) -> None:
    """Put ``section`` (which starts with ``begin`` and ends with ``end``) into ``output``.

    The text between an existing ``begin``/``end`` pair is replaced in place, so hand-written
    notes around it survive a rerun; without a pair the section is appended.
    """
    text = output.read_text(encoding="utf-8") if output.exists() else HEADER
    if begin in text and end in text:
        before, rest = text.split(begin, 1)
        after = rest.split(end, 1)[1].lstrip("\n")
        text = before + section + after
    else:
        text = text.rstrip("\n") + "\n\n" + section
    output.write_text(text, encoding="utf-8")
