import random
import sys
from collections.abc import Callable

import pytest

from dedupe import Article, cluster_articles, read_paths
from dedupe.config import Config
from tests.conftest import SEEDS, paragraphs, pseudo_sentences

MakeArticle = Callable[..., Article]


def _groups(result) -> list[tuple[str, ...]]:  # type: ignore[no-untyped-def]
    return sorted(c.article_ids for c in result.clusters)


def test_seeds_give_exactly_the_one_translated_wire_pair() -> None:
    if not SEEDS.exists():
        pytest.skip("../shared/seeds not present")
    result = cluster_articles(read_paths([SEEDS]).articles)
    assert _groups(result) == [("000_99ffd495cf952c86", "002_75e794566d12b039")]


def test_trimmed_halves_join_their_wire_story(make_article: MakeArticle) -> None:
    wire = pseudo_sentences(1, 24)
    articles = [
        make_article("wire", paragraphs(wire)),
        make_article("top-half", paragraphs(wire[:12] + pseudo_sentences(2, 4))),
        make_article("bottom-half", paragraphs(pseudo_sentences(3, 3) + wire[12:])),
        make_article("other", paragraphs(pseudo_sentences(4, 20))),
    ]
    assert _groups(cluster_articles(articles)) == [("bottom-half", "top-half", "wire")]


def test_shared_quote_alone_does_not_link(make_article: MakeArticle) -> None:
    quote = " ".join(pseudo_sentences(9, 2))
    own_a, own_b = pseudo_sentences(10, 14), pseudo_sentences(11, 14)
    articles = [
        make_article(
            "a", paragraphs(own_a[:7]) + f"\n\nShe said: “{quote}”\n\n" + paragraphs(own_a[7:])
        ),
        make_article("b", paragraphs(own_b) + f'\n\n"{quote}," the minister said.'),
        make_article("brief", f"{pseudo_sentences(12, 1)[0]} “{quote}”"),
    ]
    assert _groups(cluster_articles(articles)) == []


def test_shared_boilerplate_alone_does_not_link(make_article: MakeArticle) -> None:
    footer = " ".join(pseudo_sentences(20, 3))
    articles = [
        make_article(f"outlet-{i}", paragraphs(pseudo_sentences(30 + i, 15)) + "\n\n" + footer)
        for i in range(4)
    ]
    assert _groups(cluster_articles(articles)) == []


def _bridged_stories(make_article: MakeArticle) -> list[Article]:
    """Two stories with two copies each, and a round-up that copies half of both."""
    story_a, story_b = pseudo_sentences(40, 20), pseudo_sentences(41, 20)
    articles = [
        make_article("a-wire", paragraphs(story_a)),
        make_article("b-wire", paragraphs(story_b)),
    ]
    for i in range(2):
        own_a, own_b = pseudo_sentences(50 + i, 3), pseudo_sentences(60 + i, 3)
        articles.append(make_article(f"a-copy{i}", paragraphs(story_a[: 14 + i] + own_a)))
        articles.append(make_article(f"b-copy{i}", paragraphs(story_b[: 14 + i] + own_b)))
    articles.append(make_article("roundup", paragraphs(story_a[:8] + story_b[:8])))
    return articles


def test_a_bridge_article_does_not_chain_two_stories(make_article: MakeArticle) -> None:
    groups = _groups(cluster_articles(_bridged_stories(make_article)))
    a_group = next(g for g in groups if "a-wire" in g)
    b_group = next(g for g in groups if "b-wire" in g)
    assert a_group != b_group
    assert {"a-copy0", "a-copy1"} <= set(a_group) and {"b-copy0", "b-copy1"} <= set(b_group)


def test_time_window_keeps_far_apart_copies_apart(make_article: MakeArticle) -> None:
    wire = paragraphs(pseudo_sentences(70, 15))
    articles = [
        make_article("jan", wire, published="2024-01-01T00:00:00+00:00"),
        make_article("jan2", wire, published="2024-01-02T00:00:00+00:00"),
        make_article("jun", wire, published="2024-06-01T00:00:00+00:00"),
    ]
    from dedupe.config import build_config

    assert _groups(cluster_articles(articles)) == [("jan", "jan2", "jun")]
    windowed = build_config({"cluster": {"time_window_days": 3}})
    assert _groups(cluster_articles(articles, windowed)) == [("jan", "jan2")]


