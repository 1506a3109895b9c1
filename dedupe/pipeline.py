"""The batch pipeline: articles -> shingles -> signatures -> candidates -> verified -> clusters.

``cluster_articles`` composes the stage modules and records what each stage did (counts, time,
peak memory) in ``RunResult.stages``. Articles are processed in id order, so any input order
gives the same clusters, the same ids and the same report.
"""

from __future__ import annotations

import hashlib
import itertools
import resource
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from dedupe._arrays import segment_sums
from dedupe._progress import StageLine, progress_iter
from dedupe._workers import worker_context, workers_failed
from dedupe.batch import (
    BatchResult,
    FeatureRows,
    encode_texts,
    process_batch,
    process_encoded_batch,
)
from dedupe.candidates import find_candidates
from dedupe.cluster import group_rows
from dedupe.config import Config
from dedupe.errors import UsageError
from dedupe.shingle import I64
from dedupe.signature import sign_rows
from dedupe.types import Article, Cluster, ClusterMember, PairScore, Reject, RunResult, StageStats
from dedupe.verify import (
    PairScores,
    Verifier,
    common_columns,
    document_frequencies,
    estimated_containment,
)

# The stages of ``cluster_articles``, in order (the keys of ``RunResult.stages``).
STAGE_NAMES = ("shingle", "signature", "candidates", "verify", "cluster")


@dataclass
class _StageClock:
    name: str
    items_in: int
    items_out: int = 0
    notes: dict[str, int] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    workers: int = 1


class _Stages:
    """Collects ``StageStats``: wall time and the process's peak RSS after each stage."""

    def __init__(self, line: StageLine) -> None:
        self.done: list[StageStats] = []
        self.line = line

    @contextmanager
    def run(self, name: str, items_in: int) -> Iterator[_StageClock]:
        clock = _StageClock(name=name, items_in=items_in)
        self.line.start(name)
        start = time.perf_counter()
        yield clock
        self.line.finish()
        self.done.append(
            StageStats(
                name=name,
                items_in=clock.items_in,
                items_out=clock.items_out,
                seconds=time.perf_counter() - start,
                # Linux reports ru_maxrss in KiB.
                peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                notes=dict(clock.notes),
                cpu_seconds=dict(clock.cpu_seconds),
                workers=clock.workers,
            )
        )


def cluster_id(article_ids: Sequence[str]) -> str:
    """Stable cluster id from the sorted member ids (same on every run and backend).

    Example:
        >>> cluster_id(["a", "b"]) == cluster_id(["a", "b"])
        True
    """
    digest = hashlib.sha256("\x1f".join(sorted(article_ids)).encode("utf-8")).hexdigest()
    return f"c{digest[:10]}"


def cluster_articles(
    articles: Iterable[Article],
    config: Config | None = None,
    *,
    rejects: Sequence[Reject] = (),
    progress: bool = False,
) -> RunResult:
    """Find groups of articles that share wording.

    Args:
        articles: Articles with unique ids, in any order.
        config: Settings; the defaults of ``config.yaml`` when None.
        rejects: Input records already rejected by the readers, carried into the result.
        progress: Show progress bars on stderr (when it is a terminal).

    Returns:
        The clusters, the verified pairs and per-stage statistics.

    Raises:
        UsageError: two articles have the same id.

    Example:
        >>> from dedupe import Article, cluster_articles
        >>> result = cluster_articles([Article(id="a", text="...")])
        >>> result.clusters
        ()
    """
    config = config or Config()
    ordered = sorted(articles, key=lambda a: a.id)
    for previous, current in itertools.pairwise(ordered):
        if previous.id == current.id:
            raise UsageError(f"duplicate article id {current.id!r} ({current.source})")
    line = StageLine(enabled=progress, total=len(STAGE_NAMES))
    try:
        return _cluster_sorted(ordered, config, _Stages(line), rejects, progress)
    finally:
        line.close()


