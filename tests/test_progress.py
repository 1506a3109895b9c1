"""Progress on stderr: shown on a terminal, silent otherwise."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from dedupe import cluster_articles, read_paths
from dedupe.pipeline import STAGE_NAMES

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_sees_the_records_read_and_every_stage_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    loaded = read_paths([EXAMPLES], progress=True)
    cluster_articles(loaded.articles, progress=True)
    shown = terminal.getvalue()
    assert "read: 0 records" in shown  # tqdm redraws the count at most ~10 times a second
    for number, name in enumerate(STAGE_NAMES, start=1):
        assert f"dedupe: stage {number}/{len(STAGE_NAMES)}: {name}" in shown


@pytest.mark.parametrize("stderr", [_Terminal(), io.StringIO()], ids=["quiet", "not-a-tty"])
def test_no_progress_when_quiet_or_not_a_terminal(
    monkeypatch: pytest.MonkeyPatch, stderr: io.StringIO
) -> None:
    monkeypatch.setattr(sys, "stderr", stderr)
    enabled = not isinstance(stderr, _Terminal)  # quiet: a terminal, progress off
    loaded = read_paths([EXAMPLES], progress=enabled)
    cluster_articles(loaded.articles, progress=enabled)
    assert stderr.getvalue() == ""
