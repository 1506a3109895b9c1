"""The embedded backend: one SQLite file in WAL mode.

Why SQLite: a single file that many reader processes and one writer at a time can open
safely, with transactions that survive a killed process (WAL: a commit is in the log before
it returns; ``synchronous=NORMAL`` can lose the last commits only on power loss, never on a
process crash). Writers take the write lock with ``BEGIN IMMEDIATE`` for the whole
check-and-insert of an article, so two writer processes never interleave inside one.

Tables (schema version in ``meta``): ``articles`` (one row per article: id, times, group,
verdict JSON, feature blobs of little-endian arrays, never pickle), ``bands`` (band key ->
seq, clustered on the key so a lookup is one B-tree range) and ``saved_frequencies`` (at most
one row: the document-frequency table a writer last saved, a cache for opening quickly).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import numpy as np

from dedupe.errors import DedupeError
from dedupe.index.scoring import Row, RowDamage, batch_from_blobs
from dedupe.index.store import (
    UNREADABLE_FREQUENCIES,
    CandidateRows,
    SavedFrequencies,
    StoredArticle,
    StoreState,
    bucket_candidates,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    -- Before the big blobs: screening reads these from the row's first page only.
    size INTEGER NOT NULL,
    signature BLOB NOT NULL,
    published REAL,
    added_at REAL NOT NULL,
    cluster TEXT NOT NULL,
    verdict TEXT NOT NULL,
    columns BLOB NOT NULL,
    counts BLOB NOT NULL,
    signed BLOB NOT NULL,
    keys BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_age ON articles (coalesce(published, added_at));
CREATE INDEX IF NOT EXISTS articles_cluster ON articles (cluster);
-- At most one row: the document-frequency table as of seq (see store.SavedFrequencies).
CREATE TABLE IF NOT EXISTS saved_frequencies (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    generation INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    articles INTEGER NOT NULL,
    doc_freq BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS bands (
    key INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (key, seq)
) WITHOUT ROWID;
"""

_U64 = (1 << 64) - 1
_COLUMNS = (
    "seq, id, published, added_at, cluster, verdict, columns, counts, signed, keys, size, signature"
)


class CorruptIndexError(DedupeError):
    """The file is not a readable dedupe index."""


def recovery_hint(path: str) -> str:
    """The documented way out of a damaged index file."""
    return (
        f"recover what can be read with: dedupe index recover {path} {path}.recovered "
        "(then move it into place), or rebuild the index from the original articles"
    )


