"""One local Spark session for the whole test session (import the ``spark`` fixture).

Test modules that need Spark do ``from test.spark_conftest import spark``; the
session is created once per test process (``local[2]``, few shuffle partitions, the
test environment's Python on the workers) and stopped at the end. Without PySpark or
Java the tests are skipped with the reason.
"""

import functools
import os
import pathlib
import shutil
import sys

import pytest


@functools.cache
def _session():
    pytest.importorskip(
        "pyspark", reason='PySpark is not installed (pip install "slicing[spark]")'
    )
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java runtime for a local Spark session (needs Java 17 or 21)")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    # Workers find test.spark_daemon (below) from the repository root.
    root = str(pathlib.Path(__file__).resolve().parents[1])
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [root, os.environ.get("PYTHONPATH")])
    )
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("slicing-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        # Forked workers start with slicing imported (see test/spark_daemon.py).
        .config("spark.python.daemon.module", "test.spark_daemon")
        # Failing SFs are expected in the tests: no retries, no executor log dump.
        .config("spark.task.maxFailures", "1")
        .config("spark.driver.extraJavaOptions", "-Dlog4j.rootLogger=OFF")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("OFF")
    return session


@pytest.fixture(scope="session")
def spark():
    session = _session()
    yield session
    session.stop()
    _session.cache_clear()