def test_any_input_order_gives_the_same_result(make_article: MakeArticle) -> None:
    base = pseudo_sentences(80, 20)
    articles = [make_article("w", paragraphs(base))]
    for i in range(6):
        rng = random.Random(i)
        kept = base[: rng.randint(8, 20)]
        rng.shuffle(kept)
        articles.append(make_article(f"c{i}", paragraphs(kept + pseudo_sentences(90 + i, 4))))
    articles += [make_article(f"x{i}", paragraphs(pseudo_sentences(100 + i, 12))) for i in range(5)]
    expected = cluster_articles(articles, Config())
    for seed in range(3):
        shuffled = articles[:]
        random.Random(seed).shuffle(shuffled)
        again = cluster_articles(shuffled, Config())
        assert again.clusters == expected.clusters and again.pairs == expected.pairs
    assert len(expected.clusters) == 1 and len(expected.clusters[0].article_ids) == 7


def test_short_and_empty_articles_are_reported_not_lost(make_article: MakeArticle) -> None:
    articles = [
        make_article("empty", ""),
        make_article("one-word", "Hello"),
        make_article("ws", " \n\t"),
    ]
    result = cluster_articles(articles)
    assert result.clusters == () and set(result.uncomparable_ids) == {"empty", "one-word", "ws"}


def test_worker_processes_give_the_same_result_as_one_process(make_article: MakeArticle) -> None:
    from dedupe.config import build_config

    base = pseudo_sentences(200, 20)
    articles = [
        make_article(f"w{i}", paragraphs(base[i:] + pseudo_sentences(300 + i, 5))) for i in range(8)
    ]
    articles += [
        make_article(f"x{i}", paragraphs(pseudo_sentences(400 + i, 12))) for i in range(12)
    ]
    single = cluster_articles(articles, build_config({"backend": {"workers": 1, "batch_size": 3}}))
    pooled = cluster_articles(articles, build_config({"backend": {"workers": 2, "batch_size": 3}}))
    assert pooled.clusters == single.clusters and pooled.pairs == single.pairs
    assert pooled.stages[0].workers == 2 and single.clusters


def test_worker_processes_leave_the_callers_texts_as_they_were(make_article: MakeArticle) -> None:
    """Sending a str to a worker used to leave a cached UTF-8 copy on it (+3 GiB at 1M)."""
    from dedupe.config import build_config

    base = pseudo_sentences(500, 20)
    # Non-ASCII (Latin-1 and beyond) and a lone surrogate, as a JSON escape can produce.
    accents = ["São Paulo, “kata dia” — 東京.", "São Paulo \ud800."]
    articles = [
        make_article(
            f"w{i}", paragraphs([*base[i:], accents[i % 2], *pseudo_sentences(600 + i, 5)])
        )
        for i in range(6)
    ]
    sizes = [sys.getsizeof(a.text) for a in articles]
    single = cluster_articles(articles, build_config({"backend": {"workers": 1, "batch_size": 2}}))
    pooled = cluster_articles(articles, build_config({"backend": {"workers": 2, "batch_size": 2}}))
    assert [sys.getsizeof(a.text) for a in articles] == sizes
    assert pooled.clusters == single.clusters and pooled.pairs == single.pairs and single.clusters


def test_a_component_over_the_size_cap_is_cut_not_kept_whole(make_article: MakeArticle) -> None:
    from dedupe.config import build_config

    capped = build_config({"cluster": {"max_component_size": 3}})
    result = cluster_articles(_bridged_stories(make_article), capped)
    groups = _groups(result)
    assert all(len(g) <= 3 for g in groups)
    assert ("a-copy0", "a-copy1", "a-wire") in groups and ("b-copy0", "b-copy1", "b-wire") in groups
    assert result.stages[-1].notes["oversized_components"] == 1
