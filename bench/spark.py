"""Benchmark: applying SFs on Spark, ours against snorkel's SparkSFApplier, side by side.

Workload (issue 15): N rows (1,000,000 by default) x 10 SFs, the apply benchmark's
(``bench/apply.py``: five substring SFs on a short text, five thresholds on a float),
stored as Parquet and read by one local Spark session (``local[2]``). Contenders, all
on that session:

- snorkel.slicing 0.10.0 ``SparkSFApplier`` (snorkel's ``SparkLFApplier``: an RDD
  ``map`` over ``Row`` objects with ``zipWithIndex``, every row's output collected);
- our ``SparkSFApplier.apply`` (collects the slice matrix), per-row and vectorized SFs;
- our ``SparkSFApplier.slice_columns`` written to Parquet (nothing collected).

Spark's start-up (JVM and session; then the first Python job, which starts the
Python workers) is timed separately, and each contender runs once on a 1,000-row
sample of every partition first, so that no timing includes worker start-up. Memory: the peak growth of
the driver's Python process, and of the JVM (driver and local executors) for
reference, sampled every 10 ms. Outputs are checked equal: every contender against
the plain pandas column operations, by row id.

Prints a table and writes the ``spark`` section of BENCHMARKS.md.
Run: ``python bench/spark.py [--rows N] [--no-write]`` (needs ``slicing[spark]`` and
Java 17 or 21).
"""

import argparse
import gc
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.apply import (  # noqa: E402
    make_frame,
    names,
    our_row_sfs,
    our_vectorized_sfs,
    snorkel_sfs,
    vectorized_pandas,
)
from bench.report import machine_line, markdown_table, write_section  # noqa: E402
from slicing.apply.spark import SparkSFApplier  # noqa: E402
from slicing.matrix import slice_matrix_to_array  # noqa: E402


class ProcessMemory:
    """Peak RSS growth of the driver's Python process and of its JVM, sampled."""

    def __init__(self, interval: float = 0.01) -> None:
        import psutil

        self.python = psutil.Process()
        self.jvm = [
            child
            for child in self.python.children(recursive=True)
            if "java" in child.name()
        ]
        self.interval = interval
        self._stop = threading.Event()

    def _rss(self) -> tuple[int, int]:
        jvm = 0
        for process in self.jvm:
            try:
                jvm += process.memory_info().rss
            except Exception:  # noqa: BLE001 - a vanished process counts 0
                pass
        return self.python.memory_info().rss, jvm

    def _sample(self) -> None:
        while not self._stop.is_set():
            python, jvm = self._rss()
            self.peak_python = max(self.peak_python, python)
            self.peak_jvm = max(self.peak_jvm, jvm)
            time.sleep(self.interval)

    def __enter__(self) -> "ProcessMemory":
        self.start_python, self.start_jvm = self._rss()
        self.peak_python, self.peak_jvm = self.start_python, self.start_jvm
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth_mb(self) -> tuple[float, float]:
        return (
            (self.peak_python - self.start_python) / 2**20,
            (self.peak_jvm - self.start_jvm) / 2**20,
        )


def start_session(master: str, driver_memory: str):
    """A local session like the tests' (workers on this Python), and its start-up time."""
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    started = time.perf_counter()
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master(master)
        .appName("slicing-bench")
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session, time.perf_counter() - started


def write_input(rows: int, partitions: int, path: Path) -> np.ndarray:
    """The workload as Parquet (one file per partition, an ``id`` column); the
    reference matrix from pandas column operations, in ``id`` order."""
    frame = make_frame(rows, partitions)
    frame.insert(0, "id", np.arange(rows, dtype=np.int64))
    path.mkdir(parents=True)
    bounds = np.linspace(0, rows, partitions + 1).astype(int)
    for part, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:])):
        table = pa.Table.from_pandas(frame.iloc[start:stop], preserve_index=False)
        pq.write_table(table, path / f"part-{part:05d}.parquet")
    return vectorized_pandas(frame)


