"""The pre-filter index: check each new article against everything kept, then add it.

Per article (``Index.add``), inside one write transaction of the store:
1. featurize it as ``dedupe cluster`` does (``dedupe.batch.process_batch``);
2. bring the document frequencies up to date with what other processes added
   (``Frequencies``, caught up by ``seq``; a newly opened index starts from the table a
   writer last saved, ``SAVE_FREQUENCIES_EVERY``), count the article in, and find its compared
   shingles (signed, not common);
3. MinHash them (datasketch's permutations, as ``dedupe.signature``), look up its LSH band
   keys, verify the candidates exactly (``QueryScorer``) within the time window;
4. store the article, its band keys (a bucket that already holds ``lsh.max_bucket_size``
   articles is not grown: like the batch pipeline's star, a newcomer meets its first member
   only) and the verdict.

A verdict depends only on the articles committed before it, so adding a stream one at a time
or in bulk gives the same verdicts, and re-running a crashed batch (ids already present are
skipped) gives the same index.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from dedupe import __version__
from dedupe._workers import worker_context, workers_failed
from dedupe.batch import BatchResult, encode_texts, process_batch, process_encoded_batch
from dedupe.config import Config
from dedupe.errors import UsageError
from dedupe.index.records import IndexStats, Match, Status, Verdict
from dedupe.index.scoring import Frequencies, QueryScorer, Row, stable_band_keys
from dedupe.index.store import (
    SCHEMA_VERSION,
    UNREADABLE_FREQUENCIES,
    SavedFrequencies,
    Store,
    StoredArticle,
)
from dedupe.shingle import U32
from dedupe.signature import MAX_HASH, permutations
from dedupe.types import Article

BAND_KEY_SCHEME = "splitmix64-v1"
# A writer saves the document-frequency table once this many articles were added since the
# saved one: ~16 MiB written per 20,000 articles, and a process opening the index reads at
# most that many articles' columns instead of all of them.
SAVE_FREQUENCIES_EVERY = 20_000


def index_params(config: Config) -> dict[str, Any]:
    """Settings an index is built with.

    Changing any of them changes shingles, signatures or band keys, so an index only
    answers for the settings it was built with.
    """
    bands, rows = config.lsh_params
    return {
        "seed": config.seed,
        "normalize": config.to_dict()["normalize"],
        "shingle.size": config.shingle.size,
        "shingle.ignore_quoted": config.shingle.ignore_quoted,
        "shingle.min_shingles": config.shingle.min_shingles,
        "minhash.num_perm": config.minhash.num_perm,
        "lsh.bands": bands,
        "lsh.rows": rows,
        "verify.hash_bits": config.verify.hash_bits,
        "band_keys": BAND_KEY_SCHEME,
    }


class Index:
    """A persistent index of articles, answering ``check`` and ``add`` with a ``Verdict``.

    Open one with ``dedupe.open_index``. Not thread-safe: one ``Index`` per thread or
    process (any number of processes may open the same index).
    """

    def __init__(self, store: Store, config: Config, *, create: bool) -> None:
        self.store = store
        self.config = config
        params = index_params(config)
        meta = store.read_meta()
        if not meta and create:
            meta = store.init_meta(
                {
                    "schema_version": str(SCHEMA_VERSION),
                    "params": json.dumps(params, sort_keys=True, ensure_ascii=False),
                    "generation": "0",
                    "created_by": f"dedupe {__version__}",
                }
            )
        if not meta:
            raise UsageError(f"{store.location}: not a dedupe index (no metadata)")
        _check_compatible(store.location, meta, params)
        self.bands, self.rows = config.lsh_params
        self._a, self._b = permutations(config.minhash.num_perm, config.seed)
        self.freq = Frequencies(config.verify.hash_bits)
        self._generation = -1
        self._seq = 0
        self._saved_seq = 0

    # -- public API --------------------------------------------------------------------

    def check(self, article: Article) -> Verdict:
        """The verdict ``add`` would give, without changing the index."""
        row = self._featurize([article])[0]
        with self.store.transaction(write=False):
            self._catch_up()
            existing = self.store.find(article.id)
            verdict, *_ = self._judge(article, row, counted=existing is not None)
        if existing is not None:
            return _replace(verdict, already_indexed=True)
        return verdict

    def add(self, article: Article) -> Verdict:
        """Check the article and insert it, atomically; a known id is a no-op."""
        return next(iter(self.add_many([article])))

    def add_many(self, articles: Iterable[Article], *, commit_every: int = 0) -> Iterator[Verdict]:
        """Add articles in the order given, yielding each verdict once it is committed.

        Verdicts equal those of calling ``add`` on each in turn. ``commit_every`` articles
        share a transaction (default ``backend.batch_size``): fewer commits, same result.
        """
        size = commit_every or self.config.backend.batch_size
        for chunk, rows in self._featurized(_chunks(articles, size)):
            verdicts: list[Verdict] = []
            with self.store.transaction(write=True):
                self._catch_up()
                for article, row in zip(chunk, rows, strict=True):
                    verdicts.append(self._add_one(article, row))
            yield from verdicts
        if self._seq - self._saved_seq >= SAVE_FREQUENCIES_EVERY:
            self._save_frequencies()

    def prune(self, cutoff: float) -> int:
        """Remove articles published (or, without a date, added) before ``cutoff`` (Unix time)."""
        with self.store.transaction(write=True):
            old = self.store.older_than(cutoff)
            if old:
                self.store.delete(old)
        self._generation = -1
        if old:
            self._save_frequencies()  # the saved table no longer holds; count once, here
        return len(old)

    def vacuum(self) -> None:
        """Give space freed by ``prune`` back to the file system (where the store can)."""
        vacuum = getattr(self.store, "vacuum", None)
        if vacuum is not None:
            vacuum()

    def stats(self) -> IndexStats:
        """Counts, size, time range and build settings."""
        with self.store.transaction(write=False):
            articles = self.store.article_count()
            groups, grouped = self.store.groups()
            oldest, newest = self.store.time_range()
            entries = self.store.band_entries()
            meta = self.store.read_meta()
        return IndexStats(
            location=self.store.location,
            backend=self.store.backend,
            articles=articles,
            groups=groups,
            grouped_articles=grouped,
            band_entries=entries,
            bytes_on_disk=self.store.size_bytes(),
            oldest=_iso(oldest),
            newest=_iso(newest),
            params=json.loads(meta.get("params", "{}")),
        )

    def integrity_problems(self) -> list[str]:
        """Everything wrong with the stored index (empty when it is sound)."""
        with self.store.transaction(write=False):
            return self.store.integrity_problems() + self._saved_frequency_problems()

    def _saved_frequency_problems(self) -> list[str]:
        """A current saved document-frequency table that disagrees with the articles."""
        saved = self.store.read_frequencies()
        state = self.store.state()
        if saved == UNREADABLE_FREQUENCIES:
            return [
                "saved document frequencies (a cache) are unreadable; they are not used, the "
                "index counts from the articles until a writer saves them again"
            ]
        if saved is None or saved.generation != state.generation:
            return []  # absent or outdated: never used, so harmless
        counted = Frequencies(self.config.verify.hash_bits)
        for seq, blob in self.store.columns_since(0):
            if seq > saved.seq:
                break
            counted.add(Row.columns_from_blob(blob))
        table = self._saved_table(saved, state.last_seq)
        if (
            table is None
            or table.articles != counted.articles
            or not np.array_equal(table.doc_freq, counted.doc_freq)
        ):
            return [
                "saved document frequencies (a cache) disagree with the stored articles: "
                "a process opening the index would misjudge articles until a writer saves "
                f"them again (every {SAVE_FREQUENCIES_EVERY:,} added articles); a SQLite index "
                "can be copied without it by dedupe index recover"
            ]
        return []

    def close(self) -> None:
        """Close the store's connections."""
        self.store.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- inside a transaction ------------------------------------------------------------

    def _catch_up(self) -> None:
        """Bring ``freq`` to the committed state (what other processes added or pruned)."""
        state = self.store.state()
        if state.generation != self._generation or state.last_seq < self._seq:
            self._start_counting(state.last_seq, state.generation)
        if state.last_seq > self._seq:
            for seq, blob in self.store.columns_since(self._seq):
                self.freq.add(Row.columns_from_blob(blob))
                self._seq = seq
        self._seq = max(self._seq, state.last_seq)
        self._generation = state.generation

    def _start_counting(self, last_seq: int, generation: int) -> None:
        """Counts from the saved table when it is current, else from zero."""
        saved = self.store.read_frequencies()
        if saved is not None and saved.generation == generation:
            table = self._saved_table(saved, last_seq)
            if table is not None:
                self.freq, self._seq, self._saved_seq = table, saved.seq, saved.seq
                return
        self.freq = Frequencies(self.config.verify.hash_bits)
        self._seq = self._saved_seq = 0

    def _saved_table(self, saved: SavedFrequencies, last_seq: int) -> Frequencies | None:
        """The saved table as ``Frequencies``; None when it cannot be right (damaged)."""
        bits = self.config.verify.hash_bits
        if len(saved.doc_freq) != 4 << bits or not 0 <= saved.seq <= last_seq:
            return None
        doc_freq = np.frombuffer(saved.doc_freq, dtype="<i4").astype(np.int32)
        if saved.articles < 0 or doc_freq.min() < 0 or doc_freq.max() > saved.articles:
            return None
        table = Frequencies(bits)
        table.doc_freq, table.articles = doc_freq, saved.articles
        return table

    def _save_frequencies(self) -> None:
        """Save the table as of the committed state, for the next process that opens it."""
        with self.store.transaction(write=True):
            self._catch_up()
            self.store.write_frequencies(
                SavedFrequencies(
                    generation=self._generation,
                    seq=self._seq,
                    articles=self.freq.articles,
                    doc_freq=self.freq.doc_freq.astype("<i4").tobytes(),
                )
            )
        self._saved_seq = self._seq

    def _add_one(self, article: Article, row: Row) -> Verdict:
        existing = self.store.find(article.id)
        if existing is not None:
            return _stored_verdict(existing)
        verdict, keys, signature, size = self._judge(article, row, counted=False)
        verdict = _replace(verdict, added=True, cluster=verdict.cluster or article.id)
        stored = StoredArticle(
            seq=0,
            id=article.id,
            published=article.published.timestamp() if article.published else None,
            added_at=time.time(),
            cluster=verdict.cluster or article.id,
            verdict=json.dumps(verdict.to_dict(), sort_keys=True, ensure_ascii=False),
            row=row,
            keys=np.asarray(keys, dtype="<u8").tobytes(),
            signature=signature.astype("<u4").tobytes(),
            size=size,
        )
        self._seq = self.store.insert(stored, keys)
        self.freq.add(row.columns)
        return verdict

    def _judge(
        self, article: Article, row: Row, *, counted: bool
    ) -> tuple[Verdict, list[int], U32, int]:
        """The verdict for ``row``; its band keys, signature and compared size for storing."""
        scorer = QueryScorer(row, self.freq, self.config.verify, counted=counted)
        if scorer.compared_count < self.config.shingle.min_shingles:
            nothing = np.zeros(0, np.uint32)
            return Verdict(id=article.id, status="unique", comparable=False), [], nothing, 0
        signature = self._sign(scorer.compared)
        keys = stable_band_keys(signature, self.bands, self.rows).tolist()
        candidates, grow = self.store.candidates(keys, self.config.lsh.max_bucket_size)
        survivors = self._screen(sorted(candidates), signature, scorer.compared_count)
        stored = self.store.load_rows(survivors)
        scores = scorer.score(stored.features)
        passed = np.flatnonzero(scorer.passes(scores) & self._in_window(article, stored.published))
        order = sorted(
            passed.tolist(),
            key=lambda k: (-scores.containment[k], -scores.cosine[k], stored.ids[k]),
        )
        matches = tuple(
            Match(
                id=stored.ids[k],
                jaccard=round(float(scores.jaccard[k]), 6),
                containment=round(float(scores.containment[k]), 6),
                cosine=round(float(scores.cosine[k]), 6),
                shared_shingles=int(scores.shared[k]),
            )
            for k in order[: self.config.index.max_matches]
        )
        status: Status = "unique"
        cluster = None
        if matches:
            near = matches[0].jaccard >= self.config.index.near_duplicate_jaccard
            status = "near_duplicate" if near else "syndicated"
            cluster = stored.clusters[order[0]]
        verdict = Verdict(id=article.id, status=status, matches=matches, cluster=cluster)
        return verdict, grow, signature, scorer.compared_count

    def _screen(self, seqs: list[int], signature: U32, size: int) -> list[int]:
        """Candidates whose MinHash-estimated containment can reach the threshold.

        The same screen as ``dedupe cluster`` (``verify.estimated_containment`` against
        ``estimate_floor x containment_threshold``): most LSH candidates of a big index share
        a stock phrase or two, and reading and scoring their features would cost more than
        everything else an add does.
        """
        floor = self.config.verify.estimate_floor * self.config.verify.containment_threshold
        if not seqs or floor <= 0:
            return seqs
        found = self.store.screening(seqs)
        if not found:
            return []
        others = np.frombuffer(b"".join(f[2] for f in found), dtype="<u4").reshape(len(found), -1)
        sizes = np.array([f[1] for f in found], np.int64)
        jaccard = (others == signature[None, :]).mean(axis=1)
        shared = jaccard * (sizes + size) / (1.0 + jaccard)
        estimate = shared / np.maximum(np.minimum(sizes, size), 1)
        return [f[0] for f, ok in zip(found, estimate >= floor, strict=True) if ok]

    def _in_window(self, article: Article, others: list[float | None]) -> np.ndarray:
        """Which of the others are within the time window of ``article`` (undated: all)."""
        window = self.config.cluster.time_window_days * 86_400.0
        if window <= 0 or article.published is None:
            return np.ones(len(others), np.bool_)
        when = article.published.timestamp()
        return np.array([p is None or abs(when - p) <= window for p in others], np.bool_)

    def _sign(self, columns: np.ndarray) -> U32:
        """MinHash of one article's compared columns (as ``signature.sign_rows``)."""
        from dedupe._kernels import min_hashes

        signature = np.full((1, len(self._a)), MAX_HASH, np.uint32)
        keep = np.ones(len(columns), np.bool_)
        offsets = np.array([0, len(columns)], np.int64)
        min_hashes(offsets, columns.astype(np.uint32), keep, self._a, self._b, signature)
        row: U32 = signature[0]
        return row

    def _featurize(self, articles: Sequence[Article]) -> list[Row]:
        return _rows(process_batch([a.text for a in articles], self.config), len(articles))

    def _featurized(
        self, chunks: Iterator[list[Article]]
    ) -> Iterator[tuple[list[Article], list[Row]]]:
        """Feature rows per chunk; with several chunks, worker processes featurize ahead.

        Checking and inserting must run in order in this process, but featurizing does not
        depend on the index, so on a multi-core machine the next chunks are tokenized in
        other processes meanwhile. A single chunk (a filter's batch) starts no processes.
        """
        first = next(chunks, None)
        second = next(chunks, None) if first is not None else None
        workers = self.config.backend.num_workers - 1  # this process does the index work
        if second is None or workers < 1:
            for chunk in itertools.chain(filter(None, [first, second]), chunks):
                yield chunk, self._featurize(chunk)
            return
        ahead: deque[tuple[list[Article], Future[BatchResult]]] = deque()
        assert first is not None
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=worker_context()) as pool:
                for chunk in itertools.chain([first, second], chunks):
                    texts = encode_texts([a.text for a in chunk])
                    ahead.append((chunk, pool.submit(process_encoded_batch, texts, self.config)))
                    if len(ahead) > workers:
                        done, future = ahead.popleft()
                        yield done, _rows(future.result(), len(done))
                while ahead:
                    done, future = ahead.popleft()
                    yield done, _rows(future.result(), len(done))
        except (BrokenProcessPool, RuntimeError) as exc:
            raise workers_failed(exc) from exc


