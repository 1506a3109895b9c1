"""Pipeline stages as Spark DataFrame transformations, each calling the local path's functions.

Input: articles ``(id, text, published_ts)``. Stages and the function each one maps:

1. ``featurize``: per partition, ``dedupe.batch.process_batch`` (``mapInArrow``), then the
   exact-duplicate pre-pass: articles with the same text (SHA-256) share one feature row
   (``texts``), so duplicates are signed, banded and scored once.
2. ``doc_frequencies``: one aggregation over ``texts`` weighted by copies, collected (at most
   ``2**verify.hash_bits`` counts) and broadcast: common columns and the TF-IDF IDF.
3. ``sign``: per partition, ``dedupe.signature.sign_rows`` over the compared columns (signed,
   not common), exactly what the local path signs.
4. ``candidate_pairs``: LSH band ``i`` is bytes ``[4ri, 4r(i+1))`` of the signature (the rows
   ``band_keys`` reads; equal keys iff equal bands). Buckets are counted with multiplicity;
   a bucket of at most ``lsh.max_bucket_size`` articles yields all its pairs, a bigger one a
   star from its smallest id (``find_candidates``'s rule), so candidates equal the local ones.
5. ``score_pairs``: MinHash screening with ``estimated_containment`` on the two signatures of
   each distinct text pair, then both feature rows joined to the pairs that pass, and exact
   scores with ``Verifier.fit_frequencies`` (same IDF).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from dedupe.batch import FeatureRows, process_batch
from dedupe.config import Config
from dedupe.signature import sign_rows
from dedupe.spark.arrow import (
    feature_arrays,
    features_from,
    list_parts,
    signature_array,
    signatures_from,
)
from dedupe.verify import Verifier, estimated_containment

if TYPE_CHECKING:
    from pyspark import Broadcast
    from pyspark.sql import DataFrame

ArrowFn = Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]

FEATURES_SCHEMA = (
    "text_key string, rep_id string, copies long, columns array<int>, counts array<int>, "
    "signed array<boolean>"
)
TEXTS_SCHEMA = (
    "text_key string, rep_id string, copies long, columns array<int>, counts array<int>, "
    "signed array<boolean>, compared int, signature binary"
)
SCORES_SCHEMA = (
    "key_l string, key_r string, screened boolean, jaccard double, containment double, "
    "cosine double, shared long"
)


def _features_fn(config: Config) -> ArrowFn:
    schema = pa.schema(
        [
            ("text_key", pa.string()),
            ("rep_id", pa.string()),
            ("copies", pa.int64()),
            ("columns", pa.list_(pa.int32())),
            ("counts", pa.list_(pa.int32())),
            ("signed", pa.list_(pa.bool_())),
        ]
    )

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            texts = batch.column("text").to_pylist()
            features = process_batch(texts, config).features
            yield pa.RecordBatch.from_arrays(
                [
                    batch.column("text_key"),
                    batch.column("rep_id"),
                    batch.column("copies"),
                    *feature_arrays(features),
                ],
                schema=schema,
            )

    return run


def featurize(articles: DataFrame, config: Config) -> tuple[DataFrame, DataFrame]:
    """Feature rows per distinct text, and the article -> text table.

    Returns:
        ``texts`` (text_key, rep_id = smallest id with that text, copies, columns, counts,
        signed) and ``members`` (id, text_key, published_ts).
    """
    from pyspark.sql import functions as F

    keyed = articles.select("id", "published_ts", "text", F.sha2("text", 256).alias("text_key"))
    members = keyed.select("id", "text_key", "published_ts")
    # Only one article per distinct text is tokenized: duplicates cost a hash, not a parse.
    # The join moves each text once (a text is smaller than its feature row).
    reps = (
        members.groupBy("text_key")
        .agg(F.min("id").alias("rep_id"), F.count(F.lit(1)).alias("copies"))
        .withColumnRenamed("text_key", "rep_key")
    )
    distinct = keyed.join(reps, F.col("id") == F.col("rep_id")).select(
        F.col("rep_key").alias("text_key"), "rep_id", "copies", "text"
    )
    texts = distinct.mapInArrow(_features_fn(config), FEATURES_SCHEMA)
    return texts, members


def doc_frequencies(texts: DataFrame, hash_bits: int) -> np.ndarray:
    """Corpus document frequency of every column (duplicates counted), as a numpy array."""
    from pyspark.sql import functions as F

    counted = (
        texts.select(F.explode("columns").alias("column"), "copies")
        .groupBy("column")
        .agg(F.sum("copies").alias("df"))
        .collect()
    )
    doc_freq = np.zeros(1 << hash_bits, np.int64)
    if counted:
        columns = np.array([r["column"] for r in counted], np.int64)
        doc_freq[columns] = np.array([r["df"] for r in counted], np.int64)
    return doc_freq


def _sign_batch(
    batch: pa.RecordBatch, config: Config, common: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Compared-shingle counts and MinHash signatures of a batch of feature rows."""
    features = features_from(batch)
    # What the local path signs: signed (unquoted) columns that are not common.
    compared = features.signed & ~common[features.columns]
    owner = np.repeat(np.arange(len(features)), np.diff(features.offsets))
    counts = np.bincount(owner[compared], minlength=len(features)).astype(np.int32)
    signatures = sign_rows(
        features.offsets,
        features.columns,
        compared,
        num_perm=config.minhash.num_perm,
        seed=config.seed,
        batch_size=config.backend.batch_size,
    )
    return counts, signatures


