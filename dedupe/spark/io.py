"""Spark input and output: articles from Parquet/JSONL (any Hadoop URL), results to files.

Input columns are found with the ``readers`` field names (dots reach into nested structs, as
in the local readers). A path whose name contains ``.parquet`` is read as Parquet, anything
else as JSON Lines (Spark's ``read.json``: one object per line, ``.gz`` too). Records without
an id or a text are left out and counted; ``published`` is parsed with the local readers'
``parse_published`` (ISO 8601; a bad value leaves the article undated).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from dedupe.config import ReadersConfig
from dedupe.readers.records import parse_published
from dedupe.types import Article

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

    from dedupe.spark.engine import SparkRun


def _timestamp(value: object) -> float:
    if not isinstance(value, str) or not value.strip():
        return math.nan
    try:
        return parse_published(value).timestamp()
    except ValueError:
        return math.nan


def _published(frame: DataFrame, field: str) -> Column:
    from pyspark.sql import functions as F
    from pyspark.sql.types import DateType, StringType, TimestampType

    try:
        kind = frame.select(F.col(field)).schema.fields[0].dataType
    except Exception:  # the field is absent: every article is undated
        return F.lit(None).cast("double")
    if isinstance(kind, TimestampType | DateType):
        return F.unix_micros(F.col(field).cast("timestamp")) / 1e6
    if not isinstance(kind, StringType):
        return F.lit(None).cast("double")

    @F.pandas_udf("double")  # type: ignore[attr-defined, untyped-decorator]
    def parse(values: pd.Series) -> pd.Series:
        return values.map(_timestamp).astype("float64")

    parsed = parse(F.col(field))
    return F.when(F.isnan(parsed), F.lit(None)).otherwise(parsed)


def read_articles(
    spark: SparkSession, paths: Sequence[str], readers: ReadersConfig
) -> tuple[DataFrame, int]:
    """Articles ``(id, text, published_ts)`` from Parquet or JSON Lines paths.

    Returns:
        The articles and how many input records were left out (no id or no text).
    """
    from pyspark.sql import functions as F

    frames = []
    for path in paths:
        reader = spark.read.parquet if ".parquet" in path.lower() else spark.read.json
        frame = reader(path)
        frames.append(
            frame.select(
                F.col(readers.id_field).cast("string").alias("id"),
                F.col(readers.text_field).cast("string").alias("text"),
                _published(frame, readers.published_field).alias("published_ts"),
            )
        )
    union = frames[0]
    for frame in frames[1:]:
        union = union.unionByName(frame)
    total = union.count()
    kept = union.where(F.col("id").isNotNull() & (F.col("id") != "") & F.col("text").isNotNull())
    return kept, total - kept.count()


def articles_frame(spark: SparkSession, articles: Sequence[Article]) -> DataFrame:
    """A DataFrame of in-memory articles (Arrow transfer), for modest corpora and tests."""
    frame = pd.DataFrame(
        {
            "id": [a.id for a in articles],
            "text": [a.text for a in articles],
            "published_ts": [
                a.published.timestamp() if a.published else math.nan for a in articles
            ],
        }
    )
    from pyspark.sql import functions as F

    created = spark.createDataFrame(frame, "id string, text string, published_ts double")
    return created.withColumn(
        "published_ts",
        F.when(F.isnan("published_ts"), F.lit(None)).otherwise(F.col("published_ts")),
    )


def write_output(run: SparkRun, path: str) -> None:
    """Write ``members`` and ``pairs`` under ``path`` (JSON Lines if it ends in .jsonl/.json).

    ``PATH/members``: id, cluster_id, origin_id, cluster_size, best_match_id, containment,
    jaccard, cosine, mean_containment, verified_links. ``PATH/pairs``: left_id, right_id,
    jaccard, containment, cosine, shared (verified pairs). Existing output is replaced.
    """
    as_json = path.rstrip("/").lower().endswith((".jsonl", ".json"))
    for name, frame in (("members", run.members), ("pairs", run.pairs)):
        writer = frame.orderBy(*frame.columns[:2]).write.mode("overwrite")
        target = f"{path.rstrip('/')}/{name}"
        if as_json:
            writer.json(target)
        else:
            writer.parquet(target)
