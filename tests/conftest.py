"""Shared fixtures: an article factory, seeded pseudo-text, a small fast config."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from dedupe import Article
from dedupe.config import Config, build_config

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SEEDS = SHARED / "seeds"

_SYLLABLES = [a + b for a in "bcdfgjklmnprstwz" for b in ("a", "e", "i", "o", "u", "ai", "ang")]


def pseudo_sentences(seed: int, count: int, words: tuple[int, int] = (10, 22)) -> list[str]:
    """Sentences of made-up words: unrelated seeds share (almost) no 3-word run."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        length = rng.randint(*words)
        tokens = ["".join(rng.choices(_SYLLABLES, k=rng.randint(2, 3))) for _ in range(length)]
        out.append(" ".join(tokens).capitalize() + ".")
    return out


def paragraphs(sentences: list[str], per: int = 3) -> str:
    return "\n\n".join(" ".join(sentences[i : i + per]) for i in range(0, len(sentences), per))


@pytest.fixture
def make_article() -> Callable[..., Article]:
    def make(article_id: str, text: str, **fields: object) -> Article:
        published = fields.pop("published", None)
        if isinstance(published, str):
            published = datetime.fromisoformat(published)
        return Article(id=article_id, text=text, published=published, **fields)  # type: ignore[arg-type]

    return make


@pytest.fixture
def small_config() -> Config:
    return build_config({"minhash": {"num_perm": 128}})


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One local[2] SparkSession for the Spark tests: loopback only, the venv's Python."""
    import os
    import shutil
    import sys

    pytest.importorskip("pyspark")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Spark needs Java 17+ (.ci/run installs openjdk-17-jre-headless)")
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("dedupe-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "2g")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.local.dir", str(tmp_path_factory.mktemp("spark-local")))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