def timed(label: str, run: Callable[[], object]) -> dict:
    gc.collect()
    with ProcessMemory() as memory:
        started = time.perf_counter()
        output = run()
        seconds = time.perf_counter() - started
    python_mb, jvm_mb = memory.growth_mb
    print(
        f"  {label}: {seconds:.2f} s, driver Python +{python_mb:.0f} MB, "
        f"JVM +{jvm_mb:.0f} MB",
        flush=True,
    )
    return dict(seconds=seconds, python_mb=python_mb, jvm_mb=jvm_mb, output=output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=16, help="input files")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="2g")
    parser.add_argument("--skip-snorkel", action="store_true")
    parser.add_argument(
        "--no-write", action="store_true", help="do not touch BENCHMARKS.md"
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="slicing-bench-spark-"))
    try:
        run_benchmark(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run_benchmark(args: argparse.Namespace, workdir: Path) -> None:
    print(f"building {args.rows:,} rows x 10 SFs as Parquet ...", flush=True)
    reference = write_input(args.rows, args.partitions, workdir / "input")
    spark, session_seconds = start_session(args.master, args.driver_memory)
    sdf = spark.read.parquet(str(workdir / "input"))
    # A warm-up sample from every partition, so every Python worker is started.
    sample = sdf.where(sdf["id"] % max(1, args.rows // 1000) == 0)
    started = time.perf_counter()
    SparkSFApplier(our_row_sfs()).apply(sample)
    first_job_seconds = time.perf_counter() - started
    print(
        f"  Spark start-up: session {session_seconds:.1f} s, first Python job "
        f"{first_job_seconds:.1f} s",
        flush=True,
    )
    ids = sdf.select("id").toArrow().column("id").to_numpy()
    in_df_order = reference[ids]  # the reference in the DataFrame's row order

    results: dict[str, dict] = {}
    if not args.skip_snorkel:
        from snorkel.slicing.apply.spark import SparkSFApplier as SnorkelSparkSFApplier

        snorkel = SnorkelSparkSFApplier(snorkel_sfs())
        snorkel.apply(sample.rdd)
        results["snorkel.slicing SparkSFApplier.apply"] = timed(
            "snorkel.slicing SparkSFApplier.apply",
            lambda: snorkel.apply(sdf.rdd) == 1,
        )
    for label, sfs in [
        ("per-row", our_row_sfs()),
        ("vectorized", our_vectorized_sfs()),
    ]:
        applier = SparkSFApplier(sfs)
        applier.apply(sample)
        results[f"ours, apply, {label} SFs"] = timed(
            f"ours, apply, {label} SFs",
            lambda applier=applier: slice_matrix_to_array(applier.apply(sdf)),
        )
    out = workdir / "slices.parquet"
    applier = SparkSFApplier(our_row_sfs())
    applier.slice_columns(sample, keep_columns=["id"]).write.parquet(
        str(workdir / "warm-up.parquet")
    )
    results["ours, slice_columns to Parquet, per-row SFs"] = timed(
        "ours, slice_columns to Parquet, per-row SFs",
        lambda: (
            applier.slice_columns(sdf, keep_columns=["id"])
            .write.mode("overwrite")
            .parquet(str(out))
        ),
    )
    written = pq.read_table(out).sort_by("id")
    assert written.num_rows == args.rows
    written_matrix = np.column_stack(
        [written.column(name).to_numpy() for name in names()]
    )
    assert np.array_equal(written_matrix, reference), "Parquet output disagrees"
    for label, result in results.items():
        if result["output"] is not None:
            assert np.array_equal(result["output"], in_df_order), f"{label} disagrees"
    spark.stop()
    report(args, results, session_seconds, first_job_seconds)


def report(
    args: argparse.Namespace,
    results: dict[str, dict],
    session_seconds: float,
    first_job_seconds: float,
) -> None:
    baseline = results.get("snorkel.slicing SparkSFApplier.apply", {}).get("seconds")
    rows = [
        [
            label,
            f"{result['seconds']:.2f}",
            f"{args.rows / result['seconds']:,.0f}",
            f"{baseline / result['seconds']:.1f}x" if baseline else "n/a",
            f"{result['python_mb']:.0f}",
            f"{result['jvm_mb']:.0f}",
        ]
        for label, result in results.items()
    ]
    table = markdown_table(
        [
            "contender",
            "seconds",
            "rows/s",
            "speed-up vs snorkel",
            "driver Python growth (MB)",
            "JVM growth (MB)",
        ],
        rows,
    )
    ours_apply = results["ours, apply, per-row SFs"]
    ours_write = results["ours, slice_columns to Parquet, per-row SFs"]
    targets = markdown_table(
        ["target", "measured"],
        [
            ["outputs identical (all contenders, and the Parquet output by id)", "yes"],
            [
                ">= 5x snorkel's throughput (apply / slice_columns, per-row SFs)",
                f"{baseline / ours_apply['seconds']:.1f}x / "
                f"{baseline / ours_write['seconds']:.1f}x"
                if baseline
                else "n/a",
            ],
            [
                "driver memory growth <= 300 MB for slice_columns (Python / JVM)",
                f"{ours_write['python_mb']:.0f} / {ours_write['jvm_mb']:.0f} MB",
            ],
            [
                "Spark start-up (session / first Python job)",
                f"{session_seconds:.1f} s / {first_job_seconds:.1f} s",
            ],
        ],
    )
    body = (
        f"## Applying SFs on Spark: {args.rows:,} rows x 10 SFs, `{args.master}`\n\n"
        f"{machine_line()} The apply benchmark's workload read from {args.partitions} "
        "Parquet files by one Spark session; every contender runs on that session "
        "after a 1,000-row warm-up (every Python worker started), and every output is "
        "checked equal to pandas column operations. Start-up is not in the timings: "
        f"creating the session took {session_seconds:.1f} s and the first Python job "
        f"{first_job_seconds:.1f} s. Memory: peak growth of the driver's Python "
        "process, and of the JVM (driver and local executors).\n\n"
        f"{table}\n\n{targets}\n\n"
        "Reproduce: `python bench/spark.py` (add `--rows 100000` for a quick run)."
    )
    print("\n" + table + "\n\n" + targets)
    if not args.no_write:
        write_section("spark", body)


if __name__ == "__main__":
    main()
