"""``dedupe index recover``: copy what can still be read from a damaged SQLite index.

A crash cannot damage a WAL-mode SQLite file, but a disk fault, a truncated copy or another
program writing into it can. Then the index refuses to open (with a message that names this
command) instead of answering from a broken state. Recovery reads articles in ``seq`` order,
a chunk at a time; a chunk that fails is retried article by article, so one bad page costs
only the articles stored on it. Each recovered article keeps its id, times, group, verdict and
band keys; document frequencies rebuild themselves from the recovered articles.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path

import numpy as np

from dedupe.config import Config
from dedupe.errors import DedupeError, UsageError
from dedupe.index.core import index_params
from dedupe.index.sqlite_store import _COLUMNS, CorruptIndexError, SqliteStore, _stored
from dedupe.index.store import StoredArticle

_CHUNK = 500
# Consecutive unreadable chunks after the last known seq before giving up on finding more.
_GIVE_UP_CHUNKS = 20


def recover_sqlite(broken: str, new: str, config: Config) -> str:
    """Copy every readable article of ``broken`` into a new index at ``new``; say what happened."""
    source = Path(broken)
    target = Path(new)
    if not source.is_file():
        raise UsageError(f"{source}: no such index file")
    if target.exists():
        raise UsageError(f"{target}: already exists; recover into a new file")
    try:
        db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    except sqlite3.DatabaseError as exc:
        raise DedupeError(f"{source}: cannot be opened at all ({exc})") from None
    try:
        _check_params(db, source, config)
        last_seq = _last_seq(db)
        store = SqliteStore(target, create=True)
        from dedupe.index.core import Index

        Index(store, config, create=True)  # writes the metadata of the new index
        copied = skipped = 0
        seq = 0
        misses = 0
        while True:
            rows, next_seq, bad = _read_chunk(db, source, seq)
            skipped += bad
            if rows:
                with store.transaction(write=True):
                    for article in rows:
                        keys = _keys(article)
                        blob = np.asarray(keys, dtype="<u8").tobytes()
                        store.insert(dataclasses.replace(article, keys=blob), keys)
                copied += len(rows)
            if next_seq <= seq:
                break
            seq = next_seq
            misses = misses + 1 if not rows else 0
            if seq >= last_seq and misses >= _GIVE_UP_CHUNKS:
                break
        store.close()
    finally:
        db.close()
    return (
        f"recovered {copied} articles into {target}; {skipped} unreadable articles or chunks "
        f"skipped. Check it with: dedupe index verify {target}"
    )


def _check_params(db: sqlite3.Connection, source: Path, config: Config) -> None:
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'params'").fetchone()
    except sqlite3.DatabaseError:
        return  # unreadable metadata: trust the settings given
    if row is None:
        return
    stored = json.loads(row[0])
    wanted = index_params(config)
    differ = sorted(k for k in set(stored) | set(wanted) if stored.get(k) != wanted.get(k))
    if differ:
        raise UsageError(
            f"{source}: was built with other settings ({', '.join(differ)}); "
            "recover with the config it was built with (--config)"
        )


def _last_seq(db: sqlite3.Connection) -> int:
    for sql in (
        "SELECT seq FROM sqlite_sequence WHERE name = 'articles'",
        "SELECT max(seq) FROM articles",
    ):
        try:
            row = db.execute(sql).fetchone()
        except sqlite3.DatabaseError:
            continue
        if row and row[0] is not None:
            return int(row[0])
    return 0


def _read_chunk(
    db: sqlite3.Connection, source: Path, after: int
) -> tuple[list[StoredArticle], int, int]:
    """Articles with seq in (after, after + chunk]; the next start; how many were unreadable."""
    top = after + _CHUNK
    try:
        rows = db.execute(
            f"SELECT {_COLUMNS} FROM articles WHERE seq > ? AND seq <= ? ORDER BY seq",
            (after, top),
        ).fetchall()
    except sqlite3.DatabaseError:
        rows = None
    if rows is not None:
        return _decode(rows, source), top, _undecodable(rows, source)
    # The range holds a damaged page: read its articles one by one.
    found: list[StoredArticle] = []
    bad = 0
    for seq in range(after + 1, top + 1):
        try:
            row = db.execute(f"SELECT {_COLUMNS} FROM articles WHERE seq = ?", (seq,)).fetchone()
        except sqlite3.DatabaseError:
            bad += 1
            continue
        if row is not None:
            found.extend(_decode([row], source))
            bad += _undecodable([row], source)
    return found, top, bad


def _decode(rows: list[tuple[object, ...]], source: Path) -> list[StoredArticle]:
    out = []
    for row in rows:
        try:
            out.append(_stored(str(source), row, thorough=True))
        except (CorruptIndexError, ValueError, TypeError):
            continue
    return out


def _undecodable(rows: list[tuple[object, ...]], source: Path) -> int:
    return len(rows) - len(_decode(rows, source))


def _keys(article: StoredArticle) -> list[int]:
    # Unique keys: a damaged but readable blob must not stop the copy of its article.
    keys: list[int] = np.unique(np.frombuffer(article.keys, dtype="<u8")).tolist()
    return keys
