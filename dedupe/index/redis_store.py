"""The shared backend: a Redis server (``redis://``, ``rediss://`` or ``unix://`` URL).

Why Redis: a team's many processes and machines can feed and query one index. Keys live under
a prefix (``dedupe:`` unless the URL says ``?prefix=NAME``), so several indexes can share a
server database::

    {p}meta            hash    schema version, build params, generation (as SQLite's meta)
    {p}seq             string  INCR counter handing out seqs: never reused, even after deletes
    {p}last            string  highest committed seq (what ``state().last_seq`` reports)
    {p}a:{seq}         hash    one article: id, published ('' when None), added_at, cluster,
                               verdict, columns, counts, signed, keys (raw bytes, never pickle)
    {p}ids             hash    id -> seq
    {p}order           zset    seq scored by seq (``columns_since``)
    {p}age             zset    seq scored by published, else added_at (``older_than``)
    {p}published       zset    seq scored by published, for dated articles (``time_range``)
    {p}B:{group}       hash    LSH band buckets, 2^20 groups by the band key's top 20 bits:
                               field = band key (8 bytes, little-endian), value = its seqs
                               in insertion (= seq) order, 8 little-endian bytes each
    {p}band_entries    string  number of (band key, seq) entries
    {p}clusters        hash    cluster -> number of its articles (``groups``)
    {p}lock            string  the writers' lock (``redis.lock.Lock``)
    {p}frequencies     hash    saved document frequencies: generation, seq, articles,
                               doc_freq (``store.SavedFrequencies``; a cache, may be absent)

Why buckets are grouped: ~99% of band buckets hold one article, and a key of its own costs
the server ~120 bytes (key, dict entry, sorted set) for 8 bytes of seq: 14 of the 21 KB an
article took. A small hash packs its fields in one listpack at ~20 bytes each, so the groups
are sized to stay small (``hash-max-listpack-entries``, 128 by default) up to ~1M articles;
beyond that they grow into ordinary hashes, still cheaper than a key per bucket. An index
written with a key per bucket (``meta`` without ``buckets``) is refused, not misread.

Writes: a writer holds the lock for its whole transaction (so two writers never interleave
a check-and-insert) and applies each insert, and each chunk of deletes, as one MULTI/EXEC
right away. An article is therefore stored whole or not at all, and later articles of the
same transaction see it (``Index.add_many`` needs that); unlike SQLite, the articles of a
transaction that fails midway stay stored. That keeps the index's promise: verdicts already
acknowledged are kept, and re-running the stream skips the ids already present.

``last_seq`` is the highest *committed* seq, written inside each insert's MULTI/EXEC, not
the INCR counter: a reader (no lock) that saw the counter between a writer's INCR and its
EXEC would skip that article when catching up its frequencies, for good.

Failures: the client library's own retries are off, so no command is ever sent twice
behind our back. With ``on_redis_down="fail"`` a lost connection raises ``DedupeError`` at
once; with ``"wait"`` each operation is retried with backoff for up to ``retry_seconds``. A
retried insert first looks its id up: if the earlier attempt's EXEC landed (only its reply
was lost), that seq is returned instead of writing again. After an outage a writer checks it
still holds the lock, and that nobody changed the index meanwhile, before going on.

Configure the server with ``maxmemory-policy noeviction`` (the default): an evicting server
silently drops index keys. Persistence (AOF with ``appendfsync always``, or RDB) is the
server's business; without it a restart empties the index.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from functools import partial
from itertools import islice
from typing import Any, TypeVar, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
import redis
from redis.backoff import NoBackoff
from redis.exceptions import (
    AuthenticationError,
    AuthorizationError,
    LockError,
    LockNotOwnedError,
    OutOfMemoryError,
    RedisError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.lock import Lock
from redis.retry import Retry
from redis.typing import EncodableT

from dedupe.errors import DedupeError, UsageError
from dedupe.index.scoring import Row, RowDamage, batch_from_blobs
from dedupe.index.store import (
    UNREADABLE_FREQUENCIES,
    CandidateRows,
    SavedFrequencies,
    StoredArticle,
    StoreState,
    bucket_candidates,
)

T = TypeVar("T")

# Server-side scripts: one round trip and one command to parse per article instead of ~120
# (one per band bucket), which is where redis-py spent its time. A script runs atomically,
# like MULTI/EXEC, and declares every key it touches.
# KEYS: bucket groups; ARGV: the band keys (fields), aligned.
_LOOKUP = """
local out = {}
for i, group in ipairs(KEYS) do out[i] = redis.call('HGET', group, ARGV[i]) end
return out
"""
# KEYS: article hashes; ARGV: field names. HMGET of each hash in one command: a pipeline of
# one HMGET per candidate spent more time packing commands and parsing replies in Python
# than the server spent answering them.
_READ_FIELDS = """
local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('HMGET', key, unpack(ARGV)) end
return out
"""
# KEYS: article, ids, order, age, published, band_entries, clusters, last, bucket groups...
# ARGV: seq, id, age_time, published ('' when none), cluster, seq as 8 bytes, number of
# article hash arguments n, then n field/value arguments, then the band keys (fields of the
# bucket groups, aligned with KEYS[9..]).
_INSERT = """
local seq = ARGV[1]
local n = tonumber(ARGV[7])
local fields = {}
for i = 8, 7 + n do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('HSET', KEYS[2], ARGV[2], seq)
redis.call('ZADD', KEYS[3], seq, seq)
redis.call('ZADD', KEYS[4], ARGV[3], seq)
if ARGV[4] ~= '' then redis.call('ZADD', KEYS[5], ARGV[4], seq) end
for i = 9, #KEYS do
  local band = ARGV[7 + n + i - 8]
  local members = redis.call('HGET', KEYS[i], band)
  if members then
    redis.call('HSET', KEYS[i], band, members .. ARGV[6])
  else
    redis.call('HSET', KEYS[i], band, ARGV[6])
  end
