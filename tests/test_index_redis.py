"""The pre-filter index on a real Redis server (``redis://`` URLs).

Each test starts its own ``redis-server`` on a free loopback port. Without ``redis-server``
the tests are skipped, unless ``DEDUPE_REQUIRE_REDIS=1`` (CI sets it) makes that a failure.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from dedupe import Article, open_index, read_paths
from dedupe.config import build_config
from dedupe.errors import DedupeError, UsageError
from dedupe.index import core, redis_store
from tests.conftest import REPO, paragraphs, pseudo_sentences

MakeArticle = Callable[..., Article]


# -- a real server ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """One ``redis-server`` process on loopback; ``durable`` turns on fsync-always AOF."""

    def __init__(self, binary: str, directory: Path, *, durable: bool) -> None:
        self.binary = binary
        self.dir = directory
        self.durable = durable
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1.0)

    def start(self) -> None:
        """Start on a free port (a fresh one if another process took it), or on the same
        port again after ``kill``/``stop``."""
        fixed = self.port != 0
        for _ in range(1 if fixed else 5):
            if not fixed:
                self.port = _free_port()
            persistence = (
                ["--appendonly", "yes", "--appendfsync", "always"]
                if self.durable
                else ["--appendonly", "no"]
            )
            # --save '': no RDB snapshots; only the AOF (when durable) keeps data.
            self.proc = subprocess.Popen(
                [
                    self.binary,
                    "--port", str(self.port),
                    "--bind", "127.0.0.1",
                    "--save", "",
                    *persistence,
                    "--dir", str(self.dir),
                    "--logfile", str(self.dir / "redis.log"),
                    "--daemonize", "no",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            if self._answers():
                return
            self._end(signal.SIGKILL)
        log = (self.dir / "redis.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"redis-server did not start on port {self.port}:\n{log}")

    def _answers(self, seconds: float = 15.0) -> bool:
        """PING answered by *our* process (not another test's server on a reused port)."""
        assert self.proc is not None
        client = self.client()
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    return False  # e.g. the port was taken meanwhile
                try:
                    # BusyLoadingError (replaying the AOF) is a ConnectionError: keep waiting.
                    if client.ping() and client.info("server")["process_id"] == self.proc.pid:
                        return True
                except redis.ConnectionError:
                    pass
                time.sleep(0.05)
            return False
        finally:
            client.close()

    def _end(self, sig: signal.Signals) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=20)
        self.proc = None

    def kill(self) -> None:
        """SIGKILL: the server dies without a chance to save anything."""
        self._end(signal.SIGKILL)

    def stop(self) -> None:
        """SIGTERM: a clean shutdown."""
        self._end(signal.SIGTERM)


def _server(tmp_path: Path, *, durable: bool) -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not installed (Debian: apt-get install redis-server)"
        if os.environ.get("DEDUPE_REQUIRE_REDIS") == "1":
            pytest.fail(f"DEDUPE_REQUIRE_REDIS=1 but {message}")
        pytest.skip(message)
    directory = tmp_path / "redis"
    directory.mkdir()
    server = RedisServer(binary, directory, durable=durable)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A throwaway server without persistence."""
    yield from _server(tmp_path, durable=False)


@pytest.fixture
def durable_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A server that fsyncs every write to its AOF, so it can be killed and restarted."""
    yield from _server(tmp_path, durable=True)


# -- articles --------------------------------------------------------------------------------


def _examples() -> list[Article]:
    return sorted(read_paths([REPO / "examples/news.jsonl"]).articles, key=lambda a: a.id)


def _story(make_article: MakeArticle, seed: int, **fields: object) -> Article:
    return make_article(f"story-{seed}", paragraphs(pseudo_sentences(seed, 14)), **fields)


def _rewrite(make_article: MakeArticle, seed: int, **fields: object) -> Article:
    """The story of ``seed`` with its last sentence replaced: a near-duplicate."""
    sentences = pseudo_sentences(seed, 14)
    sentences[-1] = pseudo_sentences(seed + 50_000, 1)[0]
    return make_article(f"rewrite-{seed}", paragraphs(sentences), **fields)


# -- tests -----------------------------------------------------------------------------------


