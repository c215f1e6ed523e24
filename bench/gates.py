"""Benchmark: the per-slice regression gate's error rates and its speed on Parquet (issue 14).

Simulation (in memory): 20,000 rows, 20 slices of 1%, 2%, ..., 20% of the rows
(independent membership, so they overlap), binary gold labels. Baseline per-slice
accuracies are 0.70 to 0.95 (evenly spaced, shuffled across the slice sizes with a
fixed seed; the 5% slice is set to the middle of the range, 0.825); a row's chance of
being right is the accuracy of the smallest slice it is in (0.85 outside every
slice). Every run draws new rows, a new baseline and a new candidate.

- A/A: the candidate is right with the same per-row chance, independently of the
  baseline. Target: runs in which any slice (or overall) fails <= 5%.
- Planted drop: the same, but 8 points less likely to be right on the 5% slice,
  whose rows are kept out of the other slices (so that no other slice truly drops,
  and any other failure is a false one; overall does drop, by 0.4 points).
  Targets: the planted slice fails in >= 90% of runs; no other slice fails in >= 95%.
  The power depends on the planted slice's accuracy (with independent errors the
  discordance, hence the noise, is largest near 0.7): it is also measured with
  that slice at 0.70 and at 0.95.

Both use the default rules (accuracy may not drop beyond noise: exact McNemar per
slice, Holm across slices at 0.05). Beside them, the naive rule "fail if any slice's
accuracy drops by more than 1 point".

Speed: ``dask_gate_slices`` on a Parquet log of 10,000,000 rows (gold, two models'
predictions, 20 bool slice columns; files of 1,000,000 rows, written once under
``bench/out/gates_log/``), threaded scheduler with 2 threads. Target <= 15 s.

    flock /tmp/slicing-bench.lock python bench/gates.py            # full, writes BENCHMARKS.md
    python bench/gates.py --quick --no-write                        # a smoke run
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dask  # noqa: E402
import dask.dataframe as dd  # noqa: E402

from bench.report import PeakMemory, machine_line, markdown_table, write_section  # noqa: E402
from slicing.intervals import wilson_interval  # noqa: E402
from slicing.matrix import make_slice_matrix  # noqa: E402
from slicing.monitor.gate_dask import dask_gate_slices  # noqa: E402
from slicing.monitor.gates import gate_slices  # noqa: E402

N_SLICES = 20
SIZES = np.arange(1, N_SLICES + 1) / 100  # 1% .. 20%
PLANTED = 4  # the 5% slice
DROP = 0.08
NAIVE_DROP = 0.01
OUTSIDE_ACCURACY = 0.85
PARTITION_ROWS = 1_000_000
LOG_DIR = Path(__file__).resolve().parent / "out" / "gates_log"
NAMES = [f"slice_{index:02d}" for index in range(N_SLICES)]


def slice_accuracies(planted: float = 0.825, seed: int = 14) -> np.ndarray:
    """Accuracy of each slice: 0.70 .. 0.95, shuffled across sizes (fixed seed)."""
    accuracies = np.random.default_rng(seed).permutation(
        np.linspace(0.70, 0.95, N_SLICES)
    )
    accuracies[PLANTED] = planted
    return accuracies


def simulate(rows: int, rng: np.random.Generator, accuracies: np.ndarray, drop: float):
    """Gold labels, slice membership and both models' predictions for one run."""
    membership = rng.random((rows, N_SLICES)) < SIZES
    # The planted slice shares no rows with the others: a drop there is its own.
    planted = membership[:, PLANTED].copy()
    membership[planted] = False
    membership[:, PLANTED] = planted
    # A row's chance of being right: the accuracy of the smallest slice it is in.
    first = np.where(membership.any(axis=1), membership.argmax(axis=1), -1)
    chance = np.where(first >= 0, accuracies[np.maximum(first, 0)], OUTSIDE_ACCURACY)
    golds = rng.integers(0, 2, rows)
    baseline_right = rng.random(rows) < chance
    candidate_chance = chance - drop * membership[:, PLANTED]
    candidate_right = rng.random(rows) < candidate_chance
    baseline = np.where(baseline_right, golds, 1 - golds)
    candidate = np.where(candidate_right, golds, 1 - golds)
    return golds, membership, baseline, candidate


def naive_failures(golds, membership, baseline, candidate) -> np.ndarray:
    """The naive rule per row of the table (overall first): observed drop > 1 point."""
    columns = np.column_stack([np.ones(golds.size, bool), membership])
    size = columns.sum(axis=0)
    base = (columns & (baseline == golds)[:, None]).sum(axis=0) / size
    cand = (columns & (candidate == golds)[:, None]).sum(axis=0) / size
    return base - cand > NAIVE_DROP


def simulation(
    rows: int, runs: int, drop: float, seed: int, planted_accuracy: float = 0.825
) -> dict[str, float]:
    """Share of runs in which each kind of failure happens."""
    rng = np.random.default_rng(seed)
    accuracies = slice_accuracies(planted_accuracy)
    counts = dict.fromkeys(
        [
            "any",
            "planted",
            "others",
            "overall",
            "naive_any",
            "naive_planted",
            "naive_others",
            "investigate",
        ],
        0.0,
    )
    for _ in range(runs):
        golds, membership, baseline, candidate = simulate(rows, rng, accuracies, drop)
        S = make_slice_matrix(membership, NAMES)
        failed = (
            gate_slices(golds, S, baseline=baseline, candidate=candidate)
            .slices["status"]
            .to_numpy()
        )
        statuses = failed
        failed = statuses == "fail"
        naive = naive_failures(golds, membership, baseline, candidate)
        others = np.delete(failed[1:], PLANTED)
        counts["any"] += failed.any()
        counts["planted"] += failed[1 + PLANTED]
        counts["others"] += others.any()
        counts["overall"] += failed[0]
        counts["naive_any"] += naive.any()
        counts["naive_planted"] += naive[1 + PLANTED]
        counts["naive_others"] += np.delete(naive[1:], PLANTED).any()
        counts["investigate"] += (statuses == "investigate").sum()
    return {key: value / runs for key, value in counts.items()}


