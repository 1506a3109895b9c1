"""``dedupe report --from-spark OUT PATHS``: attribute clusters of a ``--spark-output`` run.

Reads ``OUT/members`` (Parquet or JSON Lines parts, as ``dedupe.spark.io.write_output``
writes them) with pyarrow: no Spark is started, and only the ``id`` and ``cluster_id``
columns are read. The member texts come from ``PATHS`` through dedupe's readers, like
``dedupe report --from clusters.json``; the Spark output records no text digests, so a text
edited since the run is attributed as it is now.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from dedupe.config import Config
from dedupe.errors import DedupeError, InputError, UsageError
from dedupe.readers import read_paths
from dedupe.saved import SavedClusters
from dedupe.types import Cluster, RunResult


def read_members(output: str) -> list[tuple[str, str]]:
    """(id, cluster_id) of every row of ``output/members`` (local path or pyarrow URI).

    Raises:
        UsageError: ``output`` has no ``members`` table.
        InputError: the table has no ``id``/``cluster_id`` columns or cannot be parsed.
    """
    import pyarrow as pa
    import pyarrow.fs as pafs
    import pyarrow.json as pajson
    import pyarrow.parquet as pq

    folder = output.rstrip("/") + "/members"
    try:
        fs, base = pafs.FileSystem.from_uri(folder)
    except (pa.ArrowInvalid, ValueError):
        fs, base = pafs.LocalFileSystem(), folder
    info = fs.get_file_info(base)
    if info.type != pafs.FileType.Directory:
        raise UsageError(f"{folder}: no such directory; give a --spark-output directory")
    parts = sorted(
        entry.path
        for entry in fs.get_file_info(pafs.FileSelector(base))
        if entry.type == pafs.FileType.File and entry.base_name.startswith("part-")
    )
    tables: list[Any] = []
    try:
        for part in parts:
            if part.endswith(".parquet"):
                tables.append(pq.read_table(part, columns=["id", "cluster_id"], filesystem=fs))
            elif ".json" in part:
                with fs.open_input_stream(part) as stream:
                    table = pajson.read_json(stream)
                tables.append(table.select(["id", "cluster_id"]))
    except (pa.ArrowInvalid, KeyError) as exc:
        raise InputError(f"{folder}: not a dedupe members table ({exc})") from None
    rows: list[tuple[str, str]] = []
    for table in tables:
        rows += zip(
            (str(v) for v in table.column("id").to_pylist()),
            (str(v) for v in table.column("cluster_id").to_pylist()),
            strict=True,
        )
    return rows


def load_spark_clusters(
    output: str, paths: Sequence[str], config: Config, cluster_ids: Sequence[str] = ()
) -> SavedClusters:
    """The clusters of a ``--spark-output`` directory, with their member articles read again.

    Args:
        output: The ``--spark-output`` directory.
        paths: The inputs of that run (or where they are now).
        config: Settings for reading (``readers``).
        cluster_ids: Only these clusters (all when empty); the others' articles need not be
            in ``paths``.

    Raises:
        UsageError: no paths, no members table, or a requested cluster id is not in it.
        InputError: a member of a wanted cluster is missing from ``paths``.
    """
    if not paths:
        raise UsageError(
            f"the Spark output does not record its inputs; give the input paths: "
            f"dedupe report --from-spark {output} PATHS..."
        )
    grouped: dict[str, list[str]] = defaultdict(list)
    for article_id, cluster_id in read_members(output):
        grouped[cluster_id].append(article_id)
    wanted = set(cluster_ids)
    unknown = wanted - set(grouped)
    if unknown:
        raise UsageError(
            f"no cluster {', '.join(sorted(unknown))} in {output} ({len(grouped)} clusters)"
        )
    loaded = read_paths(paths, config.readers)
    by_id = {a.id for a in loaded.articles}
    clusters = []
    for cluster_id, members in grouped.items():
        if wanted and cluster_id not in wanted:
            continue
        missing = sorted(set(members) - by_id)
        if missing:
            raise InputError(
                f"article {missing[0]!r} of cluster {cluster_id} is not in "
                f"{', '.join(paths)}; give the paths the Spark run read"
            )
        ids = tuple(sorted(members))
        clusters.append(Cluster(id=cluster_id, article_ids=ids, members=(), pairs=()))
    # The cluster report's order: biggest first, then by smallest member id.
    clusters.sort(key=lambda c: (-len(c.article_ids), c.article_ids[0]))
    if not clusters and not loaded.articles:
        raise DedupeError(f"no usable articles in {', '.join(paths)}")
    result = RunResult(
        config_digest=config.digest(),
        articles=tuple(sorted(loaded.articles, key=lambda a: a.id)),
        rejects=loaded.rejects,
        clusters=tuple(clusters),
        pairs=(),
        stages=(),
    )
    return SavedClusters(result=result, warnings=tuple(loaded.warnings))
