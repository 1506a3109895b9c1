"""Hostile input: nothing crashes, nothing is lost, nothing runs that should not.

The corpus is tests/hostile/corpus (written by tests/hostile/build.py, with the expected outcome
of every record in tests/hostile/expected.json). `make hostile` runs this file alone.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from dedupe.cli import main
from dedupe.config import Config, load_config
from dedupe.errors import ConfigError
from dedupe.pipeline import cluster_articles
from dedupe.readers import read_paths
from tests.hostile.build import CORPUS, EXPECTED, PT, WIRE, cases

pytestmark = pytest.mark.hostile


def _file_of(source: str) -> str:
    """'…/corpus/records/x.jsonl:12' or '…/array.json[3]' -> 'records/x.jsonl'."""
    path = re.sub(r"(:\d+|\[\d+\])$", "", source)
    return Path(path).relative_to(CORPUS).as_posix()


def test_committed_corpus_is_what_build_writes() -> None:
    files, expect = cases()
    on_disk = {p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*") if p.is_file()}
    assert on_disk == set(files)
    for name, data in files.items():
        assert (CORPUS / name).read_bytes() == data, name
    assert json.loads(EXPECTED.read_text(encoding="utf-8")) == [list(e) for e in expect]


def test_every_record_has_the_expected_outcome() -> None:
    loaded = read_paths([CORPUS])
    seen: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for article in loaded.articles:
        seen[_file_of(article.source)]["read"].append(article.id)
    for reject in loaded.rejects:
        seen[_file_of(reject.source)]["reject"].append(reject.reason)
    for warning in loaded.warnings:
        seen[_file_of(warning.source)]["warning"].append(warning.reason)
    wanted: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for name, outcome, detail in json.loads(EXPECTED.read_text(encoding="utf-8")):
        wanted[name][outcome].append(detail)
    assert set(seen) == set(wanted)
    for name, outcomes in wanted.items():
        for outcome in ("read", "reject", "warning"):
            got, want = seen[name][outcome], outcomes[outcome]
            assert len(got) == len(want), (name, outcome, got)
            for actual, detail in zip(got, want, strict=True):
                assert detail in actual, (name, outcome, actual, detail)


def test_decoded_texts_are_right() -> None:
    articles = {a.id: a for a in read_paths([CORPUS]).articles}
    for name in ("utf16-bom", "utf16-no-bom", "windows-1252"):
        assert articles[f"encodings/{name}"].text.strip() == PT
    assert articles["encodings/utf8-bom"].text == WIRE  # the BOM is gone
    assert articles["encodings/nul-bytes"].text == WIRE
    assert "\ufffd" in articles["encodings/invalid-utf8"].text
    assert articles["csv-2"].text == 'He said "yes", then ""no"".\nSecond line.'
    assert articles["combining"].text.startswith("Cafe\u0301")
    assert articles["bad-date"].published is None
    assert dict(articles["csv-1"].extra) == {"extra column": "kept"}


def test_cluster_and_report_account_for_every_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    reads = sum(1 for _, outcome, _ in expected if outcome == "read")
    rejects = sum(1 for _, outcome, _ in expected if outcome == "reject")
    assert main(["cluster", str(CORPUS), "--format", "json", "-q"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["articles_read"] == reads
    assert report["summary"]["rejected"] == rejects
    ids = {m["id"] for c in report["clusters"] for m in c["members"]}
    assert {"cjk", "cjk-copy"} <= ids  # scripts without spaces still cluster
    html = tmp_path / "r.html"
    assert main(["report", str(CORPUS), "--format", "html", "-o", str(html), "-q"]) == 0
    page = html.read_text(encoding="utf-8")
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert main(["report", str(CORPUS), "-q"]) == 0
    text = capsys.readouterr().out
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "\\x1b[2Jclear-screen" in text


def test_cluster_text_report_never_prints_control_characters(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["cluster", str(CORPUS), "-q"]) == 0
    out = capsys.readouterr().out
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f]", out)
    assert "with space/and\\x07bell" in out


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("lsh:\n  treshold: 0.2\n", "unknown config key 'lsh.treshold'"),
        ("shingle:\n  size: three\n", "shingle.size: expected int"),
        ("verify:\n  containment_threshold: 7\n", "out of range"),
        ("seed: !!python/object/apply:os.system ['touch /tmp/pwned']\n", "not valid YAML"),
        ("- just\n- a list\n", "expected a mapping"),
        ("attribute:\n  language: Portuguese\n", "attribute.language"),
        ("\x00\x01binary", "not valid YAML"),
    ],
)
def test_bad_config_files_are_refused_with_the_key(
    tmp_path: Path, yaml_text: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(path)
    assert main(["cluster", str(CORPUS / "shapes"), "-c", str(path), "-q"]) == 2
    assert message in capsys.readouterr().err


def test_a_50_mb_article_is_read_and_compared(tmp_path: Path) -> None:
    big = " ".join([WIRE] * 160_000)  # ~52 MB on two lines
    assert len(big.encode()) > 50_000_000
    (tmp_path / "big.txt").write_text(big[: len(big) // 2] + "\n" + big[len(big) // 2 :])
    (tmp_path / "wire.txt").write_text(WIRE)
    loaded = read_paths([tmp_path])
    result = cluster_articles(loaded.articles, Config())
    assert len(result.articles) == 2 and not loaded.rejects
    # The wire paragraph is wholly inside the big article.
    assert [c.article_ids for c in result.clusters] == [("big", "wire")]


def test_100k_tiny_articles(tmp_path: Path) -> None:
    corpus = tmp_path / "tiny.jsonl"
    with corpus.open("w", encoding="utf-8") as out:
        for i in range(100_000):
            out.write(json.dumps({"id": f"t{i}", "text": f"kata{i % 977} nomor {i}"}) + "\n")
    loaded = read_paths([corpus])
    assert len(loaded.articles) == 100_000 and not loaded.rejects
    result = cluster_articles(loaded.articles, Config())
    assert result.clusters == ()
    assert len(result.uncomparable_ids) == 100_000  # every one reported as too short