def common_mask(doc_freq: np.ndarray, num_articles: int, config: Config) -> np.ndarray:
    """Columns too common to count (``dedupe.verify.common_columns`` from frequencies)."""
    verify = config.verify
    mask: np.ndarray = doc_freq > max(verify.max_df * num_articles, verify.max_df_min_docs)
    return mask


_TEXTS_NAMES = [
    "text_key",
    "rep_id",
    "copies",
    "columns",
    "counts",
    "signed",
    "compared",
    "signature",
]


def _sign_fn(config: Config, doc_freq: Broadcast[np.ndarray], num_articles: int) -> ArrowFn:
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        common = common_mask(doc_freq.value, num_articles, config)
        for batch in batches:
            counts, signatures = _sign_batch(batch, config, common)
            columns = [batch.column(name) for name in ("text_key", "rep_id", "copies")]
            columns += [batch.column(name) for name in ("columns", "counts", "signed")]
            columns += [pa.array(counts, pa.int32()), signature_array(signatures)]
            yield pa.RecordBatch.from_arrays(columns, names=_TEXTS_NAMES)

    return run


def _resign_fn(
    config: Config, doc_freq: Broadcast[np.ndarray], num_articles: int, changed: np.ndarray
) -> ArrowFn:
    num_perm = config.minhash.num_perm

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        common = common_mask(doc_freq.value, num_articles, config)
        for batch in batches:
            offsets, columns = list_parts(batch.column("columns"))
            _, signed = list_parts(batch.column("signed"))
            owner = np.repeat(np.arange(batch.num_rows), np.diff(offsets))
            # Unsigned (quoted) columns are never compared, common or not.
            hit = np.isin(columns, changed) & signed.astype(np.bool_)
            rows = np.unique(owner[hit])
            compared = batch.column("compared").to_numpy(zero_copy_only=False).astype(np.int32)
            signatures = signatures_from(batch.column("signature"), num_perm)
            if len(rows):
                counts, fresh = _sign_batch(batch.take(pa.array(rows)), config, common)
                compared[rows] = counts
                signatures[rows] = fresh
            resigned = np.zeros(batch.num_rows, np.bool_)
            resigned[rows] = True
            out = [batch.column(name) for name in _TEXTS_NAMES[:6]]
            out += [pa.array(compared, pa.int32()), signature_array(signatures)]
            out.append(pa.array(resigned))
            yield pa.RecordBatch.from_arrays(out, names=[*_TEXTS_NAMES, "resigned"])

    return run


