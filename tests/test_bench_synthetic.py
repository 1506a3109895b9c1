"""Tests of the seeded synthetic syndication corpus."""

from __future__ import annotations

import itertools
import random
import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from benchmarks.synthetic import (
    WIRE_AGENCIES,
    SyntheticCorpus,
    generate_corpus,
    load_cstnews_sentences,
)

CSTNEWS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cstnews-cst" / "texts"
needs_cstnews = pytest.mark.skipif(not CSTNEWS.is_dir(), reason="CSTNews copy not present")

START = datetime(2024, 1, 1, tzinfo=UTC)


def shingles(text: str) -> set[tuple[str, ...]]:
    """Word 3-grams of a text (whitespace tokens, across paragraph breaks)."""
    words = text.split()
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def body_paragraphs(text: str) -> list[str]:
    """Paragraphs without the outlet footer."""
    paragraphs = text.split("\n\n")
    return paragraphs[:-1] if "©" in paragraphs[-1] else paragraphs


def members(corpus: SyntheticCorpus) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for article_id, group in corpus.truth.items():
        groups[group].append(article_id)
    return groups


@pytest.fixture(scope="module")
def cst_sentences() -> list[str]:
    if not CSTNEWS.is_dir():
        pytest.skip("CSTNews copy not present")
    return load_cstnews_sentences(CSTNEWS)


@pytest.fixture(scope="module")
def pseudo_corpus() -> SyntheticCorpus:
    # Many hard negatives, so that their property is tested on a real sample.
    return generate_corpus(600, seed=11, hard_negative_fraction=0.5)


@pytest.fixture(scope="module")
def cst_corpus(cst_sentences: list[str]) -> SyntheticCorpus:
    return generate_corpus(600, seed=11, base_sentences=cst_sentences, hard_negative_fraction=0.5)


@pytest.fixture(params=["pseudo", "cstnews"])
def corpus(request: pytest.FixtureRequest) -> SyntheticCorpus:
    name = "pseudo_corpus" if request.param == "pseudo" else "cst_corpus"
    result: SyntheticCorpus = request.getfixturevalue(name)
    return result


# -- determinism and shape -----------------------------------------------------------------


def test_same_seed_gives_identical_records() -> None:
    first = generate_corpus(100, seed=5)
    second = generate_corpus(100, seed=5)
    assert first.records == second.records
    assert first.truth == second.truth
    assert first.wires == second.wires
    assert first.hard_negatives == second.hard_negatives


def test_different_seed_gives_different_records() -> None:
    first = generate_corpus(100, seed=5)
    other = generate_corpus(100, seed=6)
    assert [r["text"] for r in first.records] != [r["text"] for r in other.records]
    assert not {r["text"] for r in first.records} & {r["text"] for r in other.records}


@needs_cstnews
def test_cstnews_generation_is_deterministic(cst_sentences: list[str]) -> None:
    first = generate_corpus(60, seed=2, base_sentences=cst_sentences)
    second = generate_corpus(60, seed=2, base_sentences=list(cst_sentences))
    assert first.records == second.records
    assert first.records != generate_corpus(60, seed=3, base_sentences=cst_sentences).records


def test_records_shape_ids_and_truth_coverage(corpus: SyntheticCorpus) -> None:
    records = corpus.records
    assert len(records) == 600
    ids = [r["id"] for r in records]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"a\d{7}", i) for i in ids)
    assert set(corpus.truth) == set(ids)
    for record in records:
        assert set(record) == {"id", "outlet", "title", "published", "text"}
        assert all(isinstance(v, str) and v for v in record.values())
        published = datetime.fromisoformat(record["published"])
        assert START <= published <= START + timedelta(days=60)
    for article_id, group in corpus.truth.items():
        assert group.startswith("g") or group == f"solo-{article_id}"
    # Records are shuffled: generation order (wire first, then its copies) is not visible.
    positions = {r["id"]: n for n, r in enumerate(records)}
    groups = members(corpus)
    adjacent = sum(
        abs(positions[a] - positions[b]) == 1
        for g in corpus.wires
        for a, b in itertools.pairwise(groups[g])
    )
    assert adjacent < len(corpus.wires)