def _cluster_sorted(
    ordered: list[Article],
    config: Config,
    stages: _Stages,
    rejects: Sequence[Reject],
    progress: bool,
) -> RunResult:
    ids = [a.id for a in ordered]
    n = len(ordered)
    with stages.run("shingle", n) as clock:
        shingled = _shingle_all([a.text for a in ordered], config, progress)
        features = shingled.features
        clock.items_out = n
        clock.notes["shingles"] = shingled.shingles
        clock.cpu_seconds.update(shingled.seconds)
        clock.workers = shingled.workers

    with stages.run("signature", n) as clock:
        cpu = time.process_time()
        doc_freq = document_frequencies(features, config.verify)
        common = common_columns(features, config.verify, doc_freq)
        # In place: one bool per feature entry instead of three (1.5 GB at 1M articles).
        compared = common[features.columns]
        np.logical_not(compared, out=compared)
        compared &= features.signed
        compared_counts = segment_sums(compared, features.offsets)
        comparable = compared_counts >= config.shingle.min_shingles
        clock.cpu_seconds["frequencies"] = time.process_time() - cpu
        cpu = time.process_time()
        signatures = sign_rows(
            features.offsets,
            features.columns,
            compared,
            num_perm=config.minhash.num_perm,
            seed=config.seed,
            batch_size=config.backend.batch_size,
        )
        clock.cpu_seconds["minhash"] = time.process_time() - cpu
        clock.items_out = int(comparable.sum())
        clock.notes["common_shingle_columns"] = int(common.sum())

    bands, rows = config.lsh_params
    with stages.run("candidates", int(comparable.sum())) as clock:
        candidates = find_candidates(
            signatures,
            comparable,
            bands=bands,
            rows=rows,
            max_bucket_size=config.lsh.max_bucket_size,
        )
        clock.items_out = len(candidates)
        clock.notes.update(bands=bands, rows=rows, oversized_buckets=candidates.oversized_buckets)

    published = np.array(
        [a.published.timestamp() if a.published else np.nan for a in ordered], dtype=np.float64
    )
    window = config.cluster.time_window_days * 86_400.0

    def in_window(left: I64, right: I64) -> np.ndarray:
        if window <= 0:
            return np.ones(len(left), np.bool_)
        gap = np.abs(published[left] - published[right])
        return np.isnan(gap) | (gap <= window)

    with stages.run("verify", len(candidates)) as clock:
        estimate = estimated_containment(
            signatures, compared_counts, candidates.left, candidates.right
        )
        floor = config.verify.estimate_floor * config.verify.containment_threshold
        screened = estimate >= floor
        left, right = candidates.left[screened], candidates.right[screened]
        candidate_rows = np.concatenate((left, right))
        verifier = Verifier(config=config.verify).fit(features, candidate_rows, common, doc_freq)
        scores = verifier.score(left, right)
        verified = verifier.passes(scores) & in_window(left, right)
        clock.items_out = int(verified.sum())
        clock.notes["screened_out_by_estimate"] = int((~screened).sum())

    gate = (scores.cosine >= config.verify.cosine_threshold) & in_window(left, right)
    with stages.run("cluster", int(verified.sum())) as clock:
        grouping = group_rows(
            n,
            verified,
            left,
            right,
            np.where(gate, scores.containment, 0.0),
            threshold=config.verify.containment_threshold,
            max_component_size=config.cluster.max_component_size,
        )
        clusters = _build_clusters(grouping.groups, ids, verifier)
        clusters.sort(key=lambda c: (-len(c.article_ids), c.article_ids[0]))
        clock.items_out = len(clusters)
        clock.notes["oversized_components"] = grouping.oversized_components

    pairs = _pair_records(left[verified], right[verified], ids, scores, verified)
    return RunResult(
        config_digest=config.digest(),
        articles=tuple(ordered),
        rejects=tuple(rejects),
        clusters=tuple(clusters),
        pairs=pairs,
        stages=tuple(stages.done),
        uncomparable_ids=tuple(ids[i] for i in np.flatnonzero(~comparable)),
    )


@dataclass(frozen=True, slots=True)
class _Shingled:
    features: FeatureRows
    shingles: int
    seconds: dict[str, float]
    workers: int


def _shingle_all(texts: Sequence[str], config: Config, progress: bool) -> _Shingled:
    """Map ``process_batch`` over batches, in worker processes when there is more than one."""
    size = config.backend.batch_size
    batches = [texts[i : i + size] for i in range(0, len(texts), size)]
    workers = min(config.backend.num_workers, len(batches))
    if workers > 1:
        context = worker_context()
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                results = list(
                    progress_iter(
                        _in_workers(pool, batches, config, ahead=2 * workers),
                        enabled=progress,
                        total=len(batches),
                        desc="shingle",
                    )
                )
        except (BrokenProcessPool, RuntimeError) as exc:
            raise workers_failed(exc) from exc
    else:
        results = [
            process_batch(batch, config)
            for batch in progress_iter(
                batches, enabled=progress, total=len(batches), desc="shingle"
            )
        ]
    seconds: dict[str, float] = {}
    for result in results:
        for key, value in result.seconds.items():
            seconds[key] = seconds.get(key, 0.0) + value
    shingles = sum(r.shingles for r in results)
    parts = [r.features for r in results]
    del results  # the parts list is all that holds the batches now: concat_draining frees them
    return _Shingled(
        features=FeatureRows.concat_draining(parts),
        shingles=shingles,
        seconds=seconds,
        workers=max(workers, 1),
    )