def sign(
    texts: DataFrame, config: Config, doc_freq: Broadcast[np.ndarray], num_articles: int
) -> DataFrame:
    """Add ``compared`` (shingles compared) and ``signature`` (MinHash, binary) to ``texts``."""
    return texts.select("text_key", "rep_id", "copies", "columns", "counts", "signed").mapInArrow(
        _sign_fn(config, doc_freq, num_articles), TEXTS_SCHEMA
    )


def resign(
    signed: DataFrame,
    config: Config,
    doc_freq: Broadcast[np.ndarray],
    num_articles: int,
    changed: np.ndarray,
) -> DataFrame:
    """Signed texts brought up to date after the common columns ``changed``.

    Only rows holding a changed signed column are signed again (no other row's compared
    shingles moved); ``resigned`` (boolean) marks them.
    """
    return signed.select(*_TEXTS_NAMES).mapInArrow(
        _resign_fn(config, doc_freq, num_articles, np.asarray(changed, np.int64)),
        TEXTS_SCHEMA + ", resigned boolean",
    )


def band_rows(signed: DataFrame, config: Config, *extra: str) -> DataFrame:
    """One row per (comparable text, LSH band): ``text_key``, ``extra`` columns, band, key.

    Band ``i``'s key is bytes ``[4ri, 4r(i+1))`` of the signature: equal keys iff equal bands.
    """
    from pyspark.sql import functions as F

    bands, rows = config.lsh_params
    width = 4 * rows
    comparable = signed.where(F.col("compared") >= config.shingle.min_shingles)
    return comparable.select(
        "text_key",
        *extra,
        F.explode(F.sequence(F.lit(0), F.lit(bands - 1))).alias("band"),
        "signature",
    ).select(
        "text_key",
        *extra,
        "band",
        F.expr(f"substring(signature, band * {width} + 1, {width})").alias("key"),
    )


def candidate_pairs(
    signed: DataFrame, members: DataFrame, config: Config
) -> tuple[DataFrame, DataFrame]:
    """Article pairs that share an LSH band, with the LSH bucket-size cap.

    Returns:
        ``pairs`` (left_id < right_id, key_l, key_r: their text keys) and ``buckets`` (the
        buckets of two or more articles: band, key, size, oversized).
    """
    return bucket_pairs(band_rows(signed, config, "rep_id", "copies"), members, config)


