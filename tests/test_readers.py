import csv
import io
import json
from pathlib import Path

import pytest

from dedupe.config import ReadersConfig
from dedupe.errors import ConfigError, UsageError
from dedupe.readers import read_paths
from tests.conftest import SEEDS


def test_folder_of_txt_uses_relative_paths_as_ids(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.txt").write_text("Title line\nBody text.", encoding="utf-8")
    (tmp_path / "two.txt").write_text("Other", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("skip me", encoding="utf-8")
    result = read_paths([tmp_path])
    assert [a.id for a in result.articles] == ["a/one", "two"]
    assert result.articles[0].title == "Title line"
    assert not result.rejects


def test_seeds_read_as_they_are() -> None:
    if not SEEDS.exists():
        pytest.skip("../shared/seeds not present")
    result = read_paths([SEEDS])
    assert len(result.articles) == 5 and not result.rejects


def test_jsonl_bad_records_are_rejected_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"id": "ok", "text": "fine", "outlet": "X", "lang": "id"}),
        "{not json",
        json.dumps(["an", "array"]),
        json.dumps({"id": "no-text"}),
        json.dumps({"id": "num-text", "text": 42}),
        json.dumps({"id": "ok", "text": "again"}),
        "",
        json.dumps({"id": "bad-date", "text": "t", "published": "yesterday"}),
        '{"id": "trunc", "text": "cut off',
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    result = read_paths([path])
    assert [a.id for a in result.articles] == ["ok", "bad-date"]
    assert result.articles[0].extra == {"lang": "id"}
    reasons = {r.source.rsplit(":", 1)[1]: r.reason for r in result.rejects}
    assert reasons["2"].startswith("invalid JSON")
    assert reasons["3"] == "expected an object, got list"
    assert reasons["4"] == "missing text field 'text'"
    assert reasons["5"] == "text field 'text' is int"
    assert reasons["6"].startswith("duplicate id 'ok'")
    assert reasons["9"].startswith("invalid JSON")
    assert len(result.articles) + len(result.rejects) == 8  # every non-blank line accounted for
    assert result.warnings[0].reason.startswith("published 'yesterday' is not ISO 8601")


def test_nested_field_mapping(tmp_path: Path) -> None:
    from dedupe.config import ReadersConfig

    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"doc": {"key": 7, "body": "b"}, "meta": {"site": "S"}}) + "\n")
    config = ReadersConfig(id_field="doc.key", text_field="doc.body", outlet_field="meta.site")
    (article,) = read_paths([path], config).articles
    assert (article.id, article.text, article.outlet) == ("7", "b", "S")


