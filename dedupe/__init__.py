"""dedupe: find syndicated and near-duplicate news articles, in any language.

Example:
    >>> import dedupe
    >>> loaded = dedupe.read_paths(["examples/news.jsonl"])  # doctest: +SKIP
    >>> result = dedupe.cluster_articles(loaded.articles)  # doctest: +SKIP
"""

from dedupe.config import Config, load_config
from dedupe.errors import ConfigError, DedupeError, InputError, UsageError
from dedupe.pipeline import cluster_articles
from dedupe.readers import ReadResult, read_paths
from dedupe.types import Article, Cluster, ClusterMember, PairScore, Reject, RunResult, StageStats

__version__ = "0.1.0"

__all__ = [
    "Article",
    "Cluster",
    "ClusterMember",
    "Config",
    "ConfigError",
    "DedupeError",
    "InputError",
    "PairScore",
    "ReadResult",
    "Reject",
    "RunResult",
    "StageStats",
    "UsageError",
    "__version__",
    "cluster_articles",
    "load_config",
    "read_paths",
]