def bucket_pairs(
    banded: DataFrame,
    members: DataFrame,
    config: Config,
    *,
    focus: DataFrame | None = None,
    done: DataFrame | None = None,
) -> tuple[DataFrame, DataFrame]:
    """The candidate pairs of banded texts (``candidate_pairs`` after banding).

    Args:
        banded: text_key, rep_id (smallest id with that text), copies, band, key. With
            ``focus``, it must hold every text of every bucket a focus article is in.
        members: id, text_key of every article of ``banded``.
        config: Run settings (bucket cap).
        focus: Ids (``id``); when given, only pairs with at least one of them are returned.
        done: Ids (``id``); pairs with one of them are left out (found earlier).

    Returns:
        ``pairs`` (left_id < right_id, key_l, key_r) and ``buckets`` (band, key, size,
        oversized: the buckets of two or more articles).
    """
    from pyspark.sql import functions as F

    cap = config.lsh.max_bucket_size
    buckets = (
        banded.groupBy("band", "key")
        .agg(
            F.sum("copies").alias("size"),
            F.min("rep_id").alias("min_id"),
        )
        .where(F.col("size") >= 2)
        .withColumn("oversized", F.col("size") > cap)
    )
    in_buckets = banded.join(buckets, ["band", "key"])
    small = in_buckets.where(~F.col("oversized"))
    left, right = small.alias("l"), small.alias("r")
    text_pairs = (
        left.join(right, ["band", "key"])
        .where(F.col("l.text_key") < F.col("r.text_key"))
        .select(F.col("l.text_key").alias("key_l"), F.col("r.text_key").alias("key_r"))
    )
    # Copies of one text share every bucket: in a small bucket they pair with each other.
    self_pairs = small.where(F.col("copies") >= 2).select(
        F.col("text_key").alias("key_l"), F.col("text_key").alias("key_r")
    )
    text_pairs = text_pairs.union(self_pairs).distinct()
    ml = members.select(F.col("id").alias("id_l"), F.col("text_key").alias("key_l"))
    mr = members.select(F.col("id").alias("id_r"), F.col("text_key").alias("key_r"))
    expanded = (
        text_pairs.join(ml, "key_l")
        .join(mr, "key_r")
        .where(F.col("id_l") != F.col("id_r"))
        .where((F.col("key_l") != F.col("key_r")) | (F.col("id_l") < F.col("id_r")))
    )
    # A bucket over the cap: its smallest id paired with each other member, no more.
    star = (
        in_buckets.where(F.col("oversized"))
        .select("text_key", "min_id")
        .distinct()
        .join(members.select("id", "text_key"), "text_key")
        .where(F.col("id") != F.col("min_id"))
        .select(F.col("min_id").alias("id_l"), F.col("id").alias("id_r"))
    )
    ordered = expanded.select(
        F.least("id_l", "id_r").alias("left_id"), F.greatest("id_l", "id_r").alias("right_id")
    ).union(star.select(F.col("id_l").alias("left_id"), F.col("id_r").alias("right_id")))
    # A join on a column moves it first: select by name again before any positional union.
    if focus is not None:
        ids = focus.select("id")
        ordered = (
            ordered.join(ids.withColumnRenamed("id", "left_id"), "left_id", "left_semi")
            .select("left_id", "right_id")
            .union(
                ordered.join(
                    ids.withColumnRenamed("id", "right_id"), "right_id", "left_semi"
                ).select("left_id", "right_id")
            )
        )
    if done is not None:
        ids = done.select("id")
        ordered = ordered.join(ids.withColumnRenamed("id", "left_id"), "left_id", "left_anti")
        ordered = ordered.join(ids.withColumnRenamed("id", "right_id"), "right_id", "left_anti")
        ordered = ordered.select("left_id", "right_id")
    keyed = (
        ordered.distinct()
        .join(
            members.select(F.col("id").alias("left_id"), F.col("text_key").alias("key_l")),
            "left_id",
        )
        .join(
            members.select(F.col("id").alias("right_id"), F.col("text_key").alias("key_r")),
            "right_id",
        )
    )
    return keyed.select("left_id", "right_id", "key_l", "key_r"), buckets


def _screen_fn(config: Config) -> ArrowFn:
    """Pairs whose MinHash-estimated containment reaches the floor (the local screen)."""
    verify = config.verify
    num_perm = config.minhash.num_perm
    floor = verify.estimate_floor * verify.containment_threshold

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            m = batch.num_rows
            signatures = np.concatenate(
                (
                    signatures_from(batch.column("l_signature"), num_perm),
                    signatures_from(batch.column("r_signature"), num_perm),
                )
            )
            sizes = np.concatenate(
                (
                    batch.column("l_compared").to_numpy(zero_copy_only=False),
                    batch.column("r_compared").to_numpy(zero_copy_only=False),
                )
            ).astype(np.int64)
            pair = np.arange(m, dtype=np.int64)
            keep = pa.array(estimated_containment(signatures, sizes, pair, pair + m) >= floor)
            yield pa.RecordBatch.from_arrays(
                [batch.column("key_l").filter(keep), batch.column("key_r").filter(keep)],
                names=["key_l", "key_r"],
            )

    return run


