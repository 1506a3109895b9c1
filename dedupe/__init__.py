"""dedupe: find syndicated and near-duplicate news articles, in any language.

Example:
    >>> import dedupe
    >>> loaded = dedupe.read_paths(["examples/news.jsonl"])  # doctest: +SKIP
    >>> result = dedupe.cluster_articles(loaded.articles)  # doctest: +SKIP
"""

__version__ = "0.1.0"

from dedupe.config import Config, load_config
from dedupe.errors import ConfigError, DedupeError, InputError, UsageError
from dedupe.index import Index, Verdict, open_index
from dedupe.pipeline import cluster_articles
from dedupe.readers import ReadResult, read_paths
from dedupe.types import Article, Cluster, ClusterMember, PairScore, Reject, RunResult, StageStats

__all__ = [
    "Article",
    "Cluster",
    "ClusterMember",
    "Config",
    "ConfigError",
    "DedupeError",
    "Index",
    "InputError",
    "PairScore",
    "ReadResult",
    "Reject",
    "RunResult",
    "StageStats",
    "UsageError",
    "Verdict",
    "__version__",
    "cluster_articles",
    "load_config",
    "open_index",
    "read_paths",
]
