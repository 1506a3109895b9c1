"""The bundled corpus (what `make demo` shows) must give its written-down grouping exactly."""

import json
import subprocess
import sys

from dedupe import cluster_articles, read_paths
from tests.conftest import REPO

EXAMPLES = REPO / "examples"


def test_examples_give_the_expected_grouping_exactly() -> None:
    expected = json.loads((EXAMPLES / "expected.json").read_text(encoding="utf-8"))
    loaded = read_paths([EXAMPLES / "news.jsonl"])
    assert not loaded.rejects
    result = cluster_articles(loaded.articles)
    assert sorted(list(c.article_ids) for c in result.clusters) == sorted(expected["clusters"])
    clustered = {i for c in result.clusters for i in c.article_ids}
    assert clustered.isdisjoint(expected["singletons"])
    assert len(clustered) + len(expected["singletons"]) == len(loaded.articles)


def test_demo_command_runs_as_a_user_would() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dedupe", "cluster", str(EXAMPLES / "news.jsonl")],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    assert "Summary: 34 articles read, 0 rejected, 23 clustered in 5 clusters" in done.stdout
