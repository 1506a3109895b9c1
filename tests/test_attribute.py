"""Attribution: what a reader of `dedupe report` sees for each member of a cluster."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe import Article, read_paths
from dedupe.attribute import attribute_cluster
from dedupe.config import Config
from dedupe.credits import find_credits
from dedupe.segment import segment
from dedupe.types import ClusterAttribution, MemberAttribution, Passage
from tests.conftest import SEEDS

WIRE = [
    "Floodwaters swept through the riverside district of Kampung Melayu on Tuesday morning.",
    "At least 4,000 residents were moved to school buildings and mosques, officials said.",
    "The water rose to two metres in some streets after the Ciliwung river burst its banks.",
    "Rescue teams used rubber boats to reach elderly residents trapped on upper floors.",
    "The city's disaster agency said rain upstream in Bogor had been unusually heavy.",
    "Schools in the district will stay closed until Friday, the education office said.",
]
WIRE_TEXT = "\n\n".join(" ".join(WIRE[i : i + 2]) for i in range(0, 6, 2))


def _member(result: ClusterAttribution, article_id: str) -> MemberAttribution:
    return next(m for m in result.members if m.article_id == article_id)


def _find(member: MemberAttribution, text: str, needle: str) -> Passage:
    return next(p for p in member.passages if needle in text[p.start : p.end])


def test_trimmed_reordered_edited_copy() -> None:
    copy = (
        "JAKARTA (Reuters) - " + WIRE[4] + "\n\n"  # paragraphs reordered
        "Our reporter saw families queueing for clean water at the Jatinegara station.\n\n"
        + WIRE[0]
        + " "
        + WIRE[1].replace("school buildings", "schools")  # two words changed
    )
    wire = Article(id="wire", text=WIRE_TEXT, outlet="Reuters", published=_at(8))
    outlet = Article(id="outlet", text=copy, outlet="Jakarta Daily", published=_at(10))
    result = attribute_cluster("c", [outlet, wire])

    assert result.origin.article_id == "wire" and result.origin.method == "published"
    member = _member(result, "outlet")
    moved = _find(member, copy, "disaster agency")
    assert moved.label == "copied" and moved.counterpart is not None
    assert moved.counterpart.article_id == "wire" and moved.counterpart.level == "verbatim"
    assert WIRE_TEXT[moved.counterpart.start : moved.counterpart.end] in WIRE[4]
    edited = _find(member, copy, "4,000 residents")
    assert edited.counterpart is not None and edited.counterpart.level == "near_verbatim"
    assert _find(member, copy, "Our reporter").label == "added"
    assert member.credits_source and [c.name for c in member.credits] == ["Reuters"]
    # The origin's sentences the outlet took are "reused", the ones it dropped are not.
    origin = _member(result, "wire")
    assert _find(origin, WIRE_TEXT, "Floodwaters").label == "reused"
    assert _find(origin, WIRE_TEXT, "Schools in the district").label == "added"
    assert origin.copied_share == 0.0 and 0.4 < origin.reused_share < 0.7


def test_merged_sentences_match_across_the_split() -> None:
    merged = WIRE[2].rstrip(".") + ", and " + WIRE[3][0].lower() + WIRE[3][1:]
    result = attribute_cluster(
        "c", [Article(id="a", text=WIRE_TEXT), Article(id="b", text="Intro line here.\n" + merged)]
    )
    passage = _find(_member(result, "b"), "Intro line here.\n" + merged, "Ciliwung")
    assert passage.label == "copied" and passage.counterpart is not None
    cut = WIRE_TEXT[passage.counterpart.start : passage.counterpart.end]
    assert "Ciliwung" in cut and "rubber boats" in cut  # one sentence, two counterparts joined


def test_a_shared_quote_alone_is_not_copied_reporting() -> None:
    quote = '"We will rebuild every house that the water took from these families," the mayor said.'
    a = "The mayor visited the shelters on Wednesday and met volunteers.\n" + quote
    b = "Residents cleaned mud from their homes as the river fell.\n" + quote
    result = attribute_cluster("c", [Article(id="a", text=a), Article(id="b", text=b)])
    for member, text in ((_member(result, "a"), a), (_member(result, "b"), b)):
        assert _find(member, text, "rebuild every house").label == "shared_quote"
        assert member.copied_share == 0.0


@pytest.mark.skipif(not SEEDS.exists(), reason="../shared/seeds not present")
def test_seeds_shared_paragraphs_are_copied_both_ways_with_exact_offsets() -> None:
    articles = {a.id[:3]: a for a in read_paths([SEEDS]).articles}
    a, b = articles["000"], articles["002"]
    result = attribute_cluster("c", [a, b])
    assert result.origin.article_id is None  # no dates, neither contains the other
    for article, other in ((a, b), (b, a)):
        member = _member(result, article.id)
        for needle in ("Mendalamnya kerja sama", "mendekati Ukraina", "Sybiha", "berita palsu"):
            passage = _find(member, article.text, needle)
            assert passage.label == "copied", (article.id, needle)
            assert passage.counterpart is not None and passage.counterpart.article_id == other.id
            counterpart = other.text[passage.counterpart.start : passage.counterpart.end]
            assert counterpart.strip() and counterpart in other.text
    # What only one of them reports is added.
    assert _find(_member(result, a.id), a.text, "Yermak").label == "added"
    assert _find(_member(result, b.id), b.text, "Lavrov").label == "added"
    assert _find(_member(result, b.id), b.text, "Lloyd Austin").label == "added"


def test_result_does_not_depend_on_member_order() -> None:
    members = [
        Article(id="a", text=WIRE_TEXT),
        Article(id="b", text="\n".join(reversed(WIRE[:4]))),
        Article(id="c", text=WIRE[5] + " " + WIRE[0]),
    ]
    assert attribute_cluster("c", members) == attribute_cluster("c", members[::-1])


def test_origin_from_credits_then_unknown() -> None:
    wire = Article(id="antara", text=WIRE_TEXT, outlet="ANTARA")
    copy = Article(id="copy", text="(ANTARA) - " + WIRE_TEXT, outlet="Kabar Kota")
    credited = attribute_cluster("c", [wire, copy]).origin
    assert (credited.article_id, credited.method) == ("antara", "credit")
    twins = attribute_cluster(
        "c", [Article(id="x", text=WIRE_TEXT), Article(id="y", text=WIRE_TEXT)]
    ).origin
    assert twins.article_id is None and twins.method == "unknown"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("JAKARTA (Reuters) - Harga naik.", [("Reuters", "dateline", True)]),
        ("KONTAN.CO.ID - JAKARTA. Harga naik.", [("KONTAN.CO.ID", "dateline", False)]),
        ("Harga naik.\nSumber: Reuters, AFP", [("Reuters", "source_line", True)]),
        ("Harga naik, dilansir Al Jazeera.", [("Al Jazeera", "attribution", True)]),
        ("Prices rose.\n— AFP", [("AFP", "source_line", True)]),
        ("Artikel ini telah tayang di ANTARA dengan judul X", [("ANTARA", "attribution", True)]),
        ("O preço subiu, segundo a Agência Brasil.", [("Agência Brasil", "attribution", True)]),
        ("Reuters reported on Friday that prices rose.", []),  # a mention, not a credit
        ("Apa kabar? Ap dan afp bukan kredit.", []),  # acronyms only in capitals
    ],
)
def test_credits(text: str, expected: list[tuple[str, str, bool]]) -> None:
    found = find_credits(text, Config().attribute.wires)
    assert [(c.name, c.kind, c.wire) for c in found] == expected
    for credit in found:
        assert credit.name.casefold() in text[credit.start : credit.end].casefold()


def test_segment_keeps_abbreviations_domains_and_initials_together() -> None:
    text = (
        "Bpk. H. Ahmad tiba di Jl. Sudirman No. 5 pukul 10.00 WIB. Ia membaca detik.com.\r\n"
        'Dr. Silva disse: "Não." Fim.'
    )
    assert [text[s.start : s.end] for s in segment(text)] == [
        "Bpk. H. Ahmad tiba di Jl. Sudirman No. 5 pukul 10.00 WIB.",
        "Ia membaca detik.com.",
        'Dr. Silva disse: "Não."',
        "Fim.",
    ]


_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=300
) | st.lists(
    st.sampled_from(["Kata", "東京", "ครับ", "😀", "é", ".", " ", "\n", "\r\n", '"', "Dr.", "?"]),
    max_size=60,
).map("".join)


@settings(max_examples=150, deadline=None)
@given(_TEXT, _TEXT)
def test_passages_stay_in_bounds_in_order_and_never_overlap(left: str, right: str) -> None:
    result = attribute_cluster(
        "c", [Article(id="a", text=left + WIRE_TEXT), Article(id="b", text=WIRE_TEXT + right)]
    )
    for member in result.members:
        text = left + WIRE_TEXT if member.article_id == "a" else WIRE_TEXT + right
        end = 0
        for passage in member.passages:
            assert end <= passage.start < passage.end <= len(text)
            assert text[passage.start : passage.end].strip() == text[passage.start : passage.end]
            end = passage.end
            cp = passage.counterpart
            if cp is not None:
                other = WIRE_TEXT + right if member.article_id == "a" else left + WIRE_TEXT
                assert 0 <= cp.start < cp.end <= len(other) and 0.0 <= cp.similarity <= 1.0


def _at(hour: int) -> datetime:
    return datetime(2026, 1, 6, hour, tzinfo=UTC)