class SqliteStore:
    """``Store`` on one SQLite file."""

    backend = "sqlite"

    def __init__(
        self, path: str | Path, *, create: bool, busy_timeout: float = 60.0, mmap_bytes: int = 0
    ) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        # Band entries of the open write transaction, written sorted just before COMMIT:
        # one sorted executemany touches each B-tree page once instead of once per entry.
        # Lookups inside the transaction see them through ``_pending``.
        self._pending: dict[int, list[int]] = {}
        if not create and not self.path.exists():
            raise DedupeError(
                f"{self.path}: no index here; create one with: dedupe index add {self.path} FILE"
            )
        if self.path.is_dir():
            raise DedupeError(f"{self.path}: is a folder, not an index file")
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves (BEGIN IMMEDIATE for
            # writers); check_same_thread off so a caller may hand the index to a worker thread
            # (calls are still one at a time per Index).
            self.db = sqlite3.connect(
                self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            # 64 MiB of page cache (SQLite's default is 2 MiB): band lookups and inserts hit
            # random pages of a table of ~100 entries per article. Bounded, so memory stays
            # flat however long the stream.
            self.db.execute("PRAGMA cache_size=-65536")
            # A check reads a few hundred candidate rows spread over the file; through a map
            # they cost no read() call and no copy into the page cache above (index.sqlite_mmap_mb).
            self.db.execute(f"PRAGMA mmap_size={int(mmap_bytes)}")
            self.db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise CorruptIndexError(
                f"{self.path}: cannot open as a dedupe index ({exc}); {recovery_hint(str(path))}"
            ) from None

    def _run(self, sql: str, params: Sequence[object] = ()) -> sqlite3.Cursor:
        try:
            return self.db.execute(sql, params)
        except sqlite3.DatabaseError as exc:
            raise _database_error(self.location, exc) from None

    def read_meta(self) -> dict[str, str]:
        return dict(self._run("SELECT key, value FROM meta").fetchall())

    def init_meta(self, meta: dict[str, str]) -> dict[str, str]:
        with self.transaction(write=True):
            if not self.read_meta():
                self.db.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
        return self.read_meta()

    @contextmanager
    def transaction(self, write: bool) -> Iterator[None]:
        try:
            self.db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        except sqlite3.OperationalError as exc:
            raise DedupeError(f"{self.location}: index is busy or locked ({exc})") from None
        except sqlite3.DatabaseError as exc:
            raise _database_error(self.location, exc) from None
        try:
            yield
            self._flush_bands()
        except BaseException as exc:
            self._pending.clear()
            if self.db.in_transaction:
                with suppress(sqlite3.DatabaseError):
                    self.db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.DatabaseError):
                # Raised while reading rows (outside ``_run``): same clear message.
                raise _database_error(self.location, exc) from None
            raise
        try:
            self.db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise _database_error(self.location, exc) from None

    def state(self) -> StoreState:
        generation = self._run("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        seq = self._run("SELECT seq FROM sqlite_sequence WHERE name = 'articles'").fetchone()
        return StoreState(
            generation=int(generation[0]) if generation else 0,
            last_seq=int(seq[0]) if seq else 0,
        )

    def article_count(self) -> int:
        # count(*) walks a whole index: at 100k articles it cost more than the rest of a
        # check, which is why ``state`` leaves it out.
        return int(self._run("SELECT count(*) FROM articles").fetchone()[0])

    def columns_since(self, seq: int) -> Iterator[tuple[int, bytes]]:
        yield from self._run("SELECT seq, columns FROM articles WHERE seq > ? ORDER BY seq", (seq,))

    def read_frequencies(self) -> SavedFrequencies | None:
        row = self._run(
            "SELECT generation, seq, articles, doc_freq FROM saved_frequencies WHERE one = 1"
        ).fetchone()
        if row is None:
            return None
        generation, seq, articles, doc_freq = row
        numbers = (generation, seq, articles)
        if not all(type(n) is int for n in numbers) or not isinstance(doc_freq, bytes):
            return UNREADABLE_FREQUENCIES  # SQLite stores whatever a column is given
        return SavedFrequencies(generation, seq, articles, doc_freq)

    def write_frequencies(self, saved: SavedFrequencies) -> None:
        self._run(
            "INSERT OR REPLACE INTO saved_frequencies VALUES (1, ?, ?, ?, ?)",
            (saved.generation, saved.seq, saved.articles, saved.doc_freq),
        )

    def bucket_members(self, keys: Sequence[int]) -> dict[int, list[int]]:
        if not keys:
            return {}
        signed = np.asarray(keys, dtype=np.uint64).view(np.int64).tolist()
        marks = ",".join("?" * len(signed))
        out: dict[int, list[int]] = {}
        for key, seq in self._run(
            f"SELECT key, seq FROM bands WHERE key IN ({marks}) ORDER BY key, seq", signed
        ):
            out.setdefault(key & _U64, []).append(seq)  # back to the unsigned key
        if self._pending:
            # Pending seqs are newer than any committed one, so appending keeps seq order.
            for key in keys:
                if key in self._pending:
                    out.setdefault(key, []).extend(self._pending[key])
        return out

    def candidates(self, keys: Sequence[int], cap: int) -> tuple[set[int], list[int]]:
        # Buckets that the open transaction added to (in ``_pending``) are merged in Python;
        # for the others one grouped query walks each key's B-tree range once and returns
        # per key its size, first member and members (a lookup touches ~1,000 (key, seq)
        # entries at 100k articles but only ~100 distinct candidates; grouping in SQLite
        # saves building a Python tuple per entry).
        touched = [k for k in keys if k in self._pending]
        candidates, grow = bucket_candidates(self.bucket_members(touched), touched, cap)
        keys = [k for k in keys if k not in self._pending]
        if not keys:
            return candidates, grow
        signed = np.asarray(keys, dtype=np.uint64).view(np.int64).tolist()
        marks = ",".join("?" * len(signed))
        full: set[int] = set()
        for key, size, first, members in self._run(
            "SELECT key, count(*), min(seq), group_concat(seq) FROM bands"
            f" WHERE key IN ({marks}) GROUP BY key",
            signed,
        ):
            if size >= cap:
                full.add(key)
                candidates.add(first)
            else:
                candidates.update(map(int, members.split(",")))
        grow += [k for k, s in zip(keys, signed, strict=True) if s not in full]
        return candidates, grow

    def _flush_bands(self) -> None:
        if not self._pending:
            return
        sizes = [len(seqs) for seqs in self._pending.values()]
        keys = np.repeat(np.fromiter(self._pending, np.uint64, len(sizes)), sizes).view(np.int64)
        seqs = np.fromiter(
            (seq for group in self._pending.values() for seq in group), np.int64, sum(sizes)
        )
        order = np.lexsort((seqs, keys))
        entries = zip(keys[order].tolist(), seqs[order].tolist(), strict=True)
        self._pending.clear()
        try:
            self.db.executemany("INSERT INTO bands VALUES (?, ?)", entries)
        except sqlite3.DatabaseError as exc:
            raise _database_error(self.location, exc) from None

    def screening(self, seqs: Sequence[int]) -> list[tuple[int, int, bytes]]:
        if not seqs:
            return []
        marks = ",".join("?" * len(seqs))
        rows = self._run(
            f"SELECT seq, size, signature FROM articles WHERE seq IN ({marks}) ORDER BY seq",
            list(seqs),
        ).fetchall()
        return [(int(seq), int(size), bytes(signature)) for seq, size, signature in rows]

    def load_rows(self, seqs: Sequence[int]) -> CandidateRows:
        rows: list[tuple[Any, ...]] = []
        if seqs:
            marks = ",".join("?" * len(seqs))
            rows = self._run(
                "SELECT seq, id, published, cluster, columns, counts, signed FROM articles"
                f" WHERE seq IN ({marks}) ORDER BY seq",
                list(seqs),
            ).fetchall()
        try:
            features = batch_from_blobs(
                [r[4] for r in rows], [r[5] for r in rows], [r[6] for r in rows]
            )
        except RowDamage as exc:
            seq, article_id = rows[exc.index][:2]
            raise _damaged(self.location, seq, article_id, exc) from None
        return CandidateRows(
            seqs=[int(r[0]) for r in rows],
            ids=[str(r[1]) for r in rows],
            published=[None if r[2] is None else float(r[2]) for r in rows],
            clusters=[str(r[3]) for r in rows],
            features=features,
        )

    def find(self, article_id: str) -> StoredArticle | None:
        row = self._run(f"SELECT {_COLUMNS} FROM articles WHERE id = ?", (article_id,)).fetchone()
        return _stored(self.location, row) if row else None

    def insert(self, article: StoredArticle, bucket_keys: Sequence[int]) -> int:
        columns, counts, signed = article.row.to_blobs()
        cursor = self._run(
            "INSERT INTO articles (id, size, signature, published, added_at, cluster, verdict,"
            " columns, counts, signed, keys) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                article.id,
                article.size,
                article.signature,
                article.published,
                article.added_at,
                article.cluster,
                article.verdict,
                columns,
                counts,
                signed,
                article.keys,
            ),
        )
        seq = int(cursor.lastrowid or 0)
        for key in bucket_keys:
            self._pending.setdefault(key, []).append(seq)
        return seq

    def older_than(self, cutoff: float) -> list[StoredArticle]:
        rows = self._run(
            f"SELECT {_COLUMNS} FROM articles WHERE coalesce(published, added_at) < ? ORDER BY seq",
            (cutoff,),
        ).fetchall()
        return [_stored(self.location, r) for r in rows]

    def delete(self, articles: Sequence[StoredArticle]) -> None:
        self._flush_bands()
        entries = [
            (key, a.seq)
            for a in articles
            for key in np.frombuffer(a.keys, dtype="<u8").view(np.int64).tolist()
        ]
        self.db.executemany("DELETE FROM bands WHERE key = ? AND seq = ?", entries)
        self.db.executemany("DELETE FROM articles WHERE seq = ?", [(a.seq,) for a in articles])
        self._run(
            "INSERT INTO meta VALUES ('generation', '1') ON CONFLICT (key) DO UPDATE"
            " SET value = CAST(value AS INTEGER) + 1"
        )

    def groups(self) -> tuple[int, int]:
        row = self._run(
            "SELECT count(*), coalesce(sum(n), 0) FROM"
            " (SELECT count(*) AS n FROM articles GROUP BY cluster HAVING n > 1)"
        ).fetchone()
        return int(row[0]), int(row[1])

    def time_range(self) -> tuple[float | None, float | None]:
        row = self._run("SELECT min(published), max(published) FROM articles").fetchone()
        return row[0], row[1]

    def band_entries(self) -> int:
        return int(self._run("SELECT count(*) FROM bands").fetchone()[0])

    def size_bytes(self) -> int:
        total = 0
        for suffix in ("", "-wal", "-shm"):
            with suppress(OSError):
                total += os.path.getsize(str(self.path) + suffix)
        return total

    def integrity_problems(self) -> list[str]:
        try:
            return self._integrity_problems()
        except (sqlite3.DatabaseError, CorruptIndexError) as exc:
            return [f"sqlite: {exc}"]

    def _integrity_problems(self) -> list[str]:
        problems = [
            f"sqlite: {line}"
            for (line,) in self._run("PRAGMA integrity_check").fetchall()
            if line != "ok"
        ]
        orphans = self._run(
            "SELECT count(*) FROM bands WHERE seq NOT IN (SELECT seq FROM articles)"
        ).fetchone()[0]
        if orphans:
            problems.append(f"{orphans} band entries point at no article")
        entries = self.band_entries()
        expected = self._run("SELECT coalesce(sum(length(keys)), 0) / 8 FROM articles").fetchone()
        if entries != int(expected[0]):
            problems.append(f"{entries} band entries, but articles list {int(expected[0])} keys")
        for row in self._run(f"SELECT {_COLUMNS} FROM articles"):
            try:
                _stored(self.location, row, thorough=True)
            except DedupeError as exc:
                problems.append(str(exc))
        return problems

    def vacuum(self) -> None:
        """Rewrite the file without the pages that deletes freed (needs no open transaction)."""
        self._run("VACUUM")
        self._run("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        self.db.close()


def _stored(location: str, row: tuple[Any, ...], *, thorough: bool = False) -> StoredArticle:
    seq, article_id, published, added_at, cluster, verdict, columns, counts, signed, keys = row[:10]
    size, signature = row[10:]
    with _damage(location, seq, article_id):
        features = Row.from_blobs(columns, counts, signed, thorough=thorough)
        if len(keys) % 8 or len(signature) % 4:
            raise ValueError("band keys or signature blob is truncated")
    return StoredArticle(
        seq=int(seq),
        id=str(article_id),
        published=None if published is None else float(published),
        added_at=float(added_at),
        cluster=str(cluster),
        verdict=str(verdict),
        row=features,
        keys=bytes(keys),
        signature=bytes(signature),
        size=int(size),
    )


@contextmanager
def _damage(location: str, seq: object, article_id: object) -> Iterator[None]:
    """Blobs that do not fit together are a damaged index, named by article and seq."""
    try:
        yield
    except (ValueError, TypeError) as exc:
        raise _damaged(location, seq, article_id, exc) from None


def _damaged(location: str, seq: object, article_id: object, exc: Exception) -> CorruptIndexError:
    return CorruptIndexError(
        f"{location}: article {article_id!r} (seq {seq}) has damaged features: {exc}"
    )


def _database_error(location: str, exc: sqlite3.DatabaseError) -> DedupeError:
    message = str(exc)
    resume = (
        "articles acknowledged before are kept; free space and re-run the same input "
        "(ids already in the index are skipped)"
    )
    if "disk is full" in message:
        return DedupeError(f"{location}: the disk is full; {resume}")
    if "disk I/O error" in message:
        # EFBIG (file size limit) and failing disks come back as SQLITE_IOERR, not FULL.
        return DedupeError(
            f"{location}: cannot write ({message}: disk full, file size limit or a failing "
            f"disk); {resume}"
        )
    if isinstance(exc, sqlite3.OperationalError) and "locked" in message:
        return DedupeError(f"{location}: index is locked by another writer ({message})")
    return CorruptIndexError(f"{location}: index is damaged ({message}); {recovery_hint(location)}")
