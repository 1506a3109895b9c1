"""The pre-filter: a persistent index each new article is checked against and added to.

Example:
    >>> import dedupe
    >>> with dedupe.open_index("news.idx") as idx:  # doctest: +SKIP
    ...     verdict = idx.add(dedupe.Article(id="a1", text="..."))
    ...     verdict.status
    'unique'
"""

from __future__ import annotations

from pathlib import Path

from dedupe.config import Config
from dedupe.index.core import Index, index_params, open_store
from dedupe.index.records import STATUSES, IndexStats, Match, Status, Verdict


def open_index(location: str | Path, config: Config | None = None, *, create: bool = True) -> Index:
    """Open (or create) an index: a SQLite file path, or a ``redis://host:port/db`` URL.

    Args:
        location: Where the index lives.
        config: Settings (the defaults of ``config.yaml`` when None). The shingling, MinHash
            and LSH settings must equal those the index was built with.
        create: Create the index when it does not exist yet.

    Raises:
        UsageError: the index was built with other settings or another schema version.
        DedupeError: the index cannot be opened (missing, damaged, server unreachable).
    """
    config = config or Config()
    store = open_store(
        location,
        create=create,
        busy_timeout=config.index.busy_timeout_seconds,
        on_redis_down=config.index.on_redis_down,
        redis_retry_seconds=config.index.redis_retry_seconds,
        sqlite_mmap_mb=config.index.sqlite_mmap_mb,
    )
    try:
        return Index(store, config, create=create)
    except BaseException:
        store.close()
        raise


__all__ = [
    "STATUSES",
    "Index",
    "IndexStats",
    "Match",
    "Status",
    "Verdict",
    "index_params",
    "open_index",
]
