"""Progress on stderr, only when asked for and stderr is a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def _wanted(enabled: bool) -> bool:
    return enabled and sys.stderr.isatty()


def progress_iter(
    items: Iterable[T], *, enabled: bool, total: int | None, desc: str, unit: str = "batch"
) -> Iterator[T]:
    """Wrap ``items`` in a tqdm bar when enabled and stderr is a TTY, else pass them through.

    ``total=None`` shows a running count (reading a file whose record count is unknown).
    """
    if not _wanted(enabled):
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, total=total, desc=desc, unit=unit, file=sys.stderr, leave=False)


class StageLine:
    """A status line naming the pipeline stage that is running.

    Only the shingle stage has batches to count; the stages after it run as a few large numpy
    calls (minutes each at 1M articles), and without this line the terminal sat silent
    between the shingle bar and the report.
    """

    def __init__(self, *, enabled: bool, total: int) -> None:
        self._bar: Any = None
        self._started = 0
        self._total = total
        if _wanted(enabled):
            from tqdm import tqdm

            # No elapsed time: tqdm redraws only when told, so a clock would sit frozen
            # through a long stage.
            self._bar = tqdm(
                total=total, file=sys.stderr, leave=False, bar_format="dedupe: stage {desc}"
            )

    def start(self, name: str) -> None:
        self._started += 1
        if self._bar is not None:
            self._bar.set_description_str(f"{self._started}/{self._total}: {name}", refresh=True)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
