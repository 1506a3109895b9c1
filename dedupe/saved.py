"""A saved cluster report (``dedupe cluster --format json``) -> a ``RunResult`` to attribute.

The JSON holds ids and digests, not article texts (a million-article report would carry the
whole corpus). The texts are read again from the report's ``inputs`` (or from paths the user
gives, when the files moved), and each member's text must have the SHA-256 recorded at
clustering time, so a report is never built from articles that changed since.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dedupe.config import Config
from dedupe.errors import DedupeError, InputError, UsageError
from dedupe.readers import read_paths
from dedupe.reports.attribution_json import text_digest
from dedupe.types import Cluster, Reject, RunResult

log = logging.getLogger("dedupe")


@dataclass(frozen=True, slots=True)
class SavedClusters:
    """Clusters loaded from a saved report, with their member articles read again."""

    result: RunResult
    warnings: tuple[Reject, ...]


def _load_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a dedupe cluster report (not JSON: {exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("clusters"), list):
        raise InputError(f"{path}: not a dedupe cluster report (no 'clusters' list)")
    if data.get("kind") == "attribution":
        raise InputError(
            f"{path}: this is an attribution report; --from takes the output of "
            "'dedupe cluster --format json'"
        )
    if data.get("schema_version") != 1:
        raise InputError(f"{path}: schema_version {data.get('schema_version')!r} is not 1")
    return data


def load_saved_clusters(path: Path, paths: Sequence[str], config: Config) -> SavedClusters:
    """Read a cluster report and the member articles it names.

    Args:
        path: The JSON written by ``dedupe cluster --format json``.
        paths: Where the inputs are now; empty to use the report's ``inputs``.
        config: Settings for reading (``readers``); attribution settings apply later.

    Raises:
        UsageError: the report file is missing, or it was made from standard input and no
            paths are given.
        InputError: the report is malformed, a member is missing from the inputs, or a
            member's text changed since clustering.
    """
    data = _load_json(path)
    if not paths:
        paths = [str(p) for p in data.get("inputs") or []]
        if not paths:
            raise UsageError(
                f"{path} does not record its inputs; give the input paths: "
                f"dedupe report --from {path} PATHS..."
            )
        if "-" in paths:
            raise UsageError(
                f"{path} was made from standard input; give the same articles as files: "
                f"dedupe report --from {path} PATHS..."
            )
    if data.get("config_digest") not in (None, config.digest()):
        log.warning(
            "%s was clustered with other normalize/shingle/minhash settings; the clusters are "
            "used as they are",
            path,
        )
    loaded = read_paths(paths, config.readers)
    by_id = {a.id: a for a in loaded.articles}
    clusters = []
    for number, entry in enumerate(data["clusters"], start=1):
        try:
            cluster_id = str(entry["id"])
            members = [(str(m["id"]), m.get("text_sha256")) for m in entry["members"]]
        except (KeyError, TypeError):
            raise InputError(f"{path}: cluster {number} has no id or members") from None
        for article_id, digest in members:
            article = by_id.get(article_id)
            if article is None:
                raise InputError(
                    f"{path}: article {article_id!r} of cluster {cluster_id} is not in "
                    f"{', '.join(paths)}; give the paths the report was made from"
                )
            if digest is not None and digest != text_digest(article.text):
                raise InputError(
                    f"{article.source}: the text of {article_id!r} changed since {path} was "
                    "made; cluster again"
                )
        ids = tuple(sorted(a for a, _ in members))
        clusters.append(Cluster(id=cluster_id, article_ids=ids, members=(), pairs=()))
    if not clusters and not loaded.articles:
        raise DedupeError(f"no usable articles in {', '.join(paths)}")
    result = RunResult(
        config_digest=str(data.get("config_digest", "")),
        articles=tuple(sorted(loaded.articles, key=lambda a: a.id)),
        rejects=loaded.rejects,
        clusters=tuple(clusters),
        pairs=(),
        stages=(),
    )
    return SavedClusters(result=result, warnings=tuple(loaded.warnings))