def _in_workers(
    pool: ProcessPoolExecutor, batches: Sequence[Sequence[str]], config: Config, *, ahead: int
) -> Iterator[BatchResult]:
    """``process_batch`` of each batch in the pool, in order, with at most ``ahead`` in flight.

    ``pool.map`` would submit every batch at once, holding all their encoded copies until
    the workers got to them (~3 GiB at 1M articles).
    """
    pending: deque[Future[BatchResult]] = deque()
    for batch in batches:
        pending.append(pool.submit(process_encoded_batch, encode_texts(batch), config))
        if len(pending) >= ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _pair_records(
    left: I64, right: I64, ids: Sequence[str], scores: PairScores, keep: np.ndarray
) -> tuple[PairScore, ...]:
    records = [
        _pair_record(ids, int(a), int(b), scores, int(k), verified=True)
        for a, b, k in zip(left, right, np.flatnonzero(keep), strict=True)
    ]
    records.sort(key=lambda p: (p.left_id, p.right_id))
    return tuple(records)


def _pair_record(
    ids: Sequence[str], a: int, b: int, scores: PairScores, k: int, *, verified: bool
) -> PairScore:
    left_id, right_id = sorted((ids[a], ids[b]))
    return PairScore(
        left_id=left_id,
        right_id=right_id,
        jaccard=round(float(scores.jaccard[k]), 6),
        containment=round(float(scores.containment[k]), 6),
        cosine=round(float(scores.cosine[k]), 6),
        shared_shingles=int(scores.shared[k]),
        verified=verified,
    )


def _build_clusters(groups: Sequence[I64], ids: Sequence[str], verifier: Verifier) -> list[Cluster]:
    """Score every pair inside every group in one call, then build the records."""
    index = [np.triu_indices(len(rows), k=1) for rows in groups]
    if not groups:
        return []
    left = np.concatenate([rows[i] for rows, (i, _) in zip(groups, index, strict=True)])
    right = np.concatenate([rows[j] for rows, (_, j) in zip(groups, index, strict=True)])
    scores = verifier.score(left, right)
    bounds = np.cumsum([0] + [len(i) for i, _ in index])
    return [
        _build_cluster(rows, i, j, ids, _slice(scores, bounds[k], bounds[k + 1]), verifier)
        for k, (rows, (i, j)) in enumerate(zip(groups, index, strict=True))
    ]


def _slice(scores: PairScores, start: int, stop: int) -> PairScores:
    return PairScores(
        jaccard=scores.jaccard[start:stop],
        containment=scores.containment[start:stop],
        cosine=scores.cosine[start:stop],
        shared=scores.shared[start:stop],
    )


def _build_cluster(
    rows: I64, i: I64, j: I64, ids: Sequence[str], scores: PairScores, verifier: Verifier
) -> Cluster:
    verified = verifier.passes(scores)
    pairs = sorted(
        (
            _pair_record(ids, int(rows[a]), int(rows[b]), scores, k, verified=bool(verified[k]))
            for k, (a, b) in enumerate(zip(i, j, strict=True))
        ),
        key=lambda p: (p.left_id, p.right_id),
    )
    members = []
    for position, row in enumerate(rows):
        touching = np.flatnonzero((i == position) | (j == position))
        # Best match: highest containment, then highest cosine, then smallest id.
        best = min(
            touching,
            key=lambda k: (
                -scores.containment[k],
                -scores.cosine[k],
                ids[int(rows[j[k] if i[k] == position else i[k]])],
            ),
        )
        other = int(rows[j[best] if i[best] == position else i[best]])
        members.append(
            ClusterMember(
                article_id=ids[int(row)],
                best_match_id=ids[other],
                containment=round(float(scores.containment[best]), 6),
                jaccard=round(float(scores.jaccard[best]), 6),
                cosine=round(float(scores.cosine[best]), 6),
                mean_containment=round(float(scores.containment[touching].mean()), 6),
                verified_links=int(verified[touching].sum()),
            )
        )
    article_ids = tuple(ids[int(r)] for r in rows)
    return Cluster(
        id=cluster_id(article_ids),
        article_ids=article_ids,
        members=tuple(members),
        pairs=tuple(pairs),
    )
