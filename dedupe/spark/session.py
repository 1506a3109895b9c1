"""Finding or starting the SparkSession the engine runs in.

A job started by ``spark-submit``, a Databricks notebook or an EMR step already has a session;
it is used as it is, so the cluster's settings (executors, memory, shuffle partitions) apply.
Otherwise a session starts on ``backend.spark_master`` (``local[*]``: every core of this
machine). pyspark is imported here, when the engine is created, never when ``dedupe`` is.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import TYPE_CHECKING

from dedupe.errors import DedupeError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

EXTRA_HINT = "pip install 'dedupe[spark]'"


def require_spark() -> None:
    """Fail early, naming the extra, when pyspark or pyarrow is not installed.

    Raises:
        DedupeError: a package of the ``spark`` extra is missing.
    """
    missing = [m for m in ("pyspark", "pyarrow", "pandas") if importlib.util.find_spec(m) is None]
    if missing:
        raise DedupeError(
            f"--engine spark needs {', '.join(missing)}: install the extra with {EXTRA_HINT}"
        )


def get_session(master: str = "local[*]", app_name: str = "dedupe") -> SparkSession:
    """The active SparkSession, or a new one on ``master``.

    Args:
        master: Spark master URL for a new session (ignored when one is active).
        app_name: Application name shown in the Spark UI.

    Returns:
        A SparkSession.

    Raises:
        DedupeError: pyspark is missing, or Spark (Java) cannot start.
    """
    require_spark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    # Executors' Python must be the one that has dedupe installed (a venv, not the system's).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    try:
        return (
            SparkSession.builder.master(master)
            .appName(app_name)
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            # Spark's own progress bars redraw over dedupe's stderr lines (and ignore -q).
            .config("spark.ui.showConsoleProgress", "false")
            # In local mode the driver JVM is also the executor; Spark's 1 GiB default is too
            # small for the shuffles of 100k articles. spark-defaults.conf still overrides.
            .config("spark.driver.memory", os.environ.get("DEDUPE_SPARK_DRIVER_MEMORY", "4g"))
            .getOrCreate()
        )
    except Exception as exc:  # py4j/Java start-up failures have many types
        raise DedupeError(
            f"cannot start Spark on {master!r} ({type(exc).__name__}: {exc}); Spark needs "
            "Java 17 or newer on PATH or JAVA_HOME"
        ) from exc