def test_csv_with_embedded_newlines(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text('id,text,outlet\n1,"line one\nline two",A\n2,"say ""hi""",B\n', "utf-8")
    result = read_paths([path])
    assert [a.text for a in result.articles] == ["line one\nline two", 'say "hi"']
    assert result.articles[1].source.endswith(":4")


def test_encodings_are_detected_or_rejected_by_file(tmp_path: Path) -> None:
    text = "A população de São Paulo não aceitou a decisão do governo. " * 5
    (tmp_path / "cp1252.txt").write_bytes(text.encode("cp1252"))
    (tmp_path / "utf16.txt").write_bytes(text.encode("utf-16"))
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02\xff" * 50)
    (tmp_path / "notes.md").write_text("# readme", encoding="utf-8")
    result = read_paths([tmp_path])
    assert {a.id: a.text for a in result.articles} == {"bom": text, "cp1252": text, "utf16": text}
    reasons = {Path(r.source).name: r.reason for r in result.rejects}
    assert "binary" in reasons["binary.txt"]
    assert "unsupported file type '.md'" in reasons["notes.md"]


def test_extra_text_suffixes_read_a_folder_of_other_files_as_plain_text(tmp_path: Path) -> None:
    # Like CSTNews: one sentence per line, Windows-1252, CRLF, named ``*.txt.seg``.
    text = "O avião caiu perto do aeroporto.\r\nSegundo a ONU, havia 17 pessoas a bordo.\r\n"
    (tmp_path / "D1_Folha.txt.seg").write_bytes(text.encode("cp1252"))
    (tmp_path / "D2_JB.SEG").write_bytes(text.encode("cp1252"))
    (tmp_path / "notes.md").write_text("# readme", encoding="utf-8")
    assert [Path(r.source).name for r in read_paths([tmp_path]).rejects] == [
        "D1_Folha.txt.seg",
        "D2_JB.SEG",
        "notes.md",
    ]
    result = read_paths([tmp_path], ReadersConfig(extra_text_suffixes=(".seg",)))
    assert [a.id for a in result.articles] == ["D1_Folha.txt", "D2_JB"]
    assert result.articles[0].text.splitlines()[1] == "Segundo a ONU, havia 17 pessoas a bordo."
    assert [Path(r.source).name for r in result.rejects] == ["notes.md"]
    assert "readers.extra_text_suffixes" in result.rejects[0].reason


@pytest.mark.parametrize(
    ("suffixes", "message"),
    [((".JSON",), "'.JSON' already has its own reader"), (("seg",), "'seg' is not a file suffix")],
)
def test_extra_text_suffixes_are_checked(
    tmp_path: Path, suffixes: tuple[str, ...], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        read_paths([tmp_path], ReadersConfig(extra_text_suffixes=suffixes))


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file or folder"):
        read_paths([tmp_path / "nope"])


def test_html_page_goes_through_the_extractor(tmp_path: Path) -> None:
    body = " ".join(["The council approved the new harbour budget after a long debate."] * 6)
    page = (
        "<html><head><title>Harbour budget</title>"
        '<meta property="og:site_name" content="Coast Post"></head><body><nav>Home</nav>'
        f"<article><h1>Harbour budget</h1><p>{body}</p><p>{body}</p></article>"
        "<footer>Copyright</footer></body></html>"
    )
    (tmp_path / "page.html").write_text(page, encoding="utf-8")
    (article,) = read_paths([tmp_path]).articles
    assert article.id == "page" and article.outlet == "Coast Post"
    assert "harbour budget" in article.text.lower() and "Home" not in article.text


def test_real_windows_1252_news_is_not_read_as_central_european() -> None:
    from dedupe.readers._decode import decode_bytes
    from tests.conftest import SHARED

    path = SHARED / "data/cstnews-cst/texts/D2_C39_Estadao.txt.seg"
    if not path.exists():
        pytest.skip("../shared/data/cstnews-cst not present")
    text = decode_bytes(path.read_bytes())
    assert text.startswith("SÃO PAULO") and "Ă" not in text


def test_lone_surrogates_from_json_never_crash_the_run(tmp_path: Path) -> None:
    from dedupe.cli import main

    path = tmp_path / "in.jsonl"
    body = "good text here with several words to shingle nicely ok"
    lines = [
        '{"id": "bad\\ud800", "text": "' + body + '"}',
        '{"id": "repaired", "title": "t\\udfff", "text": "' + body + ' \\ud800"}',
        '{"id": "clean", "text": "' + body + '"}',
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    result = read_paths([path])
    assert [a.id for a in result.articles] == ["repaired", "clean"]
    assert result.rejects[0].reason == "id has invalid Unicode (lone surrogate)"
    assert result.articles[0].title == "t\ufffd" and result.articles[0].text.endswith("\ufffd")
    assert {w.reason for w in result.warnings} == {
        "text has invalid Unicode (lone surrogate); replaced",
        "title has invalid Unicode (lone surrogate); replaced",
    }
    assert (
        main(["cluster", str(path), "--format", "json", "-q", "-o", str(tmp_path / "o.json")]) == 0
    )


def test_deeply_nested_json_is_one_reject_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    deep = '{"id": "x", "text": ' + "[" * 100_000 + "]" * 100_000 + "}"
    path.write_text(deep + '\n{"id": "ok", "text": "fine"}\n', encoding="utf-8")
    result = read_paths([path])
    assert [a.id for a in result.articles] == ["ok"]
    assert result.rejects[0].source.endswith(":1")
    assert result.rejects[0].reason == "JSON nested too deeply to read"


def test_json_files_are_one_document_or_json_lines(tmp_path: Path) -> None:
    (tmp_path / "array.json").write_text(
        json.dumps([{"id": "a1", "text": "t"}, {"id": "a2", "text": "t"}], indent=2), "utf-8"
    )
    (tmp_path / "one.json").write_text(json.dumps({"id": "o1", "text": "t"}, indent=2), "utf-8")
    (tmp_path / "lines.json").write_text('{"id": "l1", "text": "t"}\n{"id": "l2", "text": "t"}\n')
    (tmp_path / "other.json").write_text(json.dumps({"clusters": [[1, 2]]}, indent=2), "utf-8")
    result = read_paths([tmp_path])
    assert sorted(a.id for a in result.articles) == ["a1", "a2", "l1", "l2", "o1"]
    assert [(Path(r.source).name, r.reason) for r in result.rejects] == [
        ("other.json", "missing id field 'id'")
    ]


def test_line_separators_inside_json_strings_do_not_split_a_record(tmp_path: Path) -> None:
    # json.dumps(ensure_ascii=False) writes U+2028, U+2029 and U+0085 raw, and scraped news
    # text holds them; JSON Lines break only at line feeds.
    texts = ["Primeira linha\u2028segunda linha", "um\u2029dois", "next\x85line", "plain"]
    path = tmp_path / "in.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": f"r{i}", "text": t}, ensure_ascii=False) + "\n"
            for i, t in enumerate(texts)
        ),
        encoding="utf-8",
    )
    result = read_paths([path])
    assert not result.rejects
    assert [a.text for a in result.articles] == texts
    assert [a.source for a in result.articles] == [f"{path}:{n}" for n in range(1, 5)]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_jsonl_line_numbers_hold_for_every_line_end_and_encoding(
    tmp_path: Path, newline: str, encoding: str
) -> None:
    # UTF-8 files are streamed line by line, others (here UTF-16) decoded whole: both name
    # the same lines.
    text = "A população de São Paulo não aceitou a decisão do governo. " * 5
    lines = [
        json.dumps({"id": "a", "text": text}, ensure_ascii=False),
        "",
        "{broken",
        json.dumps({"id": "b", "text": "Ação da Defesa Civil"}, ensure_ascii=False),
    ]
    path = tmp_path / "in.jsonl"
    path.write_bytes(newline.join(lines).encode(encoding))
    result = read_paths([path])
    assert [(a.id, a.source) for a in result.articles] == [("a", f"{path}:1"), ("b", f"{path}:4")]
    assert result.articles[0].text == text
    assert [r.source for r in result.rejects] == [f"{path}:3"]


