"""Writing a benchmark's section into BENCHMARKS.md without touching the others."""

from __future__ import annotations

import os
import platform
import time
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


def machine() -> str:
    """CPU, cores, memory and Python of this machine, for a section's header."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, Python {platform.python_version()}"


def heading(begin: str, title: str, command: str, machine_note: str = "") -> list[str]:
    """The first lines of a section: marker, title, command, machine and date."""
    return [
        begin,
        f"## {title}",
        "",
        f"Command: `{command}`  ",
        f"Machine: {machine()}{machine_note}  ",
        f"Date: {time.strftime('%Y-%m-%d')}",
        "",
    ]
