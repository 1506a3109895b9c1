"""Frozen records of the pre-filter index: what a check or an add answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["unique", "near_duplicate", "syndicated"]
STATUSES: tuple[Status, ...] = ("unique", "near_duplicate", "syndicated")


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    """An indexed article that shares wording with the one checked.

    Scores are those of ``dedupe cluster``'s pairs: over compared shingles (quotations and
    shingles common across the index left out) and TF-IDF cosine.
    """

    id: str
    jaccard: float
    containment: float
    cosine: float
    shared_shingles: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "id": self.id,
            "jaccard": self.jaccard,
            "containment": self.containment,
            "cosine": self.cosine,
            "shared_shingles": self.shared_shingles,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """The answer for one article.

    Attributes:
        id: The article's id.
        status: ``unique`` (no indexed article shares wording), ``near_duplicate`` (the best
            match is essentially the same text: Jaccard at least ``index.near_duplicate_jaccard``)
            or ``syndicated`` (shares substantial wording: passes ``verify`` thresholds).
        matches: Indexed articles that pass verification, best first (containment, then
            cosine, then id), at most ``index.max_matches``.
        cluster: The group the article joins: the id of the first indexed article of its best
            match's group; its own id when it starts a group; None for a check of a unique one.
        comparable: False when the text has fewer than ``shingle.min_shingles`` compared
            shingles (too short to compare); such an article is always ``unique``.
        added: True when this call inserted the article.
        already_indexed: True when the id was in the index before this call; the verdict is
            then the one recorded when it was first added (adding again is a no-op).
    """

    id: str
    status: Status
    matches: tuple[Match, ...] = ()
    cluster: str | None = None
    comparable: bool = True
    added: bool = False
    already_indexed: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (the ``dedupe`` object that ``dedupe filter`` adds)."""
        return {
            "status": self.status,
            "matches": [m.to_dict() for m in self.matches],
            "cluster": self.cluster,
            "comparable": self.comparable,
            "added": self.added,
            "already_indexed": self.already_indexed,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexStats:
    """What ``dedupe index stats`` prints."""

    location: str
    backend: str
    articles: int
    groups: int
    grouped_articles: int
    band_entries: int
    bytes_on_disk: int
    oldest: str | None
    newest: str | None
    params: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields, with bytes per article."""
        per_article = self.bytes_on_disk / self.articles if self.articles else 0.0
        return {
            "location": self.location,
            "backend": self.backend,
            "articles": self.articles,
            "groups": self.groups,
            "grouped_articles": self.grouped_articles,
            "band_entries": self.band_entries,
            "bytes_on_disk": self.bytes_on_disk,
            "bytes_per_article": round(per_article, 1),
            "oldest": self.oldest,
            "newest": self.newest,
            "params": self.params,
        }
