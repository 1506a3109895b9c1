"""`dedupe report`: terminal, JSON and HTML attribution reports, and --from a cluster JSON."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from dedupe.cli import main
from tests.conftest import REPO, SEEDS

EXAMPLES = str(REPO / "examples" / "news.jsonl")
HOSTILE = [
    {
        "id": 'evil"><img src=x onerror=alert(1)>',
        "outlet": "<script>document.title='PWNED'</script>",
        "title": "\"><svg onload=document.title='PWNED'>",
        "url": "javascript:document.title='PWNED'",
        "text": "The harbour authority closed the northern pier on Monday after a crane collapsed "
        "onto two fishing boats.\n<script>document.title='PWNED'</script> Divers searched the "
        "water until nightfall, the authority said in a statement.\n"
        "<img src=x onerror=\"document.title='PWNED'\"> Police have opened an investigation.",
    },
    {
        "id": "copy</script><script>document.title='PWNED'</script>",
        "outlet": "Harbour News",
        "text": "The harbour authority closed the northern pier on Monday after a crane collapsed "
        "onto two fishing boats.\n<script>document.title='PWNED'</script> Divers searched the "
        "water until nightfall, the authority said in a statement.\n"
        "Our own reporter spoke to fishermen who lost their boats \u2028 and nets.",
    },
]


def test_text_report_names_origin_shares_and_added_passages(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["report", EXAMPLES, "-q"]) == 0
    out = capsys.readouterr().out
    assert "Origin: id-cabai-antara (confidence 0.90, by published)" in out
    assert re.search(r"\*id-cabai-antara\s+ANTARA\s+origin", out)
    assert re.search(r"id-cabai-cakrawala\s+Harian Cakrawala\s+100%", out)
    assert "Added by en-landslide-davaogulf:" in out
    assert "Summary: 34 articles read, 0 rejected, 23 attributed in 5 clusters." in out


def test_json_offsets_cut_the_passages_back_out(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", EXAMPLES, "--format", "json", "-q"]) == 0
    report = json.loads(capsys.readouterr().out)
    texts = {
        r["id"]: r["text"]
        for r in map(json.loads, Path(EXAMPLES).read_text(encoding="utf-8").splitlines())
    }
    assert report["kind"] == "attribution" and report["schema_version"] == 1
    labels = set()
    for cluster in report["clusters"]:
        for member in cluster["members"]:
            text = texts[member["id"]]
            for passage in member["passages"]:
                labels.add(passage["label"])
                assert text[passage["start"] : passage["end"]] == passage["text"]
                cp = passage["counterpart"]
                if cp is not None:
                    other = texts[cp["id"]]
                    assert 0 <= cp["start"] < cp["end"] <= len(other) and cp["id"] != member["id"]
                    assert 0.0 <= cp["similarity"] <= 1.0
            for credit in member["credits"]:
                assert text[credit["start"] : credit["end"]] == credit["text"]
    assert {"copied", "reused", "added"} <= labels


def test_report_from_cluster_json_equals_direct_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clusters = tmp_path / "c.json"
    assert main(["cluster", EXAMPLES, "--format", "json", "-o", str(clusters), "-q"]) == 0
    assert main(["report", "--from", str(clusters), "--format", "json", "-q"]) == 0
    from_json = capsys.readouterr().out
    assert main(["report", EXAMPLES, "--format", "json", "-q"]) == 0
    direct = capsys.readouterr().out
    assert json.loads(from_json)["clusters"] == json.loads(direct)["clusters"]


def test_report_from_refuses_changed_or_missing_articles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "news.jsonl"
    corpus.write_text(Path(EXAMPLES).read_text(encoding="utf-8"), encoding="utf-8")
    clusters = tmp_path / "c.json"
    assert main(["cluster", str(corpus), "--format", "json", "-o", str(clusters), "-q"]) == 0
    corpus.write_text(
        corpus.read_text(encoding="utf-8").replace("cabai rawit", "bawang merah"), encoding="utf-8"
    )
    assert main(["report", "--from", str(clusters), "-q"]) == 1
    assert "changed since" in capsys.readouterr().err
    assert main(["report", "--from", str(tmp_path / "nope.json")]) == 2
    assert main(["report", EXAMPLES, "--cluster", "cnothere"]) == 2
    assert "no cluster cnothere" in capsys.readouterr().err


def test_one_cluster_only(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", EXAMPLES, "--format", "json", "-q"]) == 0
    first = json.loads(capsys.readouterr().out)["clusters"][1]["id"]
    assert main(["report", EXAMPLES, "--cluster", first, "--format", "json", "-q"]) == 0
    assert [c["id"] for c in json.loads(capsys.readouterr().out)["clusters"]] == [first]


def _hostile_html(tmp_path: Path) -> Path:
    corpus = tmp_path / "hostile.jsonl"
    corpus.write_text("\n".join(json.dumps(r) for r in HOSTILE) + "\n", encoding="utf-8")
    out = tmp_path / "report.html"
    assert main(["report", str(corpus), "--format", "html", "-o", str(out), "-q"]) == 0
    return out


@pytest.mark.hostile
def test_html_escapes_everything_from_the_input(tmp_path: Path) -> None:
    page = _hostile_html(tmp_path).read_text(encoding="utf-8")
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    # Exactly our two script elements: the JSON data block and our own code.
    assert page.count("<script") == 2
    assert "<img" not in page and "<svg" not in page
    assert "&lt;script&gt;document.title=&#x27;PWNED&#x27;&lt;/script&gt;" in page
    assert 'href="javascript:' not in page
    data = page.split('<script type="application/json" id="dedupe-data">', 1)[1]
    data = data.split("</script>", 1)[0]
    assert "<" not in data and "\u2028" not in data
    assert json.loads(data)[0]["members"][0]["text"].count("<script>") == 1


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.hostile
@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (.ci/run installs it)")
def test_html_in_a_real_browser_shows_highlights_and_runs_no_injected_script(
    tmp_path: Path,
) -> None:
    page = _hostile_html(tmp_path)
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert 'data-ready="1"' in dom  # our script ran (its CSP hash is right)...
    assert "PWNED" not in dom.split("<title>", 1)[1].split("</title>", 1)[0]  # ...no other did
    assert re.search(r'<span class="copied s\d"[^>]*data-p="0"', dom)
    assert 'class="added"' in dom
    shot = tmp_path / "report.png"
    subprocess.run(
        [CHROMIUM, *flags, "--window-size=1280,900", f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.stat().st_size > 10_000


@pytest.mark.skipif(not SEEDS.exists(), reason="../shared/seeds not present")
def test_seeds_report_lists_shared_passages(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(SEEDS), "--format", "json", "-q"]) == 0
    report = json.loads(capsys.readouterr().out)
    (cluster,) = report["clusters"]
    assert cluster["origin"]["id"] is None
    for member in cluster["members"]:
        copied = [p for p in member["passages"] if p["label"] == "copied"]
        assert any("Sybiha" in p["text"] for p in copied)
        assert any("berita palsu" in p["text"] for p in copied)
