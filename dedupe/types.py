"""Frozen records that cross stage boundaries.

Each stage reads the fields the next one needs and nothing else; pass-through input fields
live in ``extra``, which no stage reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class Article:
    """One news article as read from the input. ``text`` is never rewritten.

    Attributes:
        id: Unique id within one run (file path for folders, the ``id`` field for records).
        text: The article body as read (decoded, otherwise untouched).
        outlet: Publishing outlet, or ``""`` when unknown.
        title: Headline, or ``""``.
        url: Source URL, or ``""``.
        published: Publication time (timezone-aware, UTC when the input had none), or None.
        source: Where the record came from, as ``path`` or ``path:line``.
        extra: Input fields we do not interpret, kept for output.
    """

    id: str
    text: str
    outlet: str = ""
    title: str = ""
    url: str = ""
    published: datetime | None = None
    source: str = ""
    extra: Mapping[str, str] = field(default_factory=lambda: _EMPTY, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reject:
    """An input record that could not be used, with the place and the reason."""

    source: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PairScore:
    """Exact similarity of two articles, measured on their shingles.

    Attributes:
        left_id: The smaller article id of the pair.
        right_id: The larger article id of the pair.
        jaccard: |A ∩ B| / |A ∪ B| over compared shingles.
        containment: |A ∩ B| / min(|A|, |B|): 1.0 when the shorter text is wholly inside the other.
        cosine: TF-IDF cosine of the two articles' shingle vectors.
        shared_shingles: |A ∩ B|.
        verified: Whether the pair passed every verification threshold.
    """

    left_id: str
    right_id: str
    jaccard: float
    containment: float
    cosine: float
    shared_shingles: int
    verified: bool

    def __post_init__(self) -> None:
        if not self.left_id < self.right_id:
            raise ValueError(f"pair ids must be ordered: {self.left_id!r} !< {self.right_id!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterMember:
    """An article inside a cluster and how strongly it is tied to the rest.

    Attributes:
        article_id: The member's id.
        best_match_id: The other member it shares the most wording with.
        containment: Containment with ``best_match_id``.
        jaccard: Jaccard with ``best_match_id``.
        cosine: TF-IDF cosine with ``best_match_id``.
        mean_containment: Mean containment with every other member (the cohesion of its tie).
        verified_links: How many other members it is verified against directly.
    """

    article_id: str
    best_match_id: str
    containment: float
    jaccard: float
    cosine: float
    mean_containment: float
    verified_links: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Cluster:
    """A group of articles that share wording.

    Attributes:
        id: Stable id derived from the sorted member ids.
        article_ids: Member ids, sorted.
        members: Per-member ties, in ``article_ids`` order.
        pairs: Every scored pair inside the cluster, sorted by ids.
    """

    id: str
    article_ids: tuple[str, ...]
    members: tuple[ClusterMember, ...]
    pairs: tuple[PairScore, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class StageStats:
    """What one stage did: counts for the report; time, memory and workers for benchmarks.

    ``notes`` holds deterministic counts only (they go into the JSON report); ``cpu_seconds``
    breaks the stage's CPU time down by step, summed over worker processes.
    """

    name: str
    items_in: int
    items_out: int
    seconds: float
    peak_rss_bytes: int
    notes: Mapping[str, int] = field(default_factory=dict)
    cpu_seconds: Mapping[str, float] = field(default_factory=dict)
    workers: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult:
    """Everything a report needs about one clustering run.

    Attributes:
        config_digest: Digest of the settings that change signatures.
        articles: The articles read, sorted by id.
        rejects: Input records that were not used, with reasons.
        clusters: Clusters, largest first, then by id.
        pairs: Every verified pair, sorted by ids (including pairs later split apart).
        stages: Per-stage counts, time and memory, in pipeline order.
        uncomparable_ids: Articles too short (or only boilerplate) to compare.
    """

    config_digest: str
    articles: tuple[Article, ...]
    rejects: tuple[Reject, ...]
    clusters: tuple[Cluster, ...]
    pairs: tuple[PairScore, ...]
    stages: tuple[StageStats, ...]
    uncomparable_ids: tuple[str, ...] = ()

    @property
    def clustered_count(self) -> int:
        """Number of articles that belong to a cluster."""
        return sum(len(c.article_ids) for c in self.clusters)
