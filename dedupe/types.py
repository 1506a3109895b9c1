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


# --- attribution (``dedupe.attribute``) ---------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Counterpart:
    """Where a copied passage's wording is found in another member.

    Attributes:
        article_id: The other member.
        start: Offset of the first matched character in that member's text.
        end: Offset one past the last matched character.
        similarity: Share of the passage's words found, in order, in runs of two or more
            words, in the counterpart (1.0 = every word).
        level: ``verbatim``, ``near_verbatim``, ``paraphrase``, or ``partial`` (the
            counterpart copied part of this sentence, which also holds words of its own).
    """

    article_id: str
    start: int
    end: int
    similarity: float
    level: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Passage:
    """One sentence of a member and what it is.

    Attributes:
        start: Offset of the first character in the member's text (as read).
        end: Offset one past the last character.
        paragraph: 0-based paragraph (non-empty line) index.
        label: ``copied`` (shared reporting), ``reused`` (a sentence of the likely origin that
            another member copied), ``shared_quote`` (a quotation that is all this member
            shares with the counterpart), ``added`` (found in no other member), ``credit``
            (only a credit such as "(ANTARA)") or ``boilerplate`` (``normalize.drop_lines``).
        counterpart: The best match in another member (None for ``added``, ``credit`` and
            ``boilerplate``).
        quoted: Share of the passage's words inside quotation marks.
    """

    start: int
    end: int
    paragraph: int
    label: str
    counterpart: Counterpart | None
    quoted: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Credit:
    """A credit or dateline naming a source: "(Reuters) -", "Sumber: Antara", "KONTAN.CO.ID -".

    Attributes:
        name: The credited source as written ("Reuters", "KONTAN.CO.ID").
        kind: ``dateline``, ``source_line`` or ``attribution`` (a phrase like "dilansir").
        start: Offset of the credit in the member's text.
        end: Offset one past it.
        wire: Whether ``name`` is a news agency from ``attribute.wires``.
    """

    name: str
    kind: str
    start: int
    end: int
    wire: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberAttribution:
    """What one member copied, from whom, and what it added.

    Attributes:
        article_id: The member.
        copied_share: Share of its characters (outside boilerplate and credit lines) in
            ``copied`` passages.
        reused_share: For the likely origin: share of its characters other members copied.
        sources: Copied characters per counterpart article id, largest first.
        passages: Every passage, in text order; together they cover all its sentences.
        credits: Credits and datelines found in its text.
        credits_source: Whether it credits a wire or another member's outlet.
    """

    article_id: str
    copied_share: float
    reused_share: float
    sources: tuple[tuple[str, int], ...]
    passages: tuple[Passage, ...]
    credits: tuple[Credit, ...]
    credits_source: bool

    def count(self, label: str) -> int:
        """Number of passages with ``label``."""
        return sum(1 for p in self.passages if p.label == label)


@dataclass(frozen=True, slots=True, kw_only=True)
class Origin:
    """The member most likely to be the source of a cluster, and why.

    Attributes:
        article_id: The likely origin, or None when the evidence does not decide ("unknown").
        confidence: 0 to 1; how strongly the evidence points at it.
        method: ``published`` (earliest date), ``credit`` (its outlet is the wire the others
            credit), ``containment`` (the others' shared text is found in it) or ``unknown``.
        evidence: One sentence a person can check.
    """

    article_id: str | None
    confidence: float
    method: str
    evidence: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterAttribution:
    """Attribution of one cluster: its origin and each member's passages."""

    cluster_id: str
    origin: Origin
    members: tuple[MemberAttribution, ...]
