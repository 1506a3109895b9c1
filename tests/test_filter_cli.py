"""`dedupe filter` and `dedupe index` as a user runs them, with crashes and full disks."""

from __future__ import annotations

import json
import os
import resource
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.synthetic import generate_corpus
from dedupe import open_index
from dedupe.cli import main
from tests.conftest import REPO

DEDUPE = [sys.executable, "-m", "dedupe"]


@pytest.fixture(scope="module")
def corpus_1000(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "c1000.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for record in generate_corpus(1000, seed=7).records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def _run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*DEDUPE, *args], input=stdin, capture_output=True, cwd=REPO, check=False)


def test_filter_tags_every_line_and_keeps_malformed_ones(tmp_path: Path) -> None:
    good = (REPO / "examples/news.jsonl").read_bytes().splitlines()[:6]
    lines = [
        good[0],
        b"not json",
        b'{"id": "no-text"}',
        b"",
        b"[1, 2]",
        b'{"id": "bytes", "text": "caf\xe9 ole"}',
        good[1],
        b'{"id": "x1", "text": "Banjir bandang melanda desa.", "extra": {"a": 1}}',
        *good[2:],
    ]
    done = _run("filter", "--index", str(tmp_path / "x.idx"), stdin=b"\n".join(lines) + b"\n")
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert len(out) == len(lines) - 1  # the blank line is skipped, and counted
    statuses = [o["dedupe"]["status"] for o in out]
    assert statuses.count("rejected") == 4
    rejected = {o["dedupe"]["source"]: o for o in out if o["dedupe"]["status"] == "rejected"}
    assert rejected["<stdin>:2"]["raw"] == "not json"
    assert "missing text" in rejected["<stdin>:3"]["dedupe"]["error"]
    assert "not UTF-8" in rejected["<stdin>:6"]["dedupe"]["error"]
    # Extra fields come through untouched.
    assert next(o for o in out if o.get("id") == "x1")["extra"] == {"a": 1}
    stderr = done.stderr.decode()
    assert "4 rejected" in stderr and "1 blank lines skipped" in stderr


def test_each_verdict_comes_out_before_the_next_line_is_sent(
    tmp_path: Path, corpus_1000: Path
) -> None:
    # A slow crawler: one line at a time, waiting for its verdict before sending the next.
    records = corpus_1000.read_text(encoding="utf-8").splitlines()[:5]
    proc = subprocess.Popen(
        [*DEDUPE, "filter", "--index", str(tmp_path / "slow.idx")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        for record in records:
            proc.stdin.write(record.encode("utf-8") + b"\n")
            proc.stdin.flush()
            ready, _, _ = select.select([proc.stdout], [], [], 60)
            assert ready, "no verdict within 60 s while the filter had its line"
            out = json.loads(proc.stdout.readline())
            assert out["id"] == json.loads(record)["id"] and out["dedupe"]["added"]
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    assert proc.returncode == 0


def test_drop_and_rejects_file(tmp_path: Path) -> None:
    news = (REPO / "examples/news.jsonl").read_bytes()
    rejects = tmp_path / "bad.jsonl"
    done = _run(
        "filter",
        "--index",
        str(tmp_path / "x.idx"),
        "--drop",
        "near_duplicate",
        "--drop",
        "syndicated",
        "--rejects",
        str(rejects),
        stdin=news + b"{broken\n",
    )
    assert done.returncode == 0, done.stderr
    kept = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert {k["dedupe"]["status"] for k in kept} == {"unique"}
    assert json.loads(rejects.read_text())["dedupe"]["source"] == "<stdin>:35"
    stderr = done.stderr.decode()
    dropped = int(stderr.split(" dropped")[0].rsplit("; ", 1)[1])
    assert dropped == 34 - len(kept)


def test_stream_agrees_with_cluster_on_1000_articles(tmp_path: Path, corpus_1000: Path) -> None:
    """Issue #4: the same articles streamed one at a time and clustered agree."""
    done = _run("filter", "--index", str(tmp_path / "x.idx"), "--batch-size", "1", str(corpus_1000))
    assert done.returncode == 0, done.stderr
    tagged = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert len(tagged) == 1000
    clusters = tmp_path / "c.json"
    assert main(["cluster", str(corpus_1000), "-f", "json", "-o", str(clusters), "-q"]) == 0
    report = json.loads(clusters.read_text())
    streamed = {tuple(sorted((t["id"], m["id"]))) for t in tagged for m in t["dedupe"]["matches"]}
    verified = {(p["left_id"], p["right_id"]) for p in report["pairs"]}
    assert streamed == verified
    # Every article the cluster report groups is tagged as syndicated or matched by a later one.
    linked = {i for pair in streamed for i in pair}
    grouped = {m["id"] for c in report["clusters"] for m in c["members"]}
    assert grouped <= linked
    # The stream has no average-linkage step, so a few articles linked only across two
    # stories (a shared passage) are grouped by the stream but kept apart by the report.
    assert len(linked - grouped) <= 0.02 * len(linked)


def test_sigkill_mid_add_keeps_every_acknowledged_article(
    tmp_path: Path, corpus_1000: Path
) -> None:
    index = tmp_path / "x.idx"
    proc = subprocess.Popen(
        [*DEDUPE, "filter", "--index", str(index), "--batch-size", "8", str(corpus_1000)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=REPO,
    )
    assert proc.stdout is not None
    acknowledged = []
    for line in proc.stdout:
        acknowledged.append(json.loads(line)["id"])
        if len(acknowledged) == 300:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait()
    with open_index(index) as idx:
        assert idx.integrity_problems() == []
        assert all(idx.store.find(i) is not None for i in acknowledged)
        held = idx.stats().articles
    assert held >= 300
    # Re-running the same input completes the index; what was in is not added twice.
    rerun = _run("filter", "--index", str(index), str(corpus_1000))
    assert rerun.returncode == 0
    again = [json.loads(line)["dedupe"] for line in rerun.stdout.decode().splitlines()]
    assert sum(v["already_indexed"] for v in again) == held
    assert main(["index", "verify", str(index)]) == 0


def test_full_disk_stops_with_a_clear_error_and_loses_nothing(
    tmp_path: Path, corpus_1000: Path
) -> None:
    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (400_000, 400_000))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    index = tmp_path / "x.idx"
    done = subprocess.run(
        [*DEDUPE, "filter", "--index", str(index), "--batch-size", "4", str(corpus_1000)],
        capture_output=True,
        cwd=REPO,
        preexec_fn=small_files,
        check=False,
    )
    assert done.returncode == 1
    stderr = done.stderr.decode()
    assert "cannot write" in stderr and "re-run the same input" in stderr
    acknowledged = [json.loads(line)["id"] for line in done.stdout.decode().splitlines()]
    assert acknowledged
    with open_index(index) as idx:
        assert idx.integrity_problems() == []
        assert all(idx.store.find(i) is not None for i in acknowledged)


def test_index_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = str(tmp_path / "news.idx")
    news = str(REPO / "examples/news.jsonl")
    assert main(["index", "add", index, news]) == 0
    assert "34 added, 0 already in the index" in capsys.readouterr().err
    assert main(["index", "add", index, news]) == 0
    assert "0 added, 34 already in the index" in capsys.readouterr().err
    assert main(["index", "check", index, news]) == 0
    checked = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert all(c["dedupe"]["already_indexed"] for c in checked)
    assert main(["index", "stats", index, "--format", "json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["articles"] == 34 and stats["groups"] == 5
    assert main(["index", "prune", index, "--before", "2026-03-01"]) == 0
    err = capsys.readouterr().err
    assert "removed" in err and "remain" in err
    assert main(["index", "verify", index]) == 0
    assert main(["index", "prune", index, "--older-than", "soon"]) == 2
    assert main(["index", "stats", str(tmp_path / "missing.idx")]) == 1
    assert "no index here" in capsys.readouterr().err


def test_check_only_filter_on_a_missing_index_is_an_error_not_a_new_index(
    tmp_path: Path,
) -> None:
    # A mistyped --index with --check-only used to create an empty index and tag every
    # line unique, exit 0.
    missing = tmp_path / "nwes.idx"
    done = _run(
        "filter", "--index", str(missing), "--check-only", str(REPO / "examples/news.jsonl")
    )
    assert done.returncode == 1
    assert b"no index here" in done.stderr
    assert done.stdout == b""
    assert not missing.exists()


def test_index_built_with_other_settings_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = str(tmp_path / "news.idx")
    assert main(["index", "add", index, str(REPO / "examples/news.jsonl")]) == 0
    assert main(["index", "stats", index, "--minhash-num-perm", "128"]) == 2
    assert "minhash.num_perm: index 256, now 128" in capsys.readouterr().err


def test_recover_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = tmp_path / "news.idx"
    assert main(["index", "add", str(index), str(REPO / "examples/news.jsonl")]) == 0
    fixed = tmp_path / "fixed.idx"
    assert main(["index", "recover", str(index), str(fixed)]) == 0
    assert "recovered 34 articles" in capsys.readouterr().err
    assert main(["index", "recover", str(index), str(fixed)]) == 2  # never overwrites


def test_two_writers_and_a_reader_at_once(tmp_path: Path, corpus_1000: Path) -> None:
    lines = corpus_1000.read_bytes().splitlines(keepends=True)[:400]
    halves = [tmp_path / "even.jsonl", tmp_path / "odd.jsonl"]
    halves[0].write_bytes(b"".join(lines[0::2]))
    halves[1].write_bytes(b"".join(lines[1::2]))
    index = str(tmp_path / "x.idx")
    assert main(["index", "add", index, str(halves[0])]) == 0  # create it first
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    writers = [
        subprocess.Popen(
            [*DEDUPE, "filter", "--index", index, "--batch-size", "3", str(h)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=REPO,
            env=env,
        )
        for h in reversed(halves)
    ]
    reader = subprocess.Popen(
        [*DEDUPE, "filter", "--index", index, "--check-only", str(halves[1])],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
        env=env,
    )
    for proc in [*writers, reader]:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()
    with open_index(index) as idx:
        assert idx.integrity_problems() == []
        assert idx.stats().articles == 400