def test_same_verdicts_as_sqlite(redis_server: RedisServer, tmp_path: Path) -> None:
    articles = _examples()
    with open_index(tmp_path / "x.idx") as idx:
        on_sqlite = [v.to_dict() for v in idx.add_many(articles)]
    with open_index(redis_server.url) as idx:
        on_redis = [v.to_dict() for v in idx.add_many(articles)]
        stats = idx.stats()
        assert idx.integrity_problems() == []
    # A user switching backends gets exactly the same answers, scores included.
    assert on_redis == on_sqlite
    assert sum(v["status"] != "unique" for v in on_redis) > 5
    assert stats.backend == "redis" and stats.articles == len(articles)
    assert stats.location == redis_server.url
    assert stats.bytes_on_disk > 0


def test_check_is_read_only_then_add_finds_the_article_itself(
    redis_server: RedisServer, make_article: MakeArticle
) -> None:
    article = _story(make_article, 1)
    with open_index(redis_server.url) as idx:
        probe = idx.check(article)
        assert probe.status == "unique" and not probe.added
        assert idx.stats().articles == 0
        added = idx.add(article)
        assert added.added and not added.already_indexed
        checked = idx.check(article)
        assert checked.already_indexed and checked.status == "near_duplicate"
        assert [m.id for m in checked.matches][:1] == [article.id]
        assert checked.matches[0].jaccard == 1.0
        again = idx.add(article)
        # The recorded verdict comes back; nothing is stored twice.
        assert again.already_indexed and not again.added
        assert again.status == added.status
        assert idx.stats().articles == 1


def test_two_prefixes_on_one_server_do_not_see_each_other(
    redis_server: RedisServer, make_article: MakeArticle
) -> None:
    article = _story(make_article, 2)
    with (
        open_index(redis_server.url + "?prefix=team-a") as a,
        open_index(redis_server.url + "?prefix=team-b") as b,
    ):
        assert a.add(article).added
        assert b.check(article).status == "unique"
        assert b.stats().articles == 0
        assert b.add(article).added  # not "already indexed": b never saw it
        assert a.stats().articles == b.stats().articles == 1
    client = redis_server.client()
    keys = {k.decode() for k in client.scan_iter()}
    client.close()
    assert keys and all(k.startswith(("team-a:", "team-b:")) for k in keys)


def test_other_shingle_settings_are_refused_by_name(redis_server: RedisServer) -> None:
    open_index(redis_server.url).close()
    with pytest.raises(UsageError, match=r"shingle\.size"):
        open_index(redis_server.url, build_config({}, {"shingle.size": 4}))


def test_prune_forgets_old_articles_as_if_never_added(
    redis_server: RedisServer, make_article: MakeArticle
) -> None:
    day = datetime(2026, 1, 1, tzinfo=UTC)
    articles = [_story(make_article, s, published=day + timedelta(days=s)) for s in range(20)]
    articles += [_rewrite(make_article, s, published=day + timedelta(days=s)) for s in range(20)]
    cutoff = day + timedelta(days=10)
    old = [a for a in articles if a.published and a.published < cutoff]
    recent = [a for a in articles if a not in old]
    probes = [
        make_article(f"probe-{s}", _rewrite(make_article, s).text) for s in (100, 101, 102, 1, 15)
    ]
    pruned_url, fresh_url = redis_server.url + "?prefix=pruned", redis_server.url + "?prefix=fresh"
    with open_index(pruned_url) as idx:
        list(idx.add_many(articles))
        last_seq = idx.store.state().last_seq
        assert idx.prune(cutoff.timestamp()) == len(old) == 20
        stats = idx.stats()
        assert stats.articles == len(recent)
        assert stats.oldest == cutoff.isoformat()
        assert idx.integrity_problems() == []
        after_prune = [idx.check(p).to_dict() for p in probes]
        # seqs are never reused after a delete.
        idx.add(_story(make_article, 999))
        assert idx.store.state().last_seq == last_seq + 1
    with open_index(fresh_url) as idx:
        list(idx.add_many(recent))
        fresh = [idx.check(p).to_dict() for p in probes]
    # Same verdicts and scores as an index that only ever held the recent articles (group
    # names aside: they remember roots that were pruned).
    for a, b in zip(after_prune, fresh, strict=True):
        a.pop("cluster")
        b.pop("cluster")
    assert after_prune == fresh
    assert after_prune[3]["status"] == "unique"  # its original was pruned
    assert after_prune[4]["status"] != "unique"


