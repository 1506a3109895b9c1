"""What the index needs from a storage backend, and the row it stores per article.

Two backends implement ``Store``: SQLite (``dedupe.index.sqlite_store``, one file, the
default) and Redis (``dedupe.index.redis_store``, a server a team shares). The index logic in
``dedupe.index.core`` is written once against this protocol.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from dedupe.batch import FeatureRows
from dedupe.index.scoring import Row

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """One indexed article: identity, time, group, the verdict it got, and its features.

    ``seq`` numbers articles in the order they were committed; it never repeats, so a
    process can catch up on what others added by reading ``seq`` above the last it saw.
    ``signature`` (little-endian uint32 MinHash) and ``size`` (compared shingles) let a
    candidate be screened by its estimated containment before its features are read, as
    ``dedupe cluster`` screens candidate pairs.
    """

    seq: int
    id: str
    published: float | None
    added_at: float
    cluster: str
    verdict: str
    row: Row
    keys: bytes
    signature: bytes
    size: int

    @property
    def age_time(self) -> float:
        """The time pruning goes by: publication time, else when it was added."""
        return self.published if self.published is not None else self.added_at


@dataclass(frozen=True, slots=True)
class CandidateRows:
    """What judging reads of the candidates that passed screening, in seq order.

    Who, when, which group, and the features as one batch. Less than ``StoredArticle``: a
    check reads a few hundred of these, and the band keys, signature and verdict (about 2 KB
    of the row) are not needed to score them.
    """

    seqs: list[int]
    ids: list[str]
    published: list[float | None]
    clusters: list[str]
    features: FeatureRows

    def __len__(self) -> int:
        return len(self.seqs)


@dataclass(frozen=True, slots=True)
class SavedFrequencies:
    """The document-frequency table as it was after the article with ``seq``.

    A cache that spares a process opening the index from reading every stored article's
    columns (4.7 s at 100k articles, so ~47 s at 1M): it counts from here on. Valid only
    while the store's generation is ``generation`` (a prune changes it).
    """

    generation: int
    seq: int
    articles: int
    doc_freq: bytes  # little-endian int32, one counter per shingle column


# What a store reads back when a saved table is there but its fields are not numbers and
# bytes (a damaged file or key): never used for counting, reported by ``index verify``.
UNREADABLE_FREQUENCIES = SavedFrequencies(generation=-1, seq=-1, articles=-1, doc_freq=b"")


@dataclass(frozen=True, slots=True)
class StoreState:
    """Cheap to read before every operation: has anything changed since we last looked?"""

    generation: int
    last_seq: int


class Store(Protocol):
    """Storage operations; ``core.Index`` calls them inside ``transaction``."""

    location: str
    backend: str

    def read_meta(self) -> dict[str, str]:
        """Schema version, build settings and generation, as stored."""
        ...

    def init_meta(self, meta: dict[str, str]) -> dict[str, str]:
        """Write ``meta`` if the store is empty; return what the store holds afterwards."""
        ...

    def transaction(self, write: bool) -> AbstractContextManager[None]:
        """A consistent read, or an exclusive write that is applied whole or not at all."""
        ...

    def state(self) -> StoreState:
        """Generation and last seq, as committed (read before every operation: cheap)."""
        ...

    def article_count(self) -> int:
        """Number of stored articles (may cost a scan: for statistics, not per article)."""
        ...

    def columns_since(self, seq: int) -> Iterator[tuple[int, bytes]]:
        """(seq, columns blob) of every article with a larger seq, in seq order."""
        ...

    def bucket_members(self, keys: Sequence[int]) -> dict[int, list[int]]:
        """For each band key, the seqs stored under it."""
        ...

    def read_frequencies(self) -> SavedFrequencies | None:
        """The saved table if one was saved (unchecked), ``UNREADABLE_FREQUENCIES`` if damaged."""
        ...

    def write_frequencies(self, saved: SavedFrequencies) -> None:
        """Replace the saved document-frequency table (inside a write transaction)."""
        ...

    def candidates(self, keys: Sequence[int], cap: int) -> tuple[set[int], list[int]]:
        """LSH candidates of an article with these band keys, and the keys to store it under.

        A bucket holding ``cap`` articles is full: it gives only its first (smallest seq)
        member as a candidate and does not grow (``bucket_candidates`` is the reference).
        """
        ...

    def screening(self, seqs: Sequence[int]) -> list[tuple[int, int, bytes]]:
        """(seq, size, signature) of these articles, in seq order (missing ones left out)."""
        ...

    def load_rows(self, seqs: Sequence[int]) -> CandidateRows:
        """The candidates with these seqs, in seq order (missing ones left out)."""
        ...

    def find(self, article_id: str) -> StoredArticle | None:
        """The stored article with this id, if any."""
        ...

    def insert(self, article: StoredArticle, bucket_keys: Sequence[int]) -> int:
        """Store the article (its ``seq`` is ignored) and its band keys; return its seq."""
        ...

    def older_than(self, cutoff: float) -> list[StoredArticle]:
        """Articles whose ``age_time`` is before ``cutoff`` (Unix seconds)."""
        ...

    def delete(self, articles: Sequence[StoredArticle]) -> None:
        """Remove articles and their band entries, and bump the generation."""
        ...

    def groups(self) -> tuple[int, int]:
        """(groups with two or more members, articles in them)."""
        ...

    def time_range(self) -> tuple[float | None, float | None]:
        """Earliest and latest ``published`` (Unix seconds), None when no article has one."""
        ...

    def band_entries(self) -> int:
        """Number of (band key, article) entries."""
        ...

    def size_bytes(self) -> int:
        """Bytes the index takes (files on disk, or memory the server reports for it)."""
        ...

    def integrity_problems(self) -> list[str]:
        """Every inconsistency found by a full check; empty when the store is sound."""
        ...

    def close(self) -> None:
        """Release connections; the store is unusable afterwards."""
        ...


def bucket_candidates(
    members: dict[int, list[int]], keys: Sequence[int], cap: int
) -> tuple[set[int], list[int]]:
    """``Store.candidates`` from ``Store.bucket_members``' answer (members in seq order)."""
    candidates: set[int] = set()
    grow: list[int] = []
    for key in keys:
        seqs = members.get(key, [])
        if len(seqs) >= cap:
            candidates.add(seqs[0])
        else:
            candidates.update(seqs)
            grow.append(key)
    return candidates, grow
