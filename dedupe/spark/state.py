"""The persisted state of incremental Spark runs (``--spark-state PATH``).

A daily crawl is checked against the last N days without featurizing or signing them again:
the state keeps what the pipeline computed for them. ``PATH`` (a local path or Hadoop URL)
holds Parquet tables and one JSON record:

- ``articles``: id, text_key (SHA-256 of the text), published_ts, entered_ts (when the
  article entered the state, seconds since the epoch; it ages undated articles), component
  (a label shared by the articles that verified pairs connected when they were last
  clustered: a shortcut for the next run's expansion, see ``dedupe.spark.incremental``;
  states written before it existed read as one label per article);
- ``texts``: one row per distinct text, what ``score_pairs`` reads (``stages.TEXTS_SCHEMA``:
  features, compared shingles, MinHash signature) with rep_id and copies over the state;
- ``bands``: one row per (comparable text, LSH band): text_key, band, key. Copies of a text
  share its rows, as they share its buckets in a batch run;
- ``frequencies``: column, df (document frequency over the state's articles, copies counted)
  and ``common``: whether the column counted as common when the stored signatures were made;
- ``meta.json``: format, version, the build settings (``state_params``), article count.

Document frequencies follow the pre-filter index (``dedupe.index.core``): a batch is scored
with those of the state plus its own. Common columns depend on them, and a text's signature on
its non-common columns, so the texts holding a column whose common status changed are signed
again from their stored features (no text is tokenized again). How many depends on how far
the counts moved: a batch as big as the state moves thousands of columns across the
``verify.max_df`` line and nearly every stored text is signed again.

A new state is written next to the old one (``PATH.tmp``) and swapped in only when complete;
during the swap the old one is ``PATH.old``, which a later run takes back if the swap was cut
short. A run that fails leaves the old state as it was.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dedupe import __version__
from dedupe.config import Config
from dedupe.errors import DedupeError, UsageError
from dedupe.index.core import index_params

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

STATE_FORMAT = "dedupe-spark-state"
STATE_VERSION = 1
# Spark band keys are signature bytes (``stages.band_rows``), not the index's hashed keys.
BAND_KEYS = "minhash-bytes-v1"
TABLES = ("articles", "texts", "bands", "frequencies")
META = "meta.json"


def state_params(config: Config) -> dict[str, Any]:
    """Settings a state is built with: the index's, which fix features, signatures and bands."""
    return {**index_params(config), "band_keys": BAND_KEYS}


def check_params(stored: Mapping[str, Any], config: Config, where: str) -> None:
    """Refuse a state built with other settings than ``config``'s.

    Raises:
        UsageError: naming the first differing key, the stored value and the current one.
    """
    current = state_params(config)
    for key in sorted(set(stored) | set(current)):
        if stored.get(key) != current.get(key):
            raise UsageError(
                f"{where} was built with {key}={stored.get(key)!r}, this run has "
                f"{current.get(key)!r}; use the settings it was built with or a new state path"
            )


def prune_cutoff(
    newest_published: float | None, newest_entered: float | None, days: float
) -> float | None:
    """Oldest time an article may have to stay in the state; None when the state is empty.

    Counted back from the newest published time in the state, not from the clock, so that
    replaying an old crawl keeps the days around it; a state of undated articles only counts
    back from when the newest of them entered.
    """
    newest = newest_published if newest_published is not None else newest_entered
    if newest is None or math.isnan(newest):
        return None
    return newest - days * 86_400.0


def changed_common(stored_common: np.ndarray, doc_freq: np.ndarray, common: np.ndarray) -> Any:
    """Columns whose common status differs from the one the stored signatures were made with.

    Args:
        stored_common: Column ids common when the state was signed.
        doc_freq: Current document frequencies (its length is the column space).
        common: Current common mask over the column space.
    """
    before = np.zeros(len(doc_freq), np.bool_)
    before[np.asarray(stored_common, np.int64)] = True
    return np.flatnonzero(before != common)


def sibling(path: str, suffix: str) -> str:
    """``path`` with ``suffix`` on its last component (same parent, so a rename swaps it)."""
    return path.rstrip("/") + suffix


@dataclass
class State:
    """A state read from disk (tables lazily, frequencies on the driver)."""

    path: str
    meta: dict[str, Any]
    articles: DataFrame
    texts: DataFrame
    bands: DataFrame
    doc_freq: np.ndarray
    common: np.ndarray
    num_articles: int


@dataclass
class NextState:
    """What the next state will hold (tables lazily, frequencies on the driver)."""

    articles: DataFrame
    texts: DataFrame
    bands: DataFrame
    doc_freq: np.ndarray
    common: np.ndarray
    num_articles: int
    pruned: int
    cutoff_ts: float | None