def _score_fn(config: Config, doc_freq: Broadcast[np.ndarray], num_articles: int) -> ArrowFn:
    verify = config.verify

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        frequencies = doc_freq.value
        for batch in batches:
            m = batch.num_rows
            features = FeatureRows.concat([features_from(batch, "l_"), features_from(batch, "r_")])
            verifier = Verifier(config=verify).fit_frequencies(features, frequencies, num_articles)
            pair = np.arange(m, dtype=np.int64)
            scores = verifier.score(pair, pair + m)
            yield pa.RecordBatch.from_arrays(
                [
                    batch.column("key_l"),
                    batch.column("key_r"),
                    pa.array(np.ones(m, np.bool_)),
                    pa.array(scores.jaccard, pa.float64()),
                    pa.array(scores.containment, pa.float64()),
                    pa.array(scores.cosine, pa.float64()),
                    pa.array(scores.shared, pa.int64()),
                ],
                names=[
                    "key_l",
                    "key_r",
                    "screened",
                    "jaccard",
                    "containment",
                    "cosine",
                    "shared",
                ],
            )

    return run


def _take(features: FeatureRows, rows: np.ndarray) -> FeatureRows:
    """The given rows of a CSR feature table, in that order."""
    lengths = np.diff(features.offsets)[rows]
    offsets = np.zeros(len(rows) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    starts = features.offsets[rows]
    index = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
    return FeatureRows(
        offsets=offsets,
        columns=features.columns[index],
        counts=features.counts[index],
        signed=features.signed[index],
    )


def score_pairs(
    key_pairs: DataFrame,
    signed: DataFrame,
    config: Config,
    doc_freq: Broadcast[np.ndarray],
    num_articles: int,
    *,
    screen: bool,
) -> DataFrame:
    """Exact scores of distinct text pairs (``key_l``, ``key_r``).

    Args:
        key_pairs: Text-key pairs to score (deduplicated here; order inside a pair is free,
            every score is symmetric).
        signed: ``sign``'s output.
        config: Run settings (verify thresholds, num_perm).
        doc_freq: Broadcast corpus document frequencies.
        num_articles: Articles in the corpus.
        screen: Score only the pairs whose MinHash-estimated containment reaches the floor,
            as the local verify stage does. The screen joins just the two signatures to each
            pair; the feature rows (about five times bigger) are joined to the pairs that pass
            only, which on news is a small share of the candidates: the largest shuffle of a
            run shrinks accordingly.

    Returns:
        One row per distinct pair scored, ``SCORES_SCHEMA`` (``screened`` is true: pairs the
        screen drops are left out).
    """
    from pyspark.sql import functions as F

    distinct = key_pairs.select(
        F.least("key_l", "key_r").alias("key_l"), F.greatest("key_l", "key_r").alias("key_r")
    ).distinct()
    if screen:
        distinct = _sides(distinct, signed, ["signature", "compared"]).mapInArrow(
            _screen_fn(config), "key_l string, key_r string"
        )
    wanted = ["columns", "counts", "signed"]
    return _sides(distinct, signed, wanted).mapInArrow(
        _score_fn(config, doc_freq, num_articles), SCORES_SCHEMA
    )


def _sides(pairs: DataFrame, signed: DataFrame, wanted: list[str]) -> DataFrame:
    """Each pair with the ``wanted`` columns of its two texts, prefixed ``l_`` and ``r_``."""
    from pyspark.sql import functions as F

    left = signed.select(
        F.col("text_key").alias("key_l"), *[F.col(c).alias("l_" + c) for c in wanted]
    )
    right = signed.select(
        F.col("text_key").alias("key_r"), *[F.col(c).alias("r_" + c) for c in wanted]
    )
    columns: list[Any] = ["key_l", "key_r"]
    columns += ["l_" + c for c in wanted] + ["r_" + c for c in wanted]
    return pairs.join(left, "key_l").join(right, "key_r").select(*columns)


__all__ = [
    "band_rows",
    "bucket_pairs",
    "candidate_pairs",
    "common_mask",
    "doc_frequencies",
    "featurize",
    "list_parts",
    "resign",
    "score_pairs",
    "sign",
]