def ensure_log(rows: int) -> Path:
    """Write the Parquet log once (deterministic), reused by later runs."""
    directory = LOG_DIR / f"{rows}"
    n_files = -(-rows // PARTITION_ROWS)
    if len(list(directory.glob("*.parquet"))) == n_files:
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    accuracies = slice_accuracies()
    for part, start in enumerate(range(0, rows, PARTITION_ROWS)):
        size = min(PARTITION_ROWS, rows - start)
        golds, membership, baseline, candidate = simulate(
            size, np.random.default_rng(part), accuracies, DROP
        )
        frame = pd.DataFrame(
            {
                "gold": golds.astype(np.int8),
                "baseline": baseline.astype(np.int8),
                "candidate": candidate.astype(np.int8),
            }
        )
        for column, name in enumerate(NAMES):
            frame[name] = membership[:, column]
        frame.to_parquet(directory / f"part-{part:03d}.parquet", index=False)
    return directory


def time_parquet(directory: Path, repeats: int) -> tuple[float, int, str]:
    """Best seconds of the Dask gate on the log, peak RSS growth, verdict."""
    best, growth, verdict = float("inf"), 0, ""
    for _ in range(repeats):
        with (
            PeakMemory() as memory,
            dask.config.set(scheduler="threads", num_workers=2),
        ):
            started = time.perf_counter()
            ddf = dd.read_parquet(str(directory / "*.parquet"))
            result = dask_gate_slices(
                ddf, "gold", baseline="baseline", candidate="candidate"
            )
            best = min(best, time.perf_counter() - started)
        growth, verdict = max(growth, memory.growth), result.verdict
    return best, growth, verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--rows", type=int, default=20_000, help="rows per simulated run"
    )
    parser.add_argument("--runs", type=int, default=200, help="runs per scenario")
    parser.add_argument("--log-rows", type=int, default=10_000_000, help="Parquet rows")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--quick", action="store_true", help="20 runs, 200,000 log rows"
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.log_rows, args.repeats = 20, 200_000, 1

    started = time.perf_counter()
    null = simulation(args.rows, args.runs, 0.0, seed=1)
    planted = simulation(args.rows, args.runs, DROP, seed=2)
    sensitivity = {
        accuracy: simulation(args.rows, args.runs, DROP, 3, accuracy)["planted"]
        for accuracy in (0.70, 0.95)
    }
    simulated = time.perf_counter() - started
    seconds, growth, verdict = time_parquet(ensure_log(args.log_rows), args.repeats)
    accuracies = slice_accuracies()

    def pct(value: float) -> str:
        # With a 95% Wilson interval: the rates are estimates from args.runs runs.
        low, high = wilson_interval(
            np.array([value * args.runs]), np.array([args.runs])
        )
        return f"{value:.1%} [{low[0]:.1%}, {high[0]:.1%}]"

    rows = [
        [
            "A/A: runs where any slice or overall fails",
            "<= 5%",
            pct(null["any"]),
            pct(null["naive_any"]),
        ],
        [
            "planted: the planted 5% slice fails",
            ">= 90%",
            pct(planted["planted"]),
            pct(planted["naive_planted"]),
        ],
        [
            "planted: runs where no other slice fails",
            ">= 95%",
            pct(1 - planted["others"]),
            pct(1 - planted["naive_others"]),
        ],
        *(
            [f"planted slice at accuracy {accuracy:.2f}: it fails", "-", pct(rate), "-"]
            for accuracy, rate in sensitivity.items()
        ),
        [
            "planted: runs where overall fails (a real 0.4-point drop)",
            "-",
            pct(planted["overall"]),
            "-",
        ],
        [
            "A/A: slices marked investigate per run (of 21)",
            "-",
            f"{null['investigate']:.2f}",
            "-",
        ],
        [
            f"{args.log_rows:,} rows x {N_SLICES} slices from Parquet (s)",
            "<= 15",
            f"{seconds:.2f}",
            "-",
        ],
    ]
    table = markdown_table(
        ["measure", "target", "gate (default rules)", f"naive: drop > {NAIVE_DROP:g}"],
        rows,
    )
    intro = (
        f"{machine_line()} {args.runs} runs per scenario of {args.rows:,} rows, "
        f"{N_SLICES} slices of 1%..20%; baseline slice accuracies 0.70..0.95 (the "
        f"planted 5% slice: {accuracies[PLANTED]:.3f}, sharing no rows with the "
        "others); default rules (McNemar exact, Holm at 0.05). Rates with 95% "
        "Wilson intervals over the runs. Parquet: best of "
        f"{args.repeats}, 2 threads, peak memory growth {growth / 2**20:,.0f} MiB, "
        f"verdict {verdict!r} (the log has the planted drop). Simulation took "
        f"{simulated:.0f} s."
    )
    body = f"## Regression gates per slice (`bench/gates.py`)\n\n{intro}\n\n{table}\n"
    print(body)
    if not args.no_write:
        write_section("gates", body)
        print("wrote the 'gates' section of BENCHMARKS.md")


if __name__ == "__main__":
    main()