end
redis.call('INCRBY', KEYS[6], #KEYS - 8)
redis.call('HINCRBY', KEYS[7], ARGV[5], 1)
redis.call('SET', KEYS[8], seq)
return seq
"""

# KEYS: bucket groups; ARGV: seq as 8 bytes, then the band keys, aligned. Removes the seq
# from each bucket, and the bucket when it was the last one.
_REMOVE = """
local seq = ARGV[1]
for i, group in ipairs(KEYS) do
  local band = ARGV[i + 1]
  local members = redis.call('HGET', group, band)
  if members then
    local kept = {}
    for at = 1, #members, 8 do
      local one = string.sub(members, at, at + 7)
      if one ~= seq then kept[#kept + 1] = one end
    end
    if #kept == 0 then
      redis.call('HDEL', group, band)
    else
      redis.call('HSET', group, band, table.concat(kept))
    end
  end
end
return 0
"""

log = logging.getLogger("dedupe")

# The bucket layout this code writes and reads (``meta`` field ``buckets``).
BUCKET_LAYOUT = "grouped-u64le-v1"
GROUP_BITS = 20

DEFAULT_PREFIX = "dedupe"
# The lock outlives a killed writer by at most this long; a live writer refreshes it every
# third of it (on its next Redis call), so long transactions keep it.
LOCK_TTL_SECONDS = 30.0
# Reads and deletes go in pipelines of this many articles (one round trip each).
BATCH = 500
# The hash fields judging reads of a candidate (``load_rows``).
_CANDIDATE_FIELDS = [b"id", b"published", b"cluster", b"columns", b"counts", b"signed"]
# size_bytes measures key by key (MEMORY USAGE) below this many keys, else asks the server.
EXACT_SIZE_KEYS = 10_000
_FIRST_DELAY, _MAX_DELAY = 0.1, 5.0


class RedisStore:
    """``Store`` on a Redis server, under a key prefix."""

    backend = "redis"

    def __init__(
        self,
        url: str,
        *,
        lock_timeout: float = 60.0,
        on_redis_down: str = "fail",
        retry_seconds: float = 300.0,
        prefix: str | None = None,
    ) -> None:
        """Connect to ``url`` and check the server answers.

        Args:
            url: ``redis://[user[:password]@]host:port/db[?prefix=NAME]`` (or ``rediss://``,
                ``unix://``). The password never appears in ``location`` or in messages.
            lock_timeout: Seconds a writer waits for another writer's lock.
            on_redis_down: ``fail`` (raise at once) or ``wait`` (retry for ``retry_seconds``).
            retry_seconds: How long ``wait`` keeps retrying before failing.
            prefix: Key prefix; overrides the URL's ``prefix``, default ``dedupe``.
        """
        if on_redis_down not in ("fail", "wait"):
            raise UsageError(f"on_redis_down: {on_redis_down!r} is not allowed; use fail or wait")
        client_url, self.location, url_prefix = _split_url(url)
        name = prefix if prefix is not None else (url_prefix or DEFAULT_PREFIX)
        if not name:
            raise UsageError(f"{self.location}: the key prefix must not be empty")
        self.prefix = name if name.endswith(":") else name + ":"
        self.lock_timeout = lock_timeout
        self.wait = on_redis_down == "wait"
        self.retry_seconds = retry_seconds
        k = self.prefix
        self._meta, self._seq, self._last, self._ids = k + "meta", k + "seq", k + "last", k + "ids"
        self._order, self._age, self._published = k + "order", k + "age", k + "published"
        self._bands, self._clusters, self._lock_key = k + "band_entries", k + "clusters", k + "lock"
        self._frequencies = k + "frequencies"
        try:
            # retries off (Retry with 0): ours decide what may be resent (see module doc).
            # Timeouts so a hung server surfaces as an error instead of a hang; the URL's
            # own socket_timeout=... options win.
            self.client: redis.Redis = redis.Redis.from_url(
                client_url,
                decode_responses=False,
                retry=Retry(NoBackoff(), 0),
                socket_connect_timeout=5.0,
                socket_timeout=30.0,
            )
        except (ValueError, TypeError) as exc:
            raise UsageError(f"{self.location}: not a usable Redis URL ({exc})") from None
        self._lock: Lock | None = None
        self._token: str | None = None
        self._refreshed = 0.0
        self._expect: tuple[bytes | None, bytes | None] = (None, None)
        self._reached = False
        self._seen_meta = False
        self._lookup = self.client.register_script(_LOOKUP)
        self._read_fields = self.client.register_script(_READ_FIELDS)
        self._insert = self.client.register_script(_INSERT)
        self._remove = self.client.register_script(_REMOVE)
        self._call(self.client.ping)
        self._reached = True
        self._warn_if_evicting()

    # -- failure handling ------------------------------------------------------------------

    def _call(self, op: Callable[[], T]) -> T:
        """Run ``op`` (Redis calls), mapping failures to ``DedupeError``, retrying in wait mode.

        ``op`` must be safe to run again after a lost connection: reads are, and the writes
        check whether their earlier attempt landed.
        """
        started: float | None = None
        delay = _FIRST_DELAY
        while True:
            try:
                if self._token is not None and (
                    started is not None or time.monotonic() - self._refreshed > LOCK_TTL_SECONDS / 3
                ):
                    self._hold_lock()
                result = op()
            except (AuthenticationError, AuthorizationError) as exc:
                # Subclasses of ConnectionError, but waiting does not fix a wrong password.
                raise DedupeError(f"{self.location}: Redis refused the login ({exc})") from None
            except (RedisConnectionError, RedisTimeoutError) as exc:
                now = time.monotonic()
                if not self.wait or (started is not None and now - started >= self.retry_seconds):
                    raise self._down_error(exc, 0.0 if started is None else now - started) from None
                if started is None:
                    started = now
                    log.warning(
                        "%s: Redis is unreachable (%s); retrying for up to %g s "
                        "(index.on_redis_down: wait)",
                        self.location,
                        exc,
                        self.retry_seconds,
                    )
                time.sleep(max(0.0, min(delay, started + self.retry_seconds - now)))
                delay = min(delay * 2, _MAX_DELAY)
                continue
            except OutOfMemoryError as exc:
                raise DedupeError(
                    f"{self.location}: Redis is out of memory ({exc}); the article being added "
                    "was not stored (everything acknowledged before it is kept)"
                ) from None
            except LockError as exc:
                raise self._lock_lost(str(exc)) from None
            except RedisError as exc:
                raise DedupeError(f"{self.location}: Redis error: {exc}") from None
            if started is not None:
                log.warning(
                    "%s: Redis is back after %.1f s; continuing",
                    self.location,
                    time.monotonic() - started,
                )
            return result

    def _down_error(self, exc: RedisError, waited: float) -> DedupeError:
        if not self._reached:
            return DedupeError(
                f"{self.location}: cannot reach Redis ({exc}); check that the server is "
                "running and the URL is right"
            )
        waiting = f" for {waited:.0f} s" if waited else ""
        return DedupeError(
            f"{self.location}: lost the connection to Redis{waiting} ({exc}). Articles "
            "acknowledged before this error are kept in the index; re-run the stream to add "
            "the rest (ids already indexed are skipped)."
        )

    def _lock_lost(self, detail: str) -> DedupeError:
        return DedupeError(
            f"{self.location}: this writer lost the index's write lock ({detail}); it stopped "
            "so as not to interleave with another writer. Articles acknowledged before are "
            "kept; re-run the stream to add the rest."
        )

    def _warn_if_evicting(self) -> None:
        try:
            settings: dict[Any, Any] = self.client.config_get("maxmemory-policy")
            policy = settings.get(b"maxmemory-policy")
        except RedisError:
            return  # managed servers often refuse CONFIG; nothing to warn about then
        if policy not in (None, b"noeviction"):
            log.warning(
                "%s: Redis evicts keys (maxmemory-policy %s): index entries may vanish; "
                "set maxmemory-policy noeviction",
                self.location,
                policy.decode(errors="replace"),
            )

    # -- the writers' lock -----------------------------------------------------------------

    @contextmanager
    def transaction(self, write: bool) -> Iterator[None]:
        # Reads take no lock: each Redis command is atomic, and a read that misses a write
        # committed meanwhile is as good as one made a moment earlier.
        if not write or self._token is not None:
            yield
            return
        self._acquire()
        try:
            yield
        except BaseException:
            self._release(retry=False)
            raise
        self._release(retry=True)

    def _acquire(self) -> None:
        token = uuid.uuid4().hex
        lock = self.client.lock(
            self._lock_key,
            timeout=LOCK_TTL_SECONDS,
            sleep=0.05,
            blocking_timeout=self.lock_timeout,
            thread_local=False,
        )
        attempts = 0

        def attempt() -> bool:
            nonlocal attempts
            attempts += 1
            if attempts > 1 and self.client.get(self._lock_key) == token.encode():
                # The earlier SET landed; only its reply was lost.
                lock.local.token = token.encode()
                return True
            return bool(lock.acquire(token=token))

        if not self._call(attempt):
            raise DedupeError(
                f"{self.location}: index is locked by another writer (waited "
                f"{self.lock_timeout:g} s, index.busy_timeout_seconds)"
            )
        self._lock, self._token, self._refreshed = lock, token, time.monotonic()
        try:
            self._expect = self._call(self._snapshot)
            if self._seen_meta and self._expect[1] is None:
                # Writing on would build a headless index (articles, no settings).
                raise DedupeError(
                    f"{self.location}: the index's keys are gone (a Redis restart without "
                    "persistence, a FLUSHDB, or an expired or evicted key?); open it again to "
                    "start a new index"
                )
        except BaseException:
            self._release(retry=False)
            raise

    def _release(self, *, retry: bool) -> None:
        lock, token = self._lock, self._token
        self._lock = self._token = None
        if lock is None or token is None:
            return

        def release() -> None:
            # Not owned: an earlier attempt released it (only its reply was lost).
            with suppress(LockNotOwnedError):
                lock.do_release(token)

        try:
            if retry:
                self._call(release)
            else:
                release()
        except (DedupeError, RedisError) as exc:
            # Everything written is committed already; only other writers wait longer.
            log.warning(
                "%s: could not release the write lock (%s); other writers wait until it "
                "expires (%g s)",
                self.location,
                exc,
                LOCK_TTL_SECONDS,
            )

    def _hold_lock(self) -> None:
        """Check this writer still holds the lock, and reset its time to live."""
        assert self._lock is not None and self._token is not None
        holder = self.client.get(self._lock_key)
        if holder == self._token.encode():
            self._lock.reacquire()
        elif holder is None and self.client.set(
            self._lock_key, self._token, nx=True, px=int(LOCK_TTL_SECONDS * 1000)
        ):
            # It expired (a long outage, or a server restarted without persistence). Going on
            # is safe only if nobody wrote meanwhile.
            if self._snapshot() != self._expect:
                raise self._lock_lost("it expired and the index changed meanwhile")
        else:
            raise self._lock_lost("another writer holds it now")
        self._refreshed = time.monotonic()

    def _snapshot(self) -> tuple[bytes | None, bytes | None]:
        """Committed seq and generation: what a writer expects nobody else to change."""
        pipe = self.client.pipeline(transaction=True)
        pipe.get(self._last)
        pipe.hget(self._meta, "generation")
        last, generation = pipe.execute()
        return last, generation

    # -- metadata and state ----------------------------------------------------------------

    def read_meta(self) -> dict[str, str]:
        raw = self._call(partial(self.client.hgetall, self._meta))
        self._seen_meta = self._seen_meta or bool(raw)
        meta = {_text(k): _text(v) for k, v in raw.items()}
        if meta and meta.get("buckets") != BUCKET_LAYOUT:
            raise UsageError(
                f"{self.location}: index keeps its LSH buckets as "
                f"{meta.get('buckets', 'one key each (an older dedupe)')}, this dedupe reads "
                f"{BUCKET_LAYOUT}; rebuild the index from the original articles"
            )
        return meta

    def init_meta(self, meta: dict[str, str]) -> dict[str, str]:
        fields: dict[EncodableT, EncodableT] = {k: v for k, v in meta.items()}
        fields["buckets"] = BUCKET_LAYOUT

        def write() -> None:
            if not self.client.exists(self._meta):
                self.client.hset(self._meta, mapping=fields)

        with self.transaction(write=True):
            self._call(write)
        return self.read_meta()

    def state(self) -> StoreState:
        def read() -> list[Any]:
            pipe = self.client.pipeline(transaction=True)
            pipe.hget(self._meta, "generation")
            pipe.get(self._last)
            return pipe.execute()

        generation, last = self._call(read)
        return StoreState(generation=int(generation or 0), last_seq=int(last or 0))

    def article_count(self) -> int:
        return int(self._call(lambda: self.client.hlen(self._ids)))

    # -- reads -----------------------------------------------------------------------------

    def columns_since(self, seq: int) -> Iterator[tuple[int, bytes]]:
        after = seq
        while True:
            seqs, blobs = self._call(partial(self._columns_page, after))
            for s, blob in zip(seqs, blobs, strict=True):
                if blob is not None:  # deleted between the two reads
                    yield s, blob
            if len(seqs) < BATCH:
                return
            after = seqs[-1]

    def _columns_page(self, after: int) -> tuple[list[int], list[bytes | None]]:
        seqs = _ints(
            self.client.zrangebyscore(self._order, f"({after}", "+inf", start=0, num=BATCH)
        )
        pipe = self.client.pipeline(transaction=False)
        for s in seqs:
            pipe.hget(self._article_key(s), "columns")
        return seqs, pipe.execute()

    def read_frequencies(self) -> SavedFrequencies | None:
        fields = (b"generation", b"seq", b"articles", b"doc_freq")
        values = self._call(partial(self.client.hmget, self._frequencies, fields))
        if not all(isinstance(v, bytes) for v in values):
            return None  # never saved
        generation, seq, articles, doc_freq = cast(list[bytes], values)
        try:
            return SavedFrequencies(int(generation), int(seq), int(articles), bytes(doc_freq))
        except ValueError:
            return UNREADABLE_FREQUENCIES

    def write_frequencies(self, saved: SavedFrequencies) -> None:
        mapping: dict[EncodableT, EncodableT] = {
            "generation": saved.generation,
            "seq": saved.seq,
            "articles": saved.articles,
            "doc_freq": saved.doc_freq,
        }
        self._call(partial(self.client.hset, self._frequencies, mapping=mapping))

    def bucket_members(self, keys: Sequence[int]) -> dict[int, list[int]]:
        unique = list(dict.fromkeys(int(k) for k in keys))

        def read() -> list[Any]:
            if not unique:
                return []
            groups, bands = self._buckets(unique)
            result: list[Any] = self._lookup(keys=groups, args=bands)
            return result

        return {
            key: _members(self.location, key, members)
            for key, members in zip(unique, self._call(read), strict=True)
            if members
        }

    def candidates(self, keys: Sequence[int], cap: int) -> tuple[set[int], list[int]]:
        return bucket_candidates(self.bucket_members(keys), keys, cap)

    def screening(self, seqs: Sequence[int]) -> list[tuple[int, int, bytes]]:
        ordered = sorted({int(s) for s in seqs})
        out: list[tuple[int, int, bytes]] = []
        for chunk in _batched(ordered, BATCH):
            read = partial(self._hmget_each, chunk, [b"size", b"signature"])
            for s, (size, signature) in zip(chunk, self._call(read), strict=True):
                if size is not None and signature is not None:
                    out.append((s, int(size), bytes(signature)))
        return out

    def load_rows(self, seqs: Sequence[int]) -> CandidateRows:
        ordered = sorted({int(s) for s in seqs})
        found: list[tuple[int, dict[bytes, Any]]] = []
        for chunk in _batched(ordered, BATCH):
            read = partial(self._hmget_each, chunk, _CANDIDATE_FIELDS)
            for s, values in zip(chunk, self._call(read), strict=True):
                # All fields absent: the article is gone (pruned meanwhile). Some absent:
                # the hash is damaged, which ``_candidate`` reports by the missing field.
                pairs = zip(_CANDIDATE_FIELDS, values, strict=True)
                fields = {f: v for f, v in pairs if v is not None}
                if fields:
                    found.append((s, fields))
        return self._candidates(found)

    def _hmget_each(self, seqs: Sequence[int], fields: list[bytes]) -> list[list[Any]]:
        """The ``fields`` of each article (None where absent), in one script call."""
        keys = [self._article_key(s) for s in seqs]
        result: list[list[Any]] = self._read_fields(keys=keys, args=fields)
        return result

    def _load(self, seqs: Sequence[int]) -> list[StoredArticle]:
        ordered = sorted({int(s) for s in seqs})
        out: list[StoredArticle] = []
        for chunk in _batched(ordered, BATCH):
            hashes = self._call(partial(self._hgetall_articles, chunk))
            out.extend(self._stored(s, h) for s, h in zip(chunk, hashes, strict=True) if h)
        return out

    def _hgetall_articles(self, seqs: Sequence[int]) -> list[dict[bytes, bytes]]:
        pipe = self.client.pipeline(transaction=False)
        for s in seqs:
            pipe.hgetall(self._article_key(s))
        return pipe.execute()

    def find(self, article_id: str) -> StoredArticle | None:
        def read() -> tuple[int, dict[bytes, bytes]] | None:
            seq = self.client.hget(self._ids, article_id)
            if seq is None:
                return None
            fields: dict[Any, Any] = self.client.hgetall(self._article_key(int(seq)))
            return int(seq), fields

        found = self._call(read)
        if found is None or not found[1]:
            return None
        return self._stored(*found)

    def older_than(self, cutoff: float) -> list[StoredArticle]:
        below = f"({float(cutoff)!r}"  # exclusive, as SQLite's <
        return self._load(
            _ints(self._call(partial(self.client.zrangebyscore, self._age, "-inf", below)))
        )

    def groups(self) -> tuple[int, int]:
        def read() -> tuple[int, int]:
            groups = members = 0
            # HSCAN, not HVALS: one cluster per article, and the server should not block
            # on a single huge reply.
            for _, value in self.client.hscan_iter(self._clusters, count=1000):
                n = int(value)
                if n > 1:
                    groups, members = groups + 1, members + n
            return groups, members

        return self._call(read)

    def time_range(self) -> tuple[float | None, float | None]:
        def read() -> list[Any]:
            pipe = self.client.pipeline(transaction=True)
            pipe.zrange(self._published, 0, 0, withscores=True)
            pipe.zrange(self._published, -1, -1, withscores=True)
            return pipe.execute()

        first, last = self._call(read)
        return (
            float(first[0][1]) if first else None,
            float(last[0][1]) if last else None,
        )

    def band_entries(self) -> int:
        return int(self._call(partial(self.client.get, self._bands)) or 0)

    def size_bytes(self) -> int:
        """Memory the index takes on the server.

        Exact (the sum of ``MEMORY USAGE key SAMPLES 0`` over the prefix's keys) when the
        index has fewer than ``EXACT_SIZE_KEYS`` keys on a database of at most ten times
        that; otherwise the server's whole ``used_memory`` (INFO memory), an upper bound,
        because measuring key by key would take long and load the server.
        """
        return self._call(self._size_bytes)

    def _size_bytes(self) -> int:
        pipe = self.client.pipeline(transaction=False)
        pipe.hlen(self._ids)
        pipe.get(self._bands)
        pipe.dbsize()
        articles, entries, dbsize = pipe.execute()
        if int(articles) + int(entries or 0) < EXACT_SIZE_KEYS and dbsize <= 10 * EXACT_SIZE_KEYS:
            keys = list(self.client.scan_iter(match=self._pattern("*"), count=1000))
            if len(keys) < EXACT_SIZE_KEYS:
                total = 0
                for chunk in _batched(keys, BATCH):
                    pipe = self.client.pipeline(transaction=False)
                    for key in chunk:
                        pipe.memory_usage(key, samples=0)
                    total += sum(int(n or 0) for n in pipe.execute())
                return total
        return int(self.client.info("memory")["used_memory"])

    # -- writes ----------------------------------------------------------------------------

    def insert(self, article: StoredArticle, bucket_keys: Sequence[int]) -> int:
        columns, counts, signed = article.row.to_blobs()
        fields: dict[EncodableT, EncodableT] = {
            "id": article.id,
            "published": "" if article.published is None else repr(article.published),
            "added_at": repr(article.added_at),
            "cluster": article.cluster,
            "verdict": article.verdict,
            "columns": columns,
            "counts": counts,
            "signed": signed,
            "keys": article.keys,
            "size": article.size,
            "signature": article.signature,
        }
        keys = list(dict.fromkeys(int(k) for k in bucket_keys))
        # A seq lost to a failed attempt is a harmless gap: seqs only need to grow.
        seq = int(self._call(partial(self.client.incr, self._seq)))
        attempts = 0

        def write() -> int:
            nonlocal attempts
            attempts += 1
            if attempts > 1:
                # Did the earlier EXEC land, with only its reply lost? Then do not apply the
                # (not idempotent: counters) writes again. MULTI/EXEC is all or nothing, so
                # the id map tells.
                landed = self.client.hget(self._ids, article.id)
                if landed is not None:
                    return int(landed)
            groups, bands = self._buckets(keys)
            script_keys = [
                self._article_key(seq),
                self._ids,
                self._order,
                self._age,
                self._published,
                self._bands,
                self._clusters,
                self._last,
                *groups,
            ]
            published = "" if article.published is None else repr(article.published)
            args: list[EncodableT] = [seq, article.id, repr(article.age_time), published]
            args += [article.cluster, _seq_bytes(seq), 2 * len(fields)]
            for name, value in fields.items():
                args.extend((name, value))
            args.extend(bands)
            self._insert(keys=script_keys, args=args)
            return seq

        stored = self._call(write)
        self._expect = (str(stored).encode(), self._expect[1])
        return stored

    def delete(self, articles: Sequence[StoredArticle]) -> None:
        # Chunks keep each MULTI/EXEC (and the server's pause running it) small. Every chunk
        # bumps the generation: a process that caught up between two chunks must start over
        # again after the next one.
        for chunk in _batched(articles, BATCH):
            self._call(partial(self._delete_chunk, chunk, [False]))

    def _delete_chunk(self, chunk: Sequence[StoredArticle], tried: list[bool]) -> None:
        todo = list(chunk)
        if tried[0]:
            # As for insert: the earlier EXEC removed all of the chunk or none of it.
            pipe = self.client.pipeline(transaction=False)
            for a in todo:
                pipe.exists(self._article_key(a.seq))
            todo = [a for a, present in zip(todo, pipe.execute(), strict=True) if present]
            if not todo:
                return
        tried[0] = True
        pipe = self.client.pipeline(transaction=True)
        cluster_at: dict[str, int] = {}
        for a in todo:
            keys = list(dict.fromkeys(np.frombuffer(a.keys, dtype="<u8").tolist()))
            pipe.delete(self._article_key(a.seq))
            pipe.hdel(self._ids, a.id)
            pipe.zrem(self._order, a.seq)
            pipe.zrem(self._age, a.seq)
            pipe.zrem(self._published, a.seq)
            if keys:
                groups, bands = self._buckets(keys)
                self._remove(keys=groups, args=[_seq_bytes(a.seq), *bands], client=pipe)
            pipe.decrby(self._bands, len(keys))
            cluster_at[a.cluster] = len(pipe)
            pipe.hincrby(self._clusters, a.cluster, -1)
        pipe.hincrby(self._meta, "generation", 1)
        results = pipe.execute()
        self._expect = (self._expect[0], str(results[-1]).encode())
        # Drop emptied groups (groups() ignores them anyway); we hold the lock, so no insert
        # can have grown them since.
        empty = [c for c, at in cluster_at.items() if int(results[at]) <= 0]
        if empty:
            self.client.hdel(self._clusters, *empty)

    # -- checks ----------------------------------------------------------------------------

    def integrity_problems(self) -> list[str]:
        """Every inconsistency between the id map, article hashes, sorted sets and buckets.

        A full pass: it holds every seq and bucket name in memory and reads every key.
        """
        return self._call(self._integrity_problems)

    def _integrity_problems(self) -> list[str]:
        problems: list[str] = []
        meta = self.client.hgetall(self._meta)
        for field in (b"schema_version", b"params"):
            if field not in meta:
                problems.append(f"meta has no {field.decode()}")
        ids = {_text(k): int(v) for k, v in self.client.hscan_iter(self._ids, count=1000)}
        seqs = set(ids.values())
        if len(seqs) != len(ids):
            problems.append(f"{len(ids) - len(seqs)} ids share a seq with another id")
        counter = int(self.client.get(self._seq) or 0)
        last = int(self.client.get(self._last) or 0)
        if last > counter or (seqs and max(seqs) > counter):
            problems.append(f"seq counter {counter} is below a seq in use")

        present: set[int] = set()  # seqs whose article hash reads back
        clusters: Counter[str] = Counter()
        published: dict[int, float] = {}
        ages: dict[int, float] = {}
        entries: list[tuple[int, int]] = []
        for chunk in _batched(sorted(ids.items(), key=lambda item: item[1]), BATCH):
            hashes = self._hgetall_articles([s for _, s in chunk])
            for (article_id, seq), fields in zip(chunk, hashes, strict=True):
                if not fields:
                    problems.append(f"id {article_id!r} maps to seq {seq}, which has no article")
                    continue
                try:
                    stored = self._stored(seq, fields, thorough=True)
                except DedupeError as exc:
                    problems.append(str(exc))
                    continue
                present.add(seq)
                if stored.id != article_id:
                    problems.append(f"seq {seq} holds id {stored.id!r}, the id map {article_id!r}")
                clusters[stored.cluster] += 1
                ages[seq] = stored.age_time
                if stored.published is not None:
                    published[seq] = stored.published
                if len(stored.keys) % 8:
                    problems.append(f"seq {seq}: band keys blob of {len(stored.keys)} bytes")
                else:
                    keys = np.frombuffer(stored.keys, dtype="<u8").tolist()
                    entries.extend((int(k), seq) for k in keys)

        for name, want in (
            ("order", dict.fromkeys(seqs, 0.0)),
            ("age", ages),
            ("published", published),
        ):
            have = {int(m): s for m, s in self.client.zscan_iter(self.prefix + name, count=1000)}
            if set(have) != set(want):
                missing, extra = len(set(want) - set(have)), len(set(have) - set(want))
                problems.append(f"sorted set {name}: {missing} seqs missing, {extra} unknown")
            elif name != "order" and any(have[s] != want[s] for s in want):
                problems.append(f"sorted set {name}: scores differ from the articles' times")
            elif name == "order" and any(have[s] != s for s in have):
                problems.append("sorted set order: scores differ from seqs")

        stray = [
            key
            for key in self.client.scan_iter(match=self._pattern("a:*"), count=1000)
            if _seq_of(key, len(self.prefix.encode()) + 2) not in seqs
        ]
        if stray:
            problems.append(f"{len(stray)} article hashes are not in the id map")

        missing_entries = 0
        for pairs in _batched(entries, BATCH):
            groups, bands = self._buckets([key for key, _ in pairs])
            pipe = self.client.pipeline(transaction=False)
            for group, band in zip(groups, bands, strict=True):
                pipe.hget(group, band)
            for (_, seq), members in zip(pairs, pipe.execute(), strict=True):
                missing_entries += members is None or _seq_bytes(seq) not in _chunks8(members)
        if missing_entries:
            problems.append(f"{missing_entries} band entries of articles are missing")
        orphans = total = damaged = 0
        for group in self.client.scan_iter(match=self._pattern("B:*"), count=1000):
            for band, members in self.client.hscan_iter(group, count=1000):
                if len(band) != 8 or len(members) % 8 or not members:
                    damaged += 1
                    continue
                seqs = np.frombuffer(members, dtype="<u8").tolist()
                total += len(seqs)
                orphans += sum(m not in present for m in seqs)
        if damaged:
            problems.append(f"{damaged} band buckets are damaged (not whole 8-byte seqs)")
        if orphans:
            problems.append(f"{orphans} band entries point at no article")
        counted = int(self.client.get(self._bands) or 0)
        if counted != total:
            problems.append(f"band entry count says {counted}, buckets hold {total}")

        stored_counts = {
            _text(c): int(n) for c, n in self.client.hscan_iter(self._clusters, count=1000)
        }
        stored_counts = {c: n for c, n in stored_counts.items() if n != 0}
        if stored_counts != dict(clusters):
            differ = sorted(set(stored_counts.items()) ^ set(clusters.items()))
            problems.append(f"group sizes differ from the articles for {len(differ)} groups")
        return problems

    def close(self) -> None:
        self.client.close()

    # -- helpers ---------------------------------------------------------------------------

    def _article_key(self, seq: int) -> str:
        return f"{self.prefix}a:{seq}"

    def _buckets(self, keys: Sequence[int]) -> tuple[list[str], list[bytes]]:
        """The group hash and the field of each band key (see the module doc)."""
        shift = 64 - GROUP_BITS
        groups = [f"{self.prefix}B:{int(k) >> shift}" for k in keys]
        return groups, [int(k).to_bytes(8, "little") for k in keys]

    def _pattern(self, rest: str) -> str:
        """A SCAN pattern for keys under the prefix (glob characters in it escaped)."""
        escaped = "".join("\\" + ch if ch in "\\*?[]" else ch for ch in self.prefix)
        return escaped + rest

    def _candidates(self, found: list[tuple[int, dict[bytes, Any]]]) -> CandidateRows:
        seqs, ids, published, clusters = [], [], [], []
        for seq, fields in found:
            with self._reading(seq, fields):
                when = fields[b"published"]
                ids.append(_text(fields[b"id"]))
                published.append(float(when) if when else None)
                clusters.append(_text(fields[b"cluster"]))
                seqs.append(seq)
                missing = [f for f in (b"columns", b"counts", b"signed") if f not in fields]
                if missing:
                    raise KeyError(missing[0])
        try:
            features = batch_from_blobs(
                [f[b"columns"] for _, f in found],
                [f[b"counts"] for _, f in found],
                [f[b"signed"] for _, f in found],
            )
        except RowDamage as exc:
            seq, fields = found[exc.index]
            with self._reading(seq, fields):  # reported as that article's damage
                raise
        return CandidateRows(
            seqs=seqs, ids=ids, published=published, clusters=clusters, features=features
        )

    def _stored(
        self, seq: int, fields: dict[bytes, bytes], *, thorough: bool = False
    ) -> StoredArticle:
        with self._reading(seq, fields):
            published = fields[b"published"]
            return StoredArticle(
                seq=seq,
                id=_text(fields[b"id"]),
                published=float(published) if published else None,
                added_at=float(fields[b"added_at"]),
                cluster=_text(fields[b"cluster"]),
                verdict=_text(fields[b"verdict"]),
                row=Row.from_blobs(
                    fields[b"columns"], fields[b"counts"], fields[b"signed"], thorough=thorough
                ),
                keys=bytes(fields[b"keys"]),
                signature=bytes(fields[b"signature"]),
                size=int(fields[b"size"]),
            )

    @contextmanager
    def _reading(self, seq: int, fields: dict[bytes, Any]) -> Iterator[None]:
        """Turn a missing or malformed field of article ``seq`` into a clear error."""
        try:
            yield
        except (KeyError, ValueError, TypeError, UnicodeDecodeError) as exc:
            article_id = (fields.get(b"id") or b"?").decode(errors="replace")
            raise DedupeError(
                f"{self.location}: article {article_id!r} (seq {seq}) is damaged: "
                f"{type(exc).__name__}: {exc}"
            ) from None


def _batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``itertools.batched`` (Python 3.12+), for 3.11."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def _text(value: bytes | str) -> str:
    return value if isinstance(value, str) else value.decode("utf-8")


def _ints(values: Iterable[Any]) -> list[int]:
    """Members Redis returned (bytes of decimal seqs) as ints."""
    return [int(v) for v in values]


def _seq_bytes(seq: int) -> bytes:
    return int(seq).to_bytes(8, "little")


def _chunks8(members: bytes) -> list[bytes]:
    return [members[i : i + 8] for i in range(0, len(members), 8)]


def _members(location: str, key: int, members: bytes) -> list[int]:
    """A bucket's seqs; a value that is not whole 8-byte seqs is damage, named as such."""
    if len(members) % 8:
        raise DedupeError(
            f"{location}: LSH bucket {key} is damaged ({len(members)} bytes, not whole "
            "8-byte seqs); run: dedupe index verify, then rebuild the index"
        )
    seqs: list[int] = np.frombuffer(members, dtype="<u8").astype(np.int64).tolist()
    return seqs


def _seq_of(key: bytes, start: int) -> int | None:
    try:
        return int(key[start:])
    except ValueError:
        return None


def _split_url(url: str) -> tuple[str, str, str | None]:
    """(URL for the client without our ``prefix`` option, URL without password, prefix)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefixes = [v for k, v in query if k == "prefix"]
    rest = [(k, v) for k, v in query if k != "prefix"]
    client_url = urlunsplit(parts._replace(query=urlencode(rest)))
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}@{host}" if user else host
    shown = [(k, v) for k, v in query if k != "password"]
    location = urlunsplit(parts._replace(netloc=netloc, query=urlencode(shown)))
    return client_url, location, prefixes[-1] if prefixes else None
