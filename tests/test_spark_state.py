"""What the Spark features do without Spark: state settings, pruning, re-signing, --from-spark.

The end-to-end runs (state + batch equal one full run) are in ``tests/test_spark.py``.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from dedupe import cluster_articles, read_paths
from dedupe.cli import main
from dedupe.config import Config, build_config
from dedupe.errors import ConfigError, UsageError
from dedupe.spark.state import (
    changed_common,
    check_params,
    prune_cutoff,
    sibling,
    state_params,
)
from tests.conftest import REPO

EXAMPLES = REPO / "examples" / "news.jsonl"


def test_state_params_are_the_index_settings_with_spark_band_keys() -> None:
    params = state_params(Config())
    assert params["shingle.size"] == Config().shingle.size
    assert params["band_keys"] == "minhash-bytes-v1"
    check_params(params, Config(), "state s")
    # Retention and thresholds may change between runs: they are applied at run time.
    check_params(params, build_config({"backend": {"spark_state_days": 3}}), "state s")
    check_params(params, build_config({"verify": {"max_df": 0.05}}), "state s")


def test_state_of_other_settings_names_the_key() -> None:
    stored = state_params(build_config({"shingle": {"size": 4}}))
    with pytest.raises(UsageError, match=r"state s was built with shingle\.size=4, this run has 3"):
        check_params(stored, Config(), "state s")
    with pytest.raises(UsageError, match=r"band_keys='splitmix64-v1'"):
        check_params({**stored, "shingle.size": 3, "band_keys": "splitmix64-v1"}, Config(), "s")


def test_prune_cutoff_counts_back_from_the_newest_published_time() -> None:
    day = 86_400.0
    assert prune_cutoff(100 * day, 500 * day, 30) == 70 * day
    # Without any published time, from when the newest article entered the state.
    assert prune_cutoff(None, 500 * day, 2.5) == 497.5 * day
    assert prune_cutoff(None, None, 30) is None


def test_changed_common_columns_are_the_ones_to_sign_again() -> None:
    doc_freq = np.array([0, 150, 120, 99, 5])
    common = doc_freq > 100
    assert changed_common(np.array([1, 3]), doc_freq, common).tolist() == [2, 3]
    assert changed_common(np.array([1, 2]), doc_freq, common).tolist() == []


def test_state_siblings_share_the_parent() -> None:
    assert sibling("s3a://bucket/state/", ".tmp") == "s3a://bucket/state.tmp"
    assert sibling("/data/state", ".old") == "/data/state.old"


def test_spark_state_days_is_range_checked() -> None:
    assert Config().backend.spark_state_days == 30
    with pytest.raises(ConfigError, match=r"backend\.spark_state_days: -1"):
        build_config({"backend": {"spark_state_days": -1}})


def test_spark_state_needs_spark_output(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["cluster", str(EXAMPLES), "--engine", "spark", "--spark-state", "/nonexistent/s"])
    assert code == 2
    assert "--spark-state needs --spark-output" in capsys.readouterr().err


def _members_table(tmp_path: Path, as_json: bool) -> Path:
    """A --spark-output members/ table of the examples, as write_output lays it out."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    result = cluster_articles(read_paths([EXAMPLES]).articles)
    rows = [(m.article_id, c.id) for c in result.clusters for m in c.members]
    out = tmp_path / ("out.jsonl" if as_json else "out")
    (out / "members").mkdir(parents=True)
    half = len(rows) // 2
    for number, chunk in enumerate((rows[:half], rows[half:])):
        if as_json:
            lines = [json.dumps({"id": i, "cluster_id": c, "cluster_size": 2}) for i, c in chunk]
            (out / "members" / f"part-{number:05d}.json").write_text("\n".join(lines) + "\n")
        else:
            table = pa.table({"id": [i for i, _ in chunk], "cluster_id": [c for _, c in chunk]})
            pq.write_table(table, out / "members" / f"part-{number:05d}.snappy.parquet")
    (out / "members" / "_SUCCESS").write_text("")
    return out


@pytest.mark.parametrize("as_json", [False, True])
def test_report_from_spark_output_equals_direct_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], as_json: bool
) -> None:
    pytest.importorskip("pyarrow")
    out = _members_table(tmp_path, as_json)
    wanted = cluster_articles(read_paths([EXAMPLES]).articles).clusters[1].id
    argv = ["report", "--from-spark", str(out), str(EXAMPLES), "--format", "json", "-q"]
    assert main(argv) == 0
    from_spark = json.loads(capsys.readouterr().out)["clusters"]
    assert main(["report", str(EXAMPLES), "--format", "json", "-q"]) == 0
    assert from_spark == json.loads(capsys.readouterr().out)["clusters"]
    assert main([*argv, "--cluster", wanted]) == 0
    assert [c["id"] for c in json.loads(capsys.readouterr().out)["clusters"]] == [wanted]


def test_report_from_spark_needs_paths_and_known_clusters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("pyarrow")
    out = _members_table(tmp_path, as_json=False)
    assert main(["report", "--from-spark", str(out)]) == 2
    assert "give the input paths" in capsys.readouterr().err
    assert main(["report", "--from-spark", str(out), str(EXAMPLES), "--cluster", "cnope"]) == 2
    assert "no cluster cnope" in capsys.readouterr().err
    assert main(["report", "--from-spark", str(tmp_path / "none"), str(EXAMPLES)]) == 2
    other = tmp_path / "other.jsonl"
    other.write_text(Path(EXAMPLES).read_text(encoding="utf-8").splitlines()[0] + "\n")
    assert main(["report", "--from-spark", str(out), str(other)]) == 1
    assert "is not in" in capsys.readouterr().err