def test_integrity_check_reports_damage(
    redis_server: RedisServer, make_article: MakeArticle
) -> None:
    with open_index(redis_server.url) as idx:
        list(idx.add_many([_story(make_article, s) for s in range(3)]))
        assert idx.integrity_problems() == []
        client = redis_server.client()
        client.delete("dedupe:a:2")
        client.hset("dedupe:a:3", "counts", b"\x01")
        client.close()
        problems = idx.integrity_problems()
    assert any("seq 2, which has no article" in p for p in problems)
    assert any("band entries point at no article" in p for p in problems)
    assert any("(seq 3) is damaged" in p for p in problems)


def test_an_index_whose_keys_vanished_is_not_written_to(
    redis_server: RedisServer, make_article: MakeArticle
) -> None:
    with open_index(redis_server.url) as idx:
        assert idx.add(_story(make_article, 5)).added
        client = redis_server.client()
        client.flushdb()  # as a restart without persistence would leave it
        client.close()
        with pytest.raises(DedupeError, match="the index's keys are gone"):
            idx.add(_story(make_article, 6))
        assert idx.stats().articles == 0


def _writer(url: str, articles: list[tuple[str, str]], start: Any, results: Any) -> None:
    """One writer process: add (id, text) articles one transaction each.

    Reports when it began and ended adding, and (id, added) per article.
    """
    stream = [Article(id=article_id, text=text) for article_id, text in articles]
    with open_index(url) as idx:
        start.wait(120)  # both processes are up and connected: go
        began = time.time()
        verdicts = [(v.id, v.added) for v in idx.add_many(stream, commit_every=1)]
        results.put((began, time.time(), verdicts))


def test_two_writer_processes_store_every_article_once(
    redis_server: RedisServer, make_article: MakeArticle
) -> None:
    pairs = [(_story(make_article, s), _rewrite(make_article, s)) for s in range(12)]
    shared = [_story(make_article, s) for s in range(500, 504)]
    stream = [a for pair in pairs for a in pair]
    # Each story goes to one process and its rewrite to the other, so the pair's check-and-
    # insert race; the shared articles are sent to both.
    halves = [
        [(a.id, a.text) for a in half]  # Article holds a mappingproxy: not picklable
        for half in (stream[0::2] + shared, stream[1::2] + shared[::-1])
    ]
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(len(halves)), context.Queue()
    open_index(redis_server.url).close()  # create it before the race
    workers = [
        context.Process(target=_writer, args=(redis_server.url, half, start, results))
        for half in halves
    ]
    for worker in workers:
        worker.start()
    reported = [results.get(timeout=180) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    # They did write at the same time.
    assert max(began for began, _, _ in reported) < min(ended for _, ended, _ in reported)
    added = [i for _, _, verdicts in reported for i, was_added in verdicts if was_added]
    # Every article stored exactly once, whoever got there first.
    assert sorted(added) == sorted(a.id for a in stream + shared)
    with open_index(redis_server.url) as idx:
        assert idx.stats().articles == len(stream) + len(shared)
        assert idx.integrity_problems() == []
        for story, rewrite in pairs:
            first, second = idx.add(story), idx.add(rewrite)
            assert first.already_indexed and second.already_indexed
            # Whichever was committed second names the other: no pair slipped past.
            assert rewrite.id in {m.id for m in first.matches} or story.id in {
                m.id for m in second.matches
            }
            assert first.cluster == second.cluster


def test_a_writer_that_outlived_its_lock_stops_instead_of_interleaving(
    redis_server: RedisServer, make_article: MakeArticle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_store, "LOCK_TTL_SECONDS", 0.5)
    with open_index(redis_server.url) as slow, open_index(redis_server.url) as fast:
        # A writer stalls past its lock's lifetime, but nobody else wrote: it carries on
        # (the lock is taken again).
        with slow.store.transaction(write=True):
            time.sleep(0.8)
            assert slow.store.article_count() == 0
        # This time another writer gets in while it stalls: it stops with an error instead
        # of going on from what it read before.
        with (
            pytest.raises(DedupeError, match="lost the index's write lock"),
            slow.store.transaction(write=True),
        ):
            time.sleep(0.8)
            assert fast.add(_story(make_article, 3)).added
            slow.store.state()
        assert slow.add(_story(make_article, 4)).added
        assert slow.integrity_problems() == []


def test_server_killed_mid_stream_fails_and_keeps_what_was_acknowledged(
    durable_redis: RedisServer, make_article: MakeArticle
) -> None:
    articles = [_story(make_article, s) for s in range(12)]
    articles += [_rewrite(make_article, s) for s in range(12)]
    acknowledged = []
    idx = open_index(durable_redis.url)  # on_redis_down: fail (the default)
    with pytest.raises(DedupeError) as failure:
        for verdict in idx.add_many(articles, commit_every=1):
            acknowledged.append(verdict)
            if len(acknowledged) == 15:
                durable_redis.kill()
    idx.close()
    message = str(failure.value)
    assert durable_redis.url in message
    assert "acknowledged before this error are kept" in message and "re-run" in message
    assert len(acknowledged) == 15

    durable_redis.start()  # same port and folder: it replays its AOF
    with open_index(durable_redis.url) as idx:
        rerun = list(idx.add_many(articles))
        assert idx.stats().articles == len(articles)
        assert idx.integrity_problems() == []
    # Every acknowledged verdict survived the kill, as it was given; the rest were added now.
    assert [v.already_indexed for v in rerun] == [True] * 15 + [False] * 9
    for before, after in zip(acknowledged, rerun, strict=False):
        assert after.to_dict() == {**before.to_dict(), "added": False, "already_indexed": True}
    assert sum(v.status != "unique" for v in rerun) == 12


def test_wait_mode_rides_out_a_restart(
    durable_redis: RedisServer, make_article: MakeArticle, caplog: pytest.LogCaptureFixture
) -> None:
    config = build_config({"index": {"on_redis_down": "wait", "redis_retry_seconds": 60}})
    story, rewrite = _story(make_article, 7), _rewrite(make_article, 7)
    with open_index(durable_redis.url, config) as idx:
        assert idx.add(story).added
        durable_redis.stop()
        failures: list[BaseException] = []

        def restart() -> None:
            time.sleep(1.0)
            try:
                durable_redis.start()
            except BaseException as exc:
                failures.append(exc)

        restarter = threading.Thread(target=restart)
        restarter.start()
        began = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="dedupe"):
            verdict = idx.add(rewrite)
        waited = time.monotonic() - began
        restarter.join()
        assert not failures
        # The add waited for the server instead of failing, and stored the article.
        assert verdict.added and verdict.status == "near_duplicate"
        assert waited >= 0.9
        assert idx.check(rewrite).already_indexed
        assert idx.stats().articles == 2
        assert idx.integrity_problems() == []
    warnings = [r.getMessage() for r in caplog.records if r.name == "dedupe"]
    assert len(warnings) == 2
    assert "unreachable" in warnings[0] and durable_redis.url in warnings[0]
    assert "back after" in warnings[1]


