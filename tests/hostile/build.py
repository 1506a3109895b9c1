"""Write the hostile-input corpus (tests/hostile/corpus/) and what dedupe must do with each record.

Every case is written by us. Run ``python -m tests.hostile.build`` after changing a case; the
hostile suite checks that the committed files equal what this script writes, so the corpus and
its expectations never drift apart. Huge inputs (a 50 MB article, 100,000 tiny articles) are
made by the tests at run time instead of being committed.

Each expectation is ``(source, outcome, detail)``: ``source`` as dedupe names it (``file`` or
``file:line``), ``outcome`` one of ``read``, ``reject``, ``warning``, and ``detail`` a piece of
the reason a user sees (for ``read``: the article id).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
EXPECTED = HERE / "expected.json"

# A wire paragraph several cases reuse, so the corpus also has clusters to report on.
WIRE = (
    "Harga cabai rawit di pasar tradisional Jakarta naik hampir dua kali lipat pekan ini "
    "karena pasokan dari sentra produksi di Jawa Tengah terganggu hujan deras. Pedagang di "
    "Pasar Induk Kramat Jati mengatakan pasokan turun separuh sejak awal bulan, sementara "
    "pemerintah provinsi menyiapkan operasi pasar murah di empat puluh titik."
)
PT = (
    "São Paulo amanheceu sob chuva forte nesta terça-feira, e a Defesa Civil registrou "
    "quedas de árvores em várias regiões. Segundo a concessionária, 1,2 milhão de imóveis "
    "ficaram sem energia elétrica e a previsão é de normalização até a noite."
)


def _jsonl(records: list[object], tail: str = "") -> bytes:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    return ("\n".join(lines) + "\n" + tail).encode("utf-8")


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def cases() -> tuple[dict[str, bytes], list[tuple[str, str, str]]]:
    """The files (relative path -> bytes) and the expected outcome of every record."""
    files: dict[str, bytes] = {}
    expect: list[tuple[str, str, str]] = []

    def add(name: str, data: bytes, *outcomes: tuple[str, str]) -> None:
        files[name] = data
        expect.extend((name, outcome, detail) for outcome, detail in outcomes)

    # --- encodings -------------------------------------------------------------------------
    add("encodings/utf8-bom.txt", codecs.BOM_UTF8 + WIRE.encode(), ("read", "encodings/utf8-bom"))
    add(
        "encodings/utf16-bom.txt",
        PT.encode("utf-16"),
        ("read", "encodings/utf16-bom"),
    )
    add(
        "encodings/utf16-no-bom.txt",
        PT.encode("utf-16-le"),
        ("read", "encodings/utf16-no-bom"),
        ("warning", "read as utf-16-le (no byte-order mark)"),
    )
    add(
        "encodings/windows-1252.txt",
        (PT + "\r\n").encode("cp1252"),
        ("read", "encodings/windows-1252"),
    )
    add(
        "encodings/invalid-utf8.txt",
        (PT + " ").encode() + b"\xff\xfe" + b" fim.\n",
        ("read", "encodings/invalid-utf8"),
        ("warning", "invalid UTF-8 byte sequence(s) replaced"),
    )
    add(
        "encodings/nul-bytes.txt",
        WIRE.encode().replace(b"cabai", b"ca\x00bai", 1),
        ("read", "encodings/nul-bytes"),
        ("warning", "1 NUL character(s) removed"),
    )
    add(
        "encodings/binary.txt",
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
        ("reject", "binary file"),
    )
    add("encodings/photo.jpg", b"\xff\xd8\xff\xe0" + bytes(64), ("reject", "unsupported file type"))

    # --- shapes ----------------------------------------------------------------------------
    add("shapes/empty.txt", b"", ("reject", "empty file"))
    add("shapes/whitespace.txt", b" \t\r\n\n  \n", ("reject", "only white space"))
    add("shapes/one-word.txt", b"Banjir\n", ("read", "shapes/one-word"))
    add("shapes/crlf.txt", WIRE.replace(". ", ".\r\n").encode(), ("read", "shapes/crlf"))
    add("shapes/cr-only.txt", WIRE.replace(". ", ".\r").encode(), ("read", "shapes/cr-only"))
    add(
        "shapes/long-line.txt",
        (" ".join([WIRE] * 400)).encode(),  # ~150 KB on one line
        ("read", "shapes/long-line"),
    )

    # --- JSON Lines --------------------------------------------------------------------------
    add(
        "records/records.jsonl",
        _jsonl(
            [
                {"id": "ok-1", "text": WIRE, "outlet": "Kabar Kota", "published": "2026-02-10"},
                '{"id": "bad-json", "text": "unterminated',
                [1, 2, 3],
                {"id": "no-text", "title": "a title only"},
                {"id": "text-number", "text": 42},
                {"id": "empty-text", "text": ""},
                {"id": "spaces-text", "text": "   \n  "},
                {"meta": {"source": {"id": "nested-id"}}, "text": WIRE, "extra": {"k": [1, 2]}},
                {"id": "bad-date", "text": PT, "published": "yesterday"},
                {"id": "ok-1", "text": "a second record with the same id"},
                {"id": "../../etc/passwd", "text": WIRE + " Jalan layang ditutup."},
                {"id": "with space/and\u0007bell", "text": PT},
                {"id": "\u001b[2Jclear-screen", "text": PT + " Fim."},
                {"id": None, "text": WIRE},
                {"id": True, "text": WIRE},
            ],
            tail='{"id": "truncated", "text": "the crawler died her',
        ),
        ("read", "ok-1"),
        ("reject", "invalid JSON"),
        ("reject", "expected an object, got list"),
        ("reject", "missing text field"),
        ("reject", "text field 'text' is int"),
        ("reject", "text field 'text' is empty"),
        ("reject", "text field 'text' is only white space"),
        ("reject", "missing id field"),  # the nested id is not mapped by default
        ("read", "bad-date"),
        ("warning", "is not ISO 8601"),
        ("reject", "duplicate id 'ok-1'"),
        ("read", "../../etc/passwd"),
        ("read", "with space/and\u0007bell"),
        ("read", "\u001b[2Jclear-screen"),
        ("reject", "missing id field"),
        ("reject", "id must be a string or integer"),
        ("reject", "invalid JSON"),
    )
    add(
        "records/array.json",
        json.dumps([{"id": "arr-1", "text": PT}, "not an object"]).encode(),
        ("read", "arr-1"),
        ("reject", "expected an object, got str"),
    )
    add(
        "records/duplicate-across-files.jsonl",
        _jsonl([{"id": "arr-1", "text": "same id as in array.json"}]),
        ("reject", "duplicate id 'arr-1'"),
    )

    add(
        "records/line-separators.jsonl",
        # U+2028, U+2029 and NEL are legal raw inside JSON strings; CRLF and CR end lines.
        b"\r\n".join(
            json.dumps(r, ensure_ascii=False).encode()
            for r in (
                {"id": "ls-2028", "text": WIRE.replace(". ", ".\u2028", 1)},
                {"id": "ls-2029-nel", "text": PT.replace(", ", "\u2029", 1) + "\x85Fim."},
            )
        )
        + b"\r"
        + json.dumps({"id": "ls-after-cr", "text": PT + " Segunda parte."}).encode()
        + b"\n",
        ("read", "ls-2028"),
        ("read", "ls-2029-nel"),
        ("read", "ls-after-cr"),
    )

    # --- CSV -------------------------------------------------------------------------------
    huge = " ".join([PT] * 3000)  # ~700 KB in one field
    add(
        "records/odd.csv",
        _csv(
            [
                ["id", "text", "outlet", "extra column"],
                ["csv-1", WIRE.replace(". ", ".\n\n"), "Outlet, with comma", "kept"],
                ["csv-2", 'He said "yes", then ""no"".\nSecond line.', "", ""],
                ["csv-3", huge, "Big", ""],
                ["csv-4", "", "No text", ""],
                ["csv-5", PT, "Too", "many", "fields"],
            ]
        ),
        ("read", "csv-1"),
        ("read", "csv-2"),
        ("read", "csv-3"),
        ("reject", "text field 'text' is empty"),
        ("reject", "more fields than the header has"),
    )

    # --- scripts and languages -------------------------------------------------------------
    add(
        "records/scripts.jsonl",
        _jsonl(
            [
                {
                    "id": "rtl-arabic",
                    "text": "أعلنت وزارة الصحة اليوم عن افتتاح مستشفى جديد في المدينة. " * 3,
                },
                {
                    "id": "rtl-hebrew",
                    "text": "משרד הבריאות הודיע היום על פתיחת בית חולים חדש בעיר. " * 3,
                },
                {
                    "id": "cjk",
                    "text": "东京电力公司周二宣布，由于台风影响，约十二万户家庭停电。" * 3,
                },
                {
                    "id": "cjk-copy",
                    "text": "东京电力公司周二宣布，由于台风影响，约十二万户家庭停电。" * 3,
                },
                {"id": "thai", "text": "กรมอุตุนิยมวิทยาประกาศเตือนฝนตกหนักในภาคเหนือ" * 3},
                {"id": "emoji", "text": "👩‍👩‍👧 Keluarga 🇮🇩 merayakan 🎉 " + WIRE},
                {"id": "combining", "text": "Cafe\u0301 na\u0308ive re\u0301sume\u0301 " + PT},
                {"id": "mixed", "text": "Jakarta 東京 Москва São Paulo القاهرة " + WIRE},
                {
                    "id": "markup",
                    "text": "<p>Berita <b>penting</b></p><script>alert(1)</script> " + WIRE,
                },
                {"id": "bidi-override", "text": "Normal \u202egnirts desrever\u202c text. " + PT},
            ]
        ),
        *(
            ("read", i)
            for i in (
                "rtl-arabic",
                "rtl-hebrew",
                "cjk",
                "cjk-copy",
                "thai",
                "emoji",
                "combining",
                "mixed",
                "markup",
                "bidi-override",
            )
        ),
    )
    add(
        "pages/page.html",
        (
            "<html><head><title>Banjir Jakarta</title><script>document.title='x'</script></head>"
            f"<body><nav>Menu</nav><article><h1>Banjir Jakarta</h1><p>{WIRE}</p><p>{WIRE}</p>"
            "</article><footer>© Kabar</footer></body></html>"
        ).encode(),
        ("read", "pages/page"),
    )
    add(
        "pages/no-article.html",
        b"<html><body><script>var a = 1;</script></body></html>",
        ("reject", "no article text"),
    )
    return files, expect


def write() -> None:
    """Write the corpus and expected.json (removing files no case makes any more)."""
    files, expect = cases()
    for old in sorted(CORPUS.rglob("*"), reverse=True):
        if old.is_file() and old.relative_to(CORPUS).as_posix() not in files:
            old.unlink()
    for name, data in files.items():
        path = CORPUS / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    EXPECTED.write_text(json.dumps(expect, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write()
