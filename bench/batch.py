"""Benchmark: the ``slicing apply`` batch job on a generated Parquet dataset.

N rows (20,000,000 by default) x 10 SFs (the workload of ``bench/apply.py``: five
substring SFs on a short text, five thresholds on a float), written as partitioned
Parquet, then sliced by ``run_apply_job`` on a ``distributed.LocalCluster`` with 1 and
2 worker processes. Reports rows/s, the peak resident memory of each worker (sampled)
and the speed-up; writes the ``batch`` section of BENCHMARKS.md.

Run: ``python bench/batch.py [--rows N]``.
"""

import argparse
import shutil
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.apply import make_partition, our_row_sfs  # noqa: E402
from bench.report import machine_line, markdown_table, write_section  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"


def worker_rss() -> int:
    import psutil

    return psutil.Process().memory_info().rss


def generate(rows: int, rows_per_partition: int, path: Path) -> None:
    """Write the dataset with Dask (partitions generated on the workers)."""
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    if path.exists():
        shutil.rmtree(path)
    sizes = [rows_per_partition] * (rows // rows_per_partition)
    if rows % rows_per_partition:
        sizes.append(rows % rows_per_partition)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        Client(cluster),
    ):
        frame = dd.from_map(
            make_partition, range(len(sizes)), sizes, meta=make_partition(0, 2).iloc[:0]
        )
        frame.to_parquet(path, write_index=False)


def run_job(input_path: Path, workers: int) -> tuple[float, list[int], int]:
    from distributed import Client, LocalCluster

    from slicing.batch.job import run_apply_job

    output = OUT / f"batch_slices_{workers}"
    if output.exists():
        shutil.rmtree(output)
    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        peaks: dict = {}
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                for address, rss in client.run(worker_rss).items():
                    peaks[address] = max(peaks.get(address, 0), rss)
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.perf_counter()
        summary = run_apply_job(
            our_row_sfs(),
            str(input_path),
            str(output),
            scheduler=cluster.scheduler_address,
            progress_bar=False,
        )
        seconds = time.perf_counter() - started
        stop.set()
        sampler.join()
    shutil.rmtree(output)
    return seconds, sorted(peaks.values()), summary.rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--rows-per-partition", type=int, default=500_000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    input_path = OUT / "batch_input.parquet"
    print(f"generating {args.rows:,} rows ...", flush=True)
    started = time.perf_counter()
    generate(args.rows, args.rows_per_partition, input_path)
    dataset_mb = sum(f.stat().st_size for f in input_path.glob("*.parquet")) / 2**20
    print(
        f"  {time.perf_counter() - started:.0f} s, {dataset_mb:.0f} MB of Parquet",
        flush=True,
    )
    results = {}
    for workers in (1, 2):
        seconds, peaks, rows = run_job(input_path, workers)
        assert rows == args.rows
        results[workers] = (seconds, peaks)
        print(
            f"  {workers} worker(s): {seconds:.1f} s, worker peak RSS {[round(p / 2**20) for p in peaks]} MB",
            flush=True,
        )
    rows_table = [
        [
            workers,
            f"{seconds:.1f}",
            f"{args.rows / seconds:,.0f}",
            ", ".join(f"{p / 2**20:.0f}" for p in peaks),
        ]
        for workers, (seconds, peaks) in results.items()
    ]
    table = markdown_table(
        ["worker processes", "seconds", "rows/s", "peak RSS per worker (MB)"],
        rows_table,
    )
    speedup = results[1][0] / results[2][0]
    body = (
        f"## Batch job: `slicing apply`, {args.rows:,} rows x 10 SFs\n\n{machine_line()} "
        f"Input: {dataset_mb:.0f} MB of Parquet in partitions of {args.rows_per_partition:,} rows; "
        "per-row SFs; output written atomically as Parquet. Time includes reading, slicing "
        "and writing; cluster start-up is excluded.\n\n"
        f"{table}\n\nSpeed-up with 2 workers: {speedup:.2f}x. Worker memory is bounded by the "
        "partition size, not the dataset size (compare the peak RSS with the dataset size).\n\n"
        "Reproduce: `python bench/batch.py` (add `--rows 2000000` for a quick run)."
    )
    print("\n" + table + f"\n\nspeed-up: {speedup:.2f}x")
    if not args.no_write:
        write_section("batch", body)
    shutil.rmtree(input_path)


if __name__ == "__main__":
    main()
