"""Test F1 after every epoch of one run of ``bench/geometries.py``.

The geometry suite scores each contender after its last epoch. At lr 0.01 the test F1
of a small slice moves by tens of points from one epoch to the next, for every
contender, so the spread over seeds of a last-epoch score mixes two things: how well a
model learns the slice, and where in its oscillation the last epoch falls. This script
trains the runs of one geometry exactly as ``bench.geometries.run_one`` does (same
data, seed and batch order, so the last-epoch scores are the suite's), scores the test
set after every epoch, and prints per contender, mean ± std over seeds: the last
epoch's overall and mean slice F1, the mean slice F1 averaged over the last ``--last``
epochs, and how much it moves within a seed over those epochs.

    python -m bench.trajectory --geometry discs-away --lr 0.01 --seeds 7
    python -m bench.trajectory --geometry discs-away --lr 0.01 --seeds 0 1 2 3 4 5 \\
        6 7 8 9 --contenders snorkel.slicing ours --last 51 --jobs 2

Nothing here is written to BENCHMARKS.md; the issue 17 diagnosis quotes its output.
"""

import argparse
import functools
import logging
from typing import Any

import numpy as np
import torch

from bench.geometries import CONTENDERS, GEOMETRIES, VARIANTS, run_data
from bench.report import markdown_table
from bench.synthetic import build, f1_scores, map_jobs, train


def trajectory(
    geometry: str,
    name: str,
    *,
    seed: int,
    lr: float,
    noise: float,
    epochs: int,
    n_points: int,
    batch_size: int,
) -> np.ndarray:
    """Test F1 (overall, then per slice) after each epoch, shape ``(epochs, 1 + k)``."""
    torch.set_num_threads(1)
    logging.disable(logging.INFO)
    train_data, test_data = run_data(GEOMETRIES[geometry], n_points, seed, noise)
    torch.manual_seed(seed)
    model = build(name, train_data, {**CONTENDERS, **VARIANTS}[name])
    scores: list[list[float]] = []
    train(
        model,
        train_data,
        epochs,
        lr,
        batch_size,
        after_epoch=lambda epoch: scores.append(f1_scores(model, test_data)),
    )
    return np.array(scores)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--geometry", default="discs-away", choices=list(GEOMETRIES))
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--noise", type=float, default=0.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--n-points", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--contenders",
        nargs="+",
        default=["snorkel.slicing", "ours"],
        choices=list(CONTENDERS) + list(VARIANTS),
    )
    parser.add_argument(
        "--last", type=int, default=51, help="epochs averaged, counted from the end"
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="worker processes (one thread each)"
    )
    parser.add_argument(
        "--window", type=int, default=50, help="epochs per window in the last table"
    )
    parser.add_argument(
        "--dip",
        type=float,
        default=90.0,
        help="mean slice F1 under which an epoch counts as a dip",
    )
    parser.add_argument(
        "--save",
        metavar="NPZ",
        help="also write the curves: one array (seeds, epochs, 1 + k) per contender",
    )
    args = parser.parse_args()
    runs = [(name, seed) for seed in args.seeds for name in args.contenders]
    curves: dict[str, list[np.ndarray]] = {name: [] for name in args.contenders}
    job = functools.partial(
        _run_job,
        geometry=args.geometry,
        lr=args.lr,
        noise=args.noise,
        epochs=args.epochs,
        n_points=args.n_points,
        batch_size=args.batch_size,
    )
    for (name, seed), f1 in map_jobs(job, runs, args.jobs):
        slices = f1[-args.last :, 1:].mean(axis=1)
        print(
            f"{args.geometry} lr={args.lr} noise={args.noise} seed={seed} {name}: "
            f"last epoch F1 {f1[-1, 0]:.1f}/{f1[-1, 1:].mean():.1f}, mean slice F1 "
            f"over the last {len(slices)} epochs {slices.mean():.1f} ± "
            f"{slices.std():.1f} (min {slices.min():.1f})",
            flush=True,
        )
        curves[name].append(f1)
    # (seeds, epochs, 1 + k) per contender
    stacked = {name: np.stack(runs_f1) for name, runs_f1 in curves.items()}
    if args.save:
        np.savez(args.save, seeds=np.array(args.seeds), **stacked)
    last = min(args.last, args.epochs)
    rows = []
    for name, f1 in stacked.items():
        final = f1[:, -1, 1:].mean(axis=1)
        averaged = f1[:, -last:, 1:].mean(axis=(1, 2))
        within = f1[:, -last:, 1:].mean(axis=2).std(axis=1)
        overall = f1[:, -last:, 0]
        rows.append(
            [
                name,
                f"{f1[:, -1, 0].mean():.1f} ± {f1[:, -1, 0].std():.1f}",
                f"{overall.mean(axis=1).mean():.1f} ± {overall.mean(axis=1).std():.1f}",
                f"{overall.std(axis=1).mean():.2f}",
                f"{final.mean():.1f} ± {final.std():.1f}",
                f"{averaged.mean():.1f} ± {averaged.std():.1f}",
                f"{within.mean():.1f}",
            ]
        )
    print(
        f"\n{args.geometry}, lr {args.lr}, SF noise {args.noise:.0%}, seeds "
        f"{', '.join(map(str, args.seeds))}, {args.epochs} epochs; test F1 x 100, mean "
        "± std over seeds\n"
    )
    print(
        markdown_table(
            [
                "model",
                "overall, last epoch",
                f"overall, averaged over the last {last} epochs",
                f"std of overall over the last {last} epochs, within a seed",
                "mean slice, last epoch",
                f"mean slice, averaged over the last {last} epochs",
                f"std of mean slice over the last {last} epochs, within a seed",
            ],
            rows,
        )
    )
    print(f"\nBy windows of {args.window} epochs (mean slice F1):\n")
    print(window_table(stacked, args.window, args.dip))


def window_table(curves: dict[str, np.ndarray], window: int, dip: float) -> str:
    """Per contender and window of epochs: the mean slice F1 averaged over the window
    and the seeds, its std within a seed, and the share of epochs below ``dip``.

    ``curves``: per contender, test F1 of shape ``(seeds, epochs, 1 + k)``."""
    rows = []
    for name, f1 in curves.items():
        slices = f1[:, :, 1:].mean(axis=2)  # (seeds, epochs)
        for start in range(slices.shape[1] % window, slices.shape[1], window):
            part = slices[:, start : start + window]
            rows.append(
                [
                    name,
                    f"{start + 1}-{start + window}",
                    f"{part.mean():.1f}",
                    f"{part.std(axis=1).mean():.1f}",
                    f"{(part < dip).mean():.1%}",
                ]
            )
    return markdown_table(
        ["model", "epochs", "average", "std within a seed", f"epochs below {dip:g}"],
        rows,
    )


def _run_job(job: tuple[str, int], geometry: str, **settings: Any) -> np.ndarray:
    name, seed = job
    return trajectory(geometry, name, seed=seed, **settings)


if __name__ == "__main__":
    main()