def test_text_size_and_paragraphs(corpus: SyntheticCorpus) -> None:
    by_id = {r["id"]: r for r in corpus.records}
    mean_chars = sum(len(r["text"]) for r in corpus.records) / len(corpus.records)
    assert 2500 <= mean_chars <= 4000
    originals = [i for i, g in corpus.truth.items() if g.startswith("solo-")]
    originals += list(corpus.wires.values())
    for article_id in originals:
        paragraphs = body_paragraphs(by_id[article_id]["text"])
        assert 5 <= len(paragraphs) <= 12
        assert 400 <= sum(len(p.split()) for p in paragraphs) <= 620


def test_composition(corpus: SyntheticCorpus) -> None:
    groups = members(corpus)
    in_groups = sum(len(groups[g]) for g in corpus.wires)
    assert abs(in_groups - round(0.3 * 600)) <= 1
    assert all(2 <= len(groups[g]) <= 7 for g in corpus.wires)
    assert {g for g in corpus.truth.values() if not g.startswith("solo-")} == set(corpus.wires)
    # hard_negative_fraction=0.5 in the fixtures.
    assert len(corpus.hard_negatives) == round(0.5 * len(corpus.wires))
    for article_id, group in corpus.hard_negatives.items():
        assert corpus.truth[article_id] == f"solo-{article_id}"
        assert group in corpus.wires


def test_wires_and_copies(corpus: SyntheticCorpus) -> None:
    by_id = {r["id"]: r for r in corpus.records}
    groups = members(corpus)
    for group, wire_id in corpus.wires.items():
        wire = by_id[wire_id]
        assert wire["outlet"] in WIRE_AGENCIES
        wire_time = datetime.fromisoformat(wire["published"])
        copies = [by_id[i] for i in groups[group] if i != wire_id]
        outlets = [c["outlet"] for c in copies]
        assert len(set(outlets)) == len(outlets)  # one copy per outlet
        for copy in copies:
            assert copy["outlet"].startswith("Outlet ")
            delay = datetime.fromisoformat(copy["published"]) - wire_time
            assert timedelta(0) <= delay <= timedelta(hours=48)


# -- text overlap properties ------------------------------------------------------------------


def test_copies_share_wire_trigrams(corpus: SyntheticCorpus) -> None:
    by_id = {r["id"]: r for r in corpus.records}
    groups = members(corpus)
    jaccards: list[float] = []
    for group, wire_id in corpus.wires.items():
        wire = shingles(by_id[wire_id]["text"])
        for copy_id in groups[group]:
            if copy_id == wire_id:
                continue
            copy = shingles(by_id[copy_id]["text"])
            shared = len(wire & copy)
            assert shared / len(wire) >= 0.2, (group, copy_id)
            jaccards.append(shared / len(wire | copy))
    # Realistic, not trivial: reprints average roughly 0.3 Jaccard.
    assert 0.25 <= sum(jaccards) / len(jaccards) <= 0.55
    assert min(jaccards) < 0.3


def test_hard_negatives_share_facts_but_little_text(corpus: SyntheticCorpus) -> None:
    by_id = {r["id"]: r for r in corpus.records}
    assert len(corpus.hard_negatives) >= 10
    for article_id, group in corpus.hard_negatives.items():
        negative_text = by_id[article_id]["text"]
        wire_text = by_id[corpus.wires[group]]["text"]
        negative, wire = shingles(negative_text), shingles(wire_text)
        shared = len(negative & wire)
        assert shared / min(len(negative), len(wire)) < 0.15
        # Both carry the same quotation.
        quotes = set(re.findall(r"“[^”]+”", negative_text))
        assert quotes & set(re.findall(r"“[^”]+”", wire_text))