def test_wait_mode_gives_up_after_redis_retry_seconds(
    durable_redis: RedisServer, make_article: MakeArticle, caplog: pytest.LogCaptureFixture
) -> None:
    config = build_config({"index": {"on_redis_down": "wait", "redis_retry_seconds": 1}})
    with open_index(durable_redis.url, config) as idx:
        durable_redis.stop()
        began = time.monotonic()
        with (
            caplog.at_level(logging.WARNING, logger="dedupe"),
            pytest.raises(DedupeError, match=r"lost the connection to Redis for \d+ s"),
        ):
            idx.add(_story(make_article, 8))
        assert 0.9 <= time.monotonic() - began < 10
    assert any("retrying for up to 1 s" in r.getMessage() for r in caplog.records)


def test_unreachable_server_is_named_without_its_password() -> None:
    port = _free_port()  # nothing listens there
    with pytest.raises(DedupeError) as failure:
        open_index(f"redis://:hunter2@127.0.0.1:{port}/0?prefix=news")
    message = str(failure.value)
    assert f"redis://127.0.0.1:{port}/0?prefix=news" in message
    assert "cannot reach Redis" in message
    assert "hunter2" not in message


def test_a_full_bucket_offers_only_its_first_member(redis_server: RedisServer) -> None:
    # As on SQLite (tests/test_index.py): the third copy onwards meets the first member only,
    # from committed buckets (one article per commit) and from the open transaction alike.
    config = build_config({"lsh": {"max_bucket_size": 2}})
    text = paragraphs(pseudo_sentences(5, 30))
    for commit_every in (1, 10):
        copies = [Article(id=f"copy-{commit_every}-{i}", text=text) for i in range(5)]
        url = f"{redis_server.url}?prefix=capped{commit_every}"
        with open_index(url, config) as idx:
            verdicts = list(idx.add_many(copies, commit_every=commit_every))
        first = f"copy-{commit_every}-0"
        assert [[m.id for m in v.matches] for v in verdicts] == [[], *[[first]] * 4]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        # The hash is still there, one field is not.
        (lambda client: client.hdel("dedupe:a:1", "id"), r"\(seq 1\) is damaged: KeyError"),
        # Odd length: not whole uint16 counts.
        (
            lambda client: client.hset("dedupe:a:1", "counts", b"\x01"),
            r"'story-7' \(seq 1\) is damaged: RowDamage",
        ),
    ],
    ids=["missing-field", "truncated-blob"],
)
def test_a_damaged_candidate_is_named_not_skipped(
    redis_server: RedisServer,
    make_article: MakeArticle,
    damage: Callable[[redis.Redis], object],
    message: str,
) -> None:
    with open_index(redis_server.url) as idx:
        assert idx.add(_story(make_article, 7)).added
        client = redis_server.client()
        damage(client)
        client.close()
        # Its near-duplicate reads it as a candidate: a clear error naming the seq.
        with pytest.raises(DedupeError, match=message):
            idx.check(_rewrite(make_article, 7))