def _rows(result: BatchResult, n: int) -> list[Row]:
    return [Row.of(result.features, i) for i in range(n)]


def _check_compatible(location: str, meta: dict[str, str], params: dict[str, Any]) -> None:
    version = meta.get("schema_version")
    if version != str(SCHEMA_VERSION):
        raise UsageError(
            f"{location}: index schema version {version}, this dedupe reads version "
            f"{SCHEMA_VERSION}; rebuild the index from the original articles"
        )
    stored = json.loads(meta.get("params", "{}"))
    differ = sorted(k for k in set(stored) | set(params) if stored.get(k) != params.get(k))
    if differ:
        details = "; ".join(
            f"{k}: index {_short(stored.get(k))}, now {_short(params.get(k))}" for k in differ
        )
        raise UsageError(
            f"{location}: index was built with other settings ({details}). Use the config "
            "it was built with (see: dedupe index stats), or build a new index."
        )


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _stored_verdict(stored: StoredArticle) -> Verdict:
    data = json.loads(stored.verdict)
    return Verdict(
        id=stored.id,
        status=data["status"],
        matches=tuple(Match(**m) for m in data["matches"]),
        cluster=data["cluster"],
        comparable=data["comparable"],
        added=False,
        already_indexed=True,
    )


def _replace(verdict: Verdict, **changes: Any) -> Verdict:
    return dataclasses.replace(verdict, **changes)


def _chunks(items: Iterable[Article], size: int) -> Iterator[list[Article]]:
    chunk: list[Article] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def open_store(
    location: str | Path,
    *,
    create: bool,
    busy_timeout: float,
    on_redis_down: str = "fail",
    redis_retry_seconds: float = 300.0,
    sqlite_mmap_mb: int = 0,
) -> Store:
    """The backend for a location: ``redis://`` URLs are Redis, anything else a SQLite file.

    ``on_redis_down`` and ``redis_retry_seconds`` (``index.*`` settings) apply to Redis only,
    ``sqlite_mmap_mb`` to SQLite only.
    """
    text = str(location)
    if text.startswith(("redis://", "rediss://", "unix://")):
        from dedupe.index.redis_store import RedisStore

        return RedisStore(
            text,
            lock_timeout=busy_timeout,
            on_redis_down=on_redis_down,
            retry_seconds=redis_retry_seconds,
        )
    from dedupe.index.sqlite_store import SqliteStore

    return SqliteStore(
        location, create=create, busy_timeout=busy_timeout, mmap_bytes=sqlite_mmap_mb << 20
    )
