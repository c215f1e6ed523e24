"""Benchmark: per-slice monitoring of a prediction log, on Dask and in memory.

Workload (from issue 4): a binary classifier's prediction log of N rows (10,000,000
by default) with a gold label, a predicted label and 20 overlapping bool slice
columns (slice sizes 0.5% to 40%; the model is worse on some slices), written once
as Parquet files of 1,000,000 rows under ``bench/out/monitor_log/`` (reused when
present). Metrics: accuracy (Wilson intervals) and F1 (bootstrap intervals, 1000
resamples) where the contender can.

Contenders, all in this one process run:

- ours, ``dask_slice_scores`` on ``dd.read_parquet`` (threaded scheduler, 2
  threads): reads and reduces the log in one pass; the full table;
- a hand-written Dask baseline: one filtered mean per slice
  (``ddf[ddf[s]].correct.mean()``), all computed together; accuracy only, no
  support, no intervals;
- in memory, on the log loaded as numpy arrays (loading not timed):
  snorkel's ``Scorer.score_slices`` (the reference; scikit-learn per slice and
  metric, no intervals), our ``slice_scores`` (the full table), and a numpy lower
  bound for accuracy alone (``(S & correct).sum(0) / S.sum(0)``).

Each contender runs in a fresh Python process (so no contender inherits another's
allocator pools or warm caches): best of ``--repeats`` runs, peak RSS growth over
the process's RSS after loading its inputs. Prints a table with seconds, rows/s,
peak memory growth and ratios, and writes the ``monitor`` section of BENCHMARKS.md. Run under the shared lock:

    flock /tmp/slicing-bench.lock python bench/monitor.py [--rows N]
"""

import argparse
import gc
import json
import pickle
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dask  # noqa: E402
import dask.dataframe as dd  # noqa: E402
from snorkel.analysis import Scorer  # noqa: E402

from bench.report import PeakMemory, machine_line, markdown_table, write_section  # noqa: E402
from slicing.matrix import make_slice_matrix  # noqa: E402
from slicing.monitor.dask_scores import dask_slice_scores  # noqa: E402
from slicing.monitor.scores import slice_scores  # noqa: E402

N_SLICES = 20
PARTITION_ROWS = 1_000_000
METRICS = ["accuracy", "f1"]
LOG_DIR = Path(__file__).resolve().parent / "out" / "monitor_log"


def slice_names() -> list[str]:
    return [f"slice_{index:02d}" for index in range(N_SLICES)]


def make_partition(partition: int, rows: int) -> pd.DataFrame:
    """Deterministic rows: gold, pred, and 20 slice columns; worse on odd slices."""
    rng = np.random.default_rng(partition)
    rates = np.geomspace(0.4, 0.005, N_SLICES)
    membership = rng.random((rows, N_SLICES)) < rates
    golds = rng.integers(0, 2, rows)
    hard = membership[:, 1::2].any(axis=1)
    correct = rng.random(rows) < np.where(hard, 0.8, 0.92)
    frame = pd.DataFrame(
        {
            "gold": golds.astype(np.int8),
            "pred": np.where(correct, golds, 1 - golds).astype(np.int8),
        }
    )
    for column, name in enumerate(slice_names()):
        frame[name] = membership[:, column]
    return frame