def _fs(spark: SparkSession, path: str) -> tuple[Any, Any]:
    """The Hadoop FileSystem of ``path`` and its Path: renames and deletes on any URL."""
    context = spark.sparkContext
    jvm = context._jvm
    assert jvm is not None
    target = jvm.org.apache.hadoop.fs.Path(path)
    return target.getFileSystem(context._jsc.hadoopConfiguration()), target


def _exists(spark: SparkSession, path: str) -> bool:
    fs, target = _fs(spark, path)
    return bool(fs.exists(target))


def _delete(spark: SparkSession, path: str) -> None:
    fs, target = _fs(spark, path)
    if fs.exists(target):
        fs.delete(target, True)


def _rename(spark: SparkSession, source: str, destination: str) -> None:
    fs, src = _fs(spark, source)
    _, dst = _fs(spark, destination)
    if not fs.rename(src, dst):
        raise DedupeError(f"cannot rename {source} to {destination}")


def read_state(spark: SparkSession, path: str, config: Config) -> State | None:
    """The state at ``path``, or None when there is none yet (the first run).

    Raises:
        UsageError: ``path`` holds something else, another format version, or a state built
            with other settings.
    """
    old = sibling(path, ".old")
    if not _exists(spark, path):
        if not _exists(spark, old):
            return None
        # A swap was cut short between its two renames: the previous state is complete.
        _rename(spark, old, path)
    fs, target = _fs(spark, path)
    if not _exists(spark, f"{path.rstrip('/')}/{META}"):
        if len(fs.listStatus(target)) == 0:
            return None
        raise UsageError(f"{path}: not a dedupe Spark state (no {META}); refusing to use it")
    raw = spark.read.text(f"{path.rstrip('/')}/{META}", wholetext=True).collect()[0][0]
    meta = json.loads(raw)
    if meta.get("format") != STATE_FORMAT or meta.get("version") != STATE_VERSION:
        raise UsageError(
            f"{path}: state format {meta.get('format')!r} version {meta.get('version')!r}; "
            f"this dedupe reads {STATE_FORMAT!r} version {STATE_VERSION}"
        )
    check_params(meta["params"], config, f"state {path}")
    base = path.rstrip("/")
    frequencies: Any = spark.read.parquet(f"{base}/frequencies").toPandas()
    doc_freq = np.zeros(1 << config.verify.hash_bits, np.int64)
    columns = frequencies["column"].to_numpy(np.int64)
    doc_freq[columns] = frequencies["df"].to_numpy(np.int64)
    common = columns[frequencies["common"].to_numpy(np.bool_)]
    articles = spark.read.parquet(f"{base}/articles")
    if "component" not in articles.columns:
        from pyspark.sql import functions as F

        articles = articles.withColumn("component", F.col("id"))
    return State(
        path=path,
        meta=meta,
        articles=articles,
        texts=spark.read.parquet(f"{base}/texts"),
        bands=spark.read.parquet(f"{base}/bands"),
        doc_freq=doc_freq,
        common=np.sort(common),
        num_articles=int(meta["num_articles"]),
    )


def write_state(spark: SparkSession, path: str, state: NextState, config: Config) -> None:
    """Write ``state`` to ``PATH.tmp``, then swap it in for ``path``.

    The metadata is written last: a temporary directory without it is incomplete and is
    never swapped in (and is cleared by the next run).
    """
    import pandas as pd

    base = path.rstrip("/")
    tmp, old = sibling(base, ".tmp"), sibling(base, ".old")
    _delete(spark, tmp)
    state.articles.write.parquet(f"{tmp}/articles")
    state.texts.write.parquet(f"{tmp}/texts")
    state.bands.write.parquet(f"{tmp}/bands")
    common = np.zeros(len(state.doc_freq), np.bool_)
    common[state.common] = True
    kept = np.flatnonzero((state.doc_freq > 0) | common)
    frequencies = pd.DataFrame(
        {
            "column": kept.astype(np.int32),
            "df": state.doc_freq[kept].astype(np.int64),
            "common": common[kept],
        }
    )
    spark.createDataFrame(frequencies, "column int, df long, common boolean").coalesce(
        1
    ).write.parquet(f"{tmp}/frequencies")
    meta = {
        "format": STATE_FORMAT,
        "version": STATE_VERSION,
        "params": state_params(config),
        "num_articles": state.num_articles,
        "cutoff_ts": state.cutoff_ts,
        "days": config.backend.spark_state_days,
        "written_at": time.time(),
        "written_by": f"dedupe {__version__}",
    }
    fs, meta_path = _fs(spark, f"{tmp}/{META}")
    stream = fs.create(meta_path, True)
    try:
        stream.write(bytearray(json.dumps(meta, sort_keys=True, indent=2).encode("utf-8")))
    finally:
        stream.close()
    _delete(spark, old)
    if _exists(spark, base):
        _rename(spark, base, old)
    _rename(spark, tmp, base)
    _delete(spark, old)
