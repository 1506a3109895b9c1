"""Progress bars on stderr, only when asked for and stderr is a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def progress_iter(items: Iterable[T], *, enabled: bool, total: int, desc: str) -> Iterator[T]:
    """Wrap ``items`` in a tqdm bar when enabled and stderr is a TTY, else pass them through."""
    if not enabled or not sys.stderr.isatty():
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, total=total, desc=desc, unit="batch", file=sys.stderr, leave=False)