# Written by us: news-like sentences with the letters where Latin code pages disagree.
_LEGACY = {
    "pt": "A população de São Paulo não aceitou a decisão do governo sobre a concessão. "
    "A previsão é de normalização até a noite, segundo a Defesa Civil.",
    "es": "¡Qué día! El niño pidió una explicación al señor Muñoz sobre la decisión del "
    "ayuntamiento, y él respondió que no habría más cambios este año.",
    "pl": "Wczoraj w Warszawie odbyło się posiedzenie rządu. Premier zapowiedział zmiany w "
    "podatkach, które mają wejść w życie od przyszłego roku.",
    "cs": "Vláda včera schválila návrh zákona o státním rozpočtu. Ministr financí řekl, že "
    "schodek bude nižší než loni. Opozice však tvrdí, že čísla jsou příliš optimistická.",
}


@pytest.mark.parametrize(
    ("language", "encoding"),
    [("pt", "cp1252"), ("es", "cp1252"), ("pl", "cp1250"), ("cs", "cp1250")],
)
@pytest.mark.parametrize("form", ["txt", "csv", "jsonl"])
def test_legacy_code_pages_are_told_apart_in_every_file_form(
    tmp_path: Path, language: str, encoding: str, form: str
) -> None:
    # Detection used to read a Windows-1252 CSV or JSONL of Portuguese as Windows-1250
    # ("Săo Paulo", "năo") and Polish Windows-1250 as Windows-1252 ("odby³o"), silently.
    text = _LEGACY[language]
    path = tmp_path / f"{language}.{form}"
    if form == "txt":
        data = text
    elif form == "csv":
        data = f'id,title,text\n{language},"{text[:30]}","{text}"\n'
    else:
        data = json.dumps({"id": language, "text": text}, ensure_ascii=False) + "\n"
    path.write_bytes(data.encode(encoding))
    result = read_paths([path])
    assert not result.rejects
    assert [a.text for a in result.articles] == [text]


def test_a_windows_1252_csv_export_of_portuguese_keeps_its_tildes(tmp_path: Path) -> None:
    rows = [
        ["id", "title", "text"],
        ["a1", "Chuva em São Paulo", _LEGACY["pt"]],
        ["a2", "Ação", "Outra notícia: o presidente da Câmara não comentou a votação de ontem."],
    ]
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    (tmp_path / "export.csv").write_bytes(out.getvalue().encode("cp1252"))
    result = read_paths([tmp_path / "export.csv"])
    assert [(a.title, a.text) for a in result.articles] == [(r[1], r[2]) for r in rows[1:]]
