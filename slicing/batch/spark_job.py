"""The Spark engine of ``slicing apply``: the same partition tasks, run by Spark.

The batch job (:func:`slicing.batch.job.run_apply_job`) cuts its input into partitions
and builds one task per partition that reads it, slices it with the frame kernel and
writes ``part.NNNNN.parquet`` plus its stats atomically into the staging directory.
With ``engine="spark"`` those very tasks run as Spark tasks, one per partition
(``spark.range(n, numPartitions=n).mapInArrow(...)``), so the output layout, the
manifest, the summary, the lock, the atomic commit and ``--resume`` are the Dask
engine's, unchanged. Only the DataFrame API is used: a ``sc://`` master (Spark
Connect) works as well as ``local[N]`` or a cluster URL. As with a Dask cluster, the
executors must see the input and the output directory at the same paths.
"""

import json
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

from slicing._spark import map_in_arrow, require_pyspark
from slicing.apply.spark_errors import SF_ERRORS, spark_sf_errors
from slicing.batch.errors import (
    BatchInputError,
    BatchOutputError,
    InputFileError,
    OutputInUseError,
)

__all__ = ["compute_on_spark", "spark_master_url"]

#: Exceptions a partition task may raise, rebuilt on the driver from the Spark error.
TASK_ERRORS = (
    *SF_ERRORS,
    InputFileError,
    OutputInUseError,
    BatchInputError,
    BatchOutputError,
)


def spark_master_url(master: str | None, workers: int | None) -> str:
    """The Spark master to use: ``master`` if given, else ``local[workers]``.

    Examples
    --------
    >>> spark_master_url(None, 2), spark_master_url("spark://head:7077", 2)
    ('local[2]', 'spark://head:7077')
    """
    if master:
        return master
    return f"local[{workers or os.cpu_count() or 1}]"


class _RunTasks:
    """The ``mapInArrow`` function: run task ``i`` for each id ``i`` of its batch.

    Each task is a Dask delayed object, computed here with Dask's synchronous
    scheduler; its result (a JSON-able dict of partition stats) goes back as JSON.
    """

    def __init__(self, tasks: Sequence[Any]) -> None:
        self.tasks = list(tasks)

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            positions = batch.column(0).to_pylist()
            results = [
                json.dumps(self.tasks[position].compute(scheduler="sync"))
                for position in positions
            ]
            yield pa.RecordBatch.from_arrays(
                [pa.array(positions, pa.int64()), pa.array(results, pa.string())],
                names=["position", "result"],
            )


@contextmanager
def _stderr_to(descriptor: int) -> Iterator[None]:
    """Point file descriptor 2 at ``descriptor`` (processes started meanwhile keep it)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        os.dup2(descriptor, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def _session(master: str) -> tuple[Any, str | None]:
    """The active Spark session, or a new one for ``master``; and, for a new local
    session, the file its JVM logs to (``None`` for a session this job did not start).
    """
    try:
        require_pyspark("slicing apply --engine spark")
    except ImportError as error:
        raise BatchInputError(str(error)) from error
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active, None
    if master.startswith("sc://"):
        return SparkSession.builder.remote(master).getOrCreate(), ""
    # Workers run this Python (and its packages) unless told otherwise.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    log = tempfile.NamedTemporaryFile(
        "w", prefix="slicing-spark-", suffix=".log", delete=False
    )
    try:
        # The JVM and its Python workers inherit stderr: point it at a log file while
        # the JVM starts, so that a failing SF is reported once, by the command, and
        # not also as Spark's log lines and Java stack traces.
        with log, _stderr_to(log.fileno()):
            session = (
                SparkSession.builder.master(master)
                .appName("slicing apply")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.log.level", "ERROR")
                .getOrCreate()
            )
    except Exception as error:  # noqa: BLE001 - e.g. no Java, a bad master URL
        raise BatchInputError(
            f"cannot start Spark with master {master!r}: {error} (Spark's log: "
            f"{log.name})"
        ) from error
    return session, log.name


def compute_on_spark(
    tasks: Sequence[Any], master: str | None, workers: int | None
) -> list[Any]:
    """Run Dask delayed tasks as Spark tasks (one each); return their results in order.

    Parameters
    ----------
    tasks
        Delayed objects returning JSON-able values (the job's partition stats).
    master
        Spark master URL (``local[N]``, ``spark://...``, ``yarn``, ``sc://...`` for
        Spark Connect); ``None`` for ``local[workers]``. An active session in this
        process is used as it is.
    workers
        Cores of the default local master (all cores by default).

    Raises
    ------
    BatchInputError
        PySpark is missing or Spark cannot start; or a task's input error.
    SFApplicationError, SFOutputError, BatchOutputError, OSError
        Raised by a task on an executor, rebuilt from Spark's error.
    """
    if not tasks:
        return []
    spark, log = _session(spark_master_url(master, workers))
    try:
        ids = spark.range(0, len(tasks), 1, numPartitions=len(tasks))
        stats = map_in_arrow(ids, _RunTasks(tasks), "position long, result string")
        with spark_sf_errors(TASK_ERRORS):
            table = stats.toArrow()
    finally:
        if log is not None:  # a session this job started
            spark.stop()
    if log:  # Spark's log of a run that worked is of no interest
        os.unlink(log)
    results: list[Any] = [None] * len(tasks)
    for position, result in zip(
        table.column("position").to_pylist(), table.column("result").to_pylist()
    ):
        results[position] = json.loads(result)
    return results