def test_an_index_with_a_key_per_bucket_is_refused_with_the_way_out(
    redis_server: RedisServer, make_article: MakeArticle
) -> None:
    with open_index(redis_server.url) as idx:
        idx.add(_story(make_article, 1))
    client = redis_server.client()
    client.hdel("dedupe:meta", "buckets")  # as an index written before buckets were grouped
    client.close()
    with pytest.raises(UsageError, match=r"one key each .*rebuild the index"):
        open_index(redis_server.url)


def test_buckets_share_hashes_and_prune_empties_them(
    redis_server: RedisServer, make_article: MakeArticle, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ~99% of band buckets hold one article; a Redis key each cost ~120 bytes of server
    # memory for 8 bytes of seq, so buckets are fields of far fewer group hashes. (2^8
    # groups here, so that 30 articles fill them as a large index fills its 2^20.)
    monkeypatch.setattr(redis_store, "GROUP_BITS", 8)
    day = datetime(2026, 1, 1, tzinfo=UTC)
    articles = [_story(make_article, s, published=day + timedelta(days=s)) for s in range(30)]
    client = redis_server.client()
    with open_index(redis_server.url) as idx:
        list(idx.add_many(articles))
        entries = idx.stats().band_entries
        keys = list(client.scan_iter(match="dedupe:*"))
        assert len(keys) < 300 < entries  # 256 groups at most, and the other keys
        assert idx.prune((day + timedelta(days=100)).timestamp()) == 30
        assert idx.integrity_problems() == []
        assert idx.stats().band_entries == 0
    assert list(client.scan_iter(match="dedupe:B:*")) == []
    client.close()


def test_a_damaged_bucket_is_named_by_check_and_by_verify(
    redis_server: RedisServer, make_article: MakeArticle
) -> None:
    story = _story(make_article, 7)
    with open_index(redis_server.url) as idx:
        idx.add(story)
        client = redis_server.client()
        group = next(iter(client.scan_iter(match="dedupe:B:*")))
        band, members = next(iter(client.hscan_iter(group)))
        client.hset(group, band, members + b"\x01")  # no longer whole 8-byte seqs
        client.close()
        assert any("band buckets are damaged" in p for p in idx.integrity_problems())
        with pytest.raises(DedupeError, match=r"LSH bucket \d+ is damaged"):
            idx.check(make_article("again", story.text))


def test_a_reopened_index_counts_from_the_saved_frequencies(
    redis_server: RedisServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core, "SAVE_FREQUENCIES_EVERY", 10)
    articles = _examples()
    with open_index(redis_server.url) as idx:
        list(idx.add_many(articles[:25]))
    with open_index(redis_server.url) as idx:
        checks = [idx.check(a).to_dict() for a in articles[25:]]
        saved = idx.store.read_frequencies()
        assert idx.integrity_problems() == []
    assert saved is not None and saved.articles == 25
    # The same verdicts as SQLite counting every article.
    path = tmp_path / "x.idx"
    with open_index(path) as idx:
        list(idx.add_many(articles[:25]))
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM saved_frequencies")
    with open_index(path) as idx:
        assert [idx.check(a).to_dict() for a in articles[25:]] == checks