def test_unrelated_articles_share_little_text(corpus: SyntheticCorpus) -> None:
    """Different groups and outlets, not a hard negative of each other: near-zero overlap."""
    by_id = {r["id"]: r for r in corpus.records}
    related = {frozenset((n, corpus.wires[g])) for n, g in corpus.hard_negatives.items()}
    texts = {i: shingles(r["text"]) for i, r in by_id.items()}
    rng = random.Random(0)
    ids = sorted(by_id)
    worst = 0.0
    for _ in range(3000):
        a, b = rng.sample(ids, 2)
        if corpus.truth[a] == corpus.truth[b] or by_id[a]["outlet"] == by_id[b]["outlet"]:
            continue
        if frozenset((a, b)) in related:
            continue
        worst = max(worst, len(texts[a] & texts[b]) / min(len(texts[a]), len(texts[b])))
    assert worst < 0.1


def test_outlet_footers_are_shared_boilerplate(pseudo_corpus: SyntheticCorpus) -> None:
    by_outlet: dict[tuple[str, str], set[str]] = defaultdict(set)
    with_footer = 0
    outlet_articles = 0
    for record in pseudo_corpus.records:
        if not record["outlet"].startswith("Outlet "):
            continue
        outlet_articles += 1
        last = record["text"].split("\n\n")[-1]
        if "©" in last:
            with_footer += 1
            assert 30 <= len(last.split()) <= 60
            assert record["outlet"] in last
            by_outlet[(record["outlet"], last)].add(pseudo_corpus.truth[record["id"]])
    assert 0.35 <= with_footer / outlet_articles <= 0.65
    # One footer per outlet, shared by articles of different truth groups.
    assert len({outlet for outlet, _ in by_outlet}) == len(by_outlet)
    assert any(len(groups) >= 2 for groups in by_outlet.values())


# -- inputs and edge cases --------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 5, 9])
def test_tiny_corpora(n: int) -> None:
    corpus = generate_corpus(n, seed=1, num_outlets=4)
    assert len(corpus.records) == n
    assert set(corpus.truth) == {r["id"] for r in corpus.records}


def test_custom_base_sentences_and_validation() -> None:
    sentences = [
        "O governo anunciou hoje um novo plano de obras em São Paulo.",
        "Segundo a prefeitura, 120 famílias foram atingidas pelas chuvas.",
        "A oposição criticou a medida e pediu explicações ao ministro.",
    ]
    corpus = generate_corpus(30, seed=4, base_sentences=sentences)
    assert len(corpus.records) == 30
    assert any("famílias" in r["text"] or "governo" in r["text"] for r in corpus.records)
    with pytest.raises(ValueError):
        generate_corpus(10, seed=4, base_sentences=[])
    with pytest.raises(ValueError):
        generate_corpus(10, seed=4, group_fraction=1.5)
    with pytest.raises(ValueError):
        generate_corpus(10, seed=4, min_copies=3, max_copies=2)
    with pytest.raises(ValueError):
        generate_corpus(-1, seed=4)


def test_load_cstnews_sentences_missing_folder(tmp_path: Path) -> None:
    assert load_cstnews_sentences(tmp_path / "nope") == []


def test_load_cstnews_sentences_decodes_cp1252(tmp_path: Path) -> None:
    raw = "Atenção à nação.\r\n\r\nSegunda frase.\r\n".encode("cp1252")
    (tmp_path / "D1_C1_X.txt.seg").write_bytes(raw)
    assert load_cstnews_sentences(tmp_path) == ["Atenção à nação.", "Segunda frase."]


@needs_cstnews
def test_load_cstnews_sentences_real(cst_sentences: list[str]) -> None:
    assert len(cst_sentences) > 1500
    assert not any("\r" in s or "\n" in s for s in cst_sentences)
    assert all(s == s.strip() and s for s in cst_sentences)
    assert any("ã" in s for s in cst_sentences)
    assert any("ç" in s for s in cst_sentences)
    # The parent folder works too.
    assert load_cstnews_sentences(CSTNEWS.parent) == cst_sentences
