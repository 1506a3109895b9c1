"""Fuzz targets: arbitrary bytes into the readers, the pipeline and attribution.

Each target must never raise: bad input becomes rejects, never a crash. ``tests/fuzz/run.py``
drives them with atheris (``make fuzz``); ``tests/test_fuzz_regressions.py`` replays every
input in ``tests/fuzz/regressions/`` (crashes found so far, and seeds) in ``make test``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from dedupe.attribute import attribute_cluster
from dedupe.config import build_config
from dedupe.pipeline import cluster_articles
from dedupe.readers import read_paths
from dedupe.types import Article

SUFFIXES = (".txt", ".jsonl", ".json", ".csv", ".tsv", ".html")
_CONFIG = build_config({"backend": {"workers": 1}, "minhash": {"num_perm": 64}})
_DIR = Path(tempfile.mkdtemp(prefix="dedupe-fuzz-"))


def read_one(data: bytes) -> None:
    """First byte picks the file type; the rest is the file. Read, cluster, attribute."""
    if not data:
        return
    path = _DIR / f"input{SUFFIXES[data[0] % len(SUFFIXES)]}"
    path.write_bytes(data[1:])
    loaded = read_paths([path])
    for article in loaded.articles:
        assert isinstance(article.text, str) and article.text.strip()
    if not loaded.articles:
        return
    result = cluster_articles(loaded.articles, _CONFIG, rejects=loaded.rejects)
    assert len(result.articles) == len(loaded.articles)
    by_id = {a.id: a for a in result.articles}
    for cluster in result.clusters:
        _check(attribute_cluster(cluster.id, [by_id[i] for i in cluster.article_ids], _CONFIG))


def attribute_many(data: bytes) -> None:
    """Bytes split at 0xFF into up to four texts, attributed as one cluster."""
    texts = [part.decode("utf-8", "replace") for part in data.split(b"\xff")[:4]]
    articles = [Article(id=f"a{i}", text=t) for i, t in enumerate(texts)]
    if len(articles) < 2:
        return
    _check(attribute_cluster("fuzz", articles, _CONFIG), {a.id: a.text for a in articles})


def _check(result: object, texts: dict[str, str] | None = None) -> None:
    from dedupe.types import ClusterAttribution

    assert isinstance(result, ClusterAttribution)
    for member in result.members:
        end = 0
        for passage in member.passages:
            assert end <= passage.start < passage.end
            end = passage.end
            if texts is not None:
                assert passage.end <= len(texts[member.article_id])
            cp = passage.counterpart
            if cp is not None:
                assert 0 <= cp.start < cp.end and 0.0 <= cp.similarity <= 1.0


TARGETS = {"readers": read_one, "attribution": attribute_many}