def ensure_log(rows: int) -> Path:
    """Write the log as Parquet once per row count; return its directory."""
    directory = LOG_DIR / f"rows_{rows}"
    manifest = LOG_DIR / f"rows_{rows}.json"  # written last: the log is complete
    if manifest.exists():
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    sizes = np.diff(np.linspace(0, rows, -(-rows // PARTITION_ROWS) + 1).astype(int))
    for partition, size in enumerate(sizes):
        make_partition(partition, int(size)).to_parquet(
            directory / f"part-{partition:04d}.parquet", index=False
        )
    manifest.write_text(json.dumps({"rows": rows, "slices": N_SLICES}))
    return directory


def load_arrays(directory: Path) -> tuple[np.ndarray, np.ndarray, np.recarray]:
    frame = pd.concat(
        [pd.read_parquet(path) for path in sorted(directory.glob("*.parquet"))],
        ignore_index=True,
    )
    indicators = frame[slice_names()].to_numpy(dtype=bool)
    return (
        frame["gold"].to_numpy(np.int64),
        frame["pred"].to_numpy(np.int64),
        make_slice_matrix(indicators, slice_names()),
    )


def ours_dask(directory: Path) -> Callable[[], object]:
    def run() -> pd.DataFrame:
        with dask.config.set(scheduler="threads", num_workers=2):
            ddf = dd.read_parquet(str(directory / "*.parquet"))
            return dask_slice_scores(
                ddf, "gold", "pred", slice_columns=slice_names(), metrics=METRICS
            )

    return run


def handwritten_dask(directory: Path) -> Callable[[], object]:
    def run() -> pd.Series:
        with dask.config.set(scheduler="threads", num_workers=2):
            ddf = dd.read_parquet(str(directory / "*.parquet"))
            correct = ddf["gold"] == ddf["pred"]
            means = [correct.mean()]
            means += [correct[ddf[name]].mean() for name in slice_names()]
            values = dask.compute(*means)
        return pd.Series(values, index=["overall", *slice_names()])

    return run


def ours_memory(directory: Path) -> Callable[[], object]:
    golds, preds, S = load_arrays(directory)
    return lambda: slice_scores(golds, S, preds=preds, metrics=METRICS)


def numpy_lower_bound(directory: Path) -> Callable[[], object]:
    golds, preds, S = load_arrays(directory)
    correct = golds == preds

    def run() -> np.ndarray:
        indicators = S.view(dtype=np.bool_).reshape(len(S), N_SLICES)
        return (indicators & correct[:, None]).sum(axis=0) / indicators.sum(axis=0)

    return run


def snorkel_scorer(directory: Path) -> Callable[[], object]:
    golds, preds, S = load_arrays(directory)
    probs = np.column_stack([1.0 - preds, preds]).astype(float)
    scorer = Scorer(metrics=METRICS)
    return lambda: scorer.score_slices(S, golds, preds, probs, as_dataframe=True)


# name -> (label, builds the run from the log directory, what it computes)
CONTENDERS: dict[str, tuple[str, Callable[[Path], Callable[[], object]], str]] = {
    "ours_dask": (
        "ours: dask_slice_scores (Parquet, 2 threads)",
        ours_dask,
        "n, share, accuracy + F1 with intervals, diff, status",
    ),
    "handwritten_dask": (
        "hand-written Dask: filtered mean per slice (Parquet, 2 threads)",
        handwritten_dask,
        "accuracy only",
    ),
    "ours_memory": (
        "ours: slice_scores (in memory)",
        ours_memory,
        "n, share, accuracy + F1 with intervals, diff, status",
    ),
    "numpy": ("numpy lower bound (in memory)", numpy_lower_bound, "accuracy only"),
    "snorkel": (
        "snorkel Scorer.score_slices (in memory)",
        snorkel_scorer,
        "accuracy + F1; no support, no intervals",
    ),
}


def run_contender(name: str, directory: Path, repeats: int, result_path: Path) -> None:
    """In a fresh process: time one contender, print JSON, pickle its result."""
    run = CONTENDERS[name][1](directory)
    best, growth, result = float("inf"), 0, None
    for _ in range(repeats):
        gc.collect()
        with PeakMemory() as memory:
            started = time.perf_counter()
            result = run()
            best = min(best, time.perf_counter() - started)
        growth = max(growth, memory.growth)
    result_path.write_bytes(pickle.dumps(result))
    print(json.dumps({"seconds": best, "growth": growth}))


def check_agreement(results: dict[str, object]) -> None:
    """Every contender computes the same accuracies (and F1 where it has it)."""
    names = ["overall", *slice_names()]
    ours = results["ours_dask"]
    assert isinstance(ours, pd.DataFrame)
    pd.testing.assert_frame_equal(ours, results["ours_memory"])
    accuracy = ours.loc[names, "accuracy"].to_numpy()
    assert np.allclose(np.asarray(results["handwritten_dask"]), accuracy)
    assert np.allclose(np.asarray(results["numpy"]), accuracy[1:])
    snorkel = results["snorkel"]
    assert isinstance(snorkel, pd.DataFrame)
    for metric in METRICS:
        expected = ours.loc[names, metric].to_numpy()
        assert np.allclose(snorkel.loc[names, metric].to_numpy(dtype=float), expected)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--contender", choices=sorted(CONTENDERS), help=argparse.SUPPRESS
    )
    parser.add_argument("--result-path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    directory = ensure_log(args.rows)
    if args.contender:
        run_contender(args.contender, directory, args.repeats, args.result_path)
        return
    print(f"log ready: {directory}", flush=True)

    measured, results = {}, {}
    for name in CONTENDERS:
        result_path = LOG_DIR / f"result_{name}.pkl"
        repeats = 1 if name == "snorkel" else args.repeats
        command = [
            sys.executable,
            __file__,
            "--rows",
            str(args.rows),
            "--repeats",
            str(repeats),
            "--contender",
            name,
            "--result-path",
            str(result_path),
        ]
        output = subprocess.run(command, check=True, capture_output=True, text=True)
        measured[name] = json.loads(output.stdout.strip().splitlines()[-1])
        results[name] = pickle.loads(result_path.read_bytes())
        print(name, measured[name], flush=True)
    check_agreement(results)

    baseline_rate = args.rows / measured["snorkel"]["seconds"]
    headers = [
        "contender",
        "seconds",
        "rows/s",
        "peak memory growth",
        "vs snorkel Scorer",
        "computes",
    ]
    rows = []
    for name, (label, _, computes) in CONTENDERS.items():
        seconds, growth = measured[name]["seconds"], measured[name]["growth"]
        rate = args.rows / seconds
        rows.append(
            [
                label,
                f"{seconds:.2f}",
                f"{rate:,.0f}",
                f"{growth / 2**20:,.0f} MiB",
                f"{rate / baseline_rate:.1f}x",
                computes,
            ]
        )
    table = markdown_table(headers, rows)
    print(table)
    body = (
        "## Per-slice monitoring (`bench/monitor.py`)\n\n"
        f"{machine_line()} Prediction log of {args.rows:,} rows x {N_SLICES} "
        f"overlapping slices (Parquet, {PARTITION_ROWS:,} rows a file); metrics accuracy "
        f"and F1. Each contender in a fresh process; best of {args.repeats} runs "
        "(snorkel: one run); rows/s = rows / seconds; peak memory growth = peak RSS "
        "minus RSS once the contender's inputs are loaded (in-memory contenders hold "
        f"the whole log, ~{args.rows * (N_SLICES + 16) / 2**20:,.0f} MiB, before that). "
        "The script checks that all contenders' numbers agree.\n\n"
        f"{table}\n"
    )
    write_section("monitor", body)


if __name__ == "__main__":
    main()
