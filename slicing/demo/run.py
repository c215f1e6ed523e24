"""``python -m slicing.demo``: the main job of the package on the spam comments.

Apply SFs, score a plain network per slice with intervals, train the slice-aware
model with the same backbone, compare the two slice by slice, and save the figures.
About 15-60 s on 2 cores; needs only the base install.
"""

import argparse
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import torch

from slicing.apply.pandas import PandasSFApplier
from slicing.datasets.spam import load_spam
from slicing.demo.features import hashed_bag_of_words
from slicing.demo.report import describe_changes, format_comparison
from slicing.demo.sfs import SFS
from slicing.demo.training import train_classifier
from slicing.matrix import slice_matrix_to_dataframe
from slicing.monitor.analysis import slice_sizes_by_split
from slicing.monitor.compare import compare_models
from slicing.monitor.plots import plot_slice_comparison, plot_slice_scores
from slicing.monitor.scores import slice_scores
from slicing.monitor.table import format_slice_scores

__all__ = ["main", "parse_args"]

#: Slices with fewer test rows are reported but not judged.
MIN_SUPPORT = 30
METRIC = "f1"
LABELS = ("plain", "slice_aware")


def parse_args(argv: Sequence[str] = ()) -> argparse.Namespace:
    """The demo's options.

    Parameters
    ----------
    argv
        Command-line arguments, without the program name.

    Returns
    -------
    argparse.Namespace

    Examples
    --------
    >>> options = parse_args(["--epochs", "2", "--no-progress"])
    >>> options.epochs, options.progress, options.seed
    (2, False, 0)
    """
    parser = argparse.ArgumentParser(
        prog="python -m slicing.demo",
        description="Find where a spam classifier is weak with slicing functions, "
        "train a slice-aware model and compare the two slice by slice.",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        help="where to write the figures (default: a new temporary directory)",
    )
    parser.add_argument(
        "--no-progress",
        dest="progress",
        action="store_false",
        help="no progress bars",
    )
    parser.add_argument(
        "--epochs", type=int, default=10, help="training epochs (default: 10)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of both models (default: 0)"
    )
    parser.add_argument(
        "--train-rows",
        type=int,
        help="train on the first N training comments only (a quick check)",
    )
    return parser.parse_args(list(argv))


def _step(number: int, text: str) -> None:
    print(f"\n[{number}/5] {text}", flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the demo and print what it measured.

    Parameters
    ----------
    argv
        Options as on the command line (see ``python -m slicing.demo --help``);
        ``None`` runs with the defaults.
    """
    options = parse_args(argv or ())
    started = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small networks train fastest on one thread
    try:
        _run(options)
    finally:
        torch.set_num_threads(threads)
    print(f"\nDone in {time.perf_counter() - started:.0f} s.")


def _run(options: argparse.Namespace) -> None:
    splits = load_spam()
    train, test = splits.train, splits.test
    if options.train_rows is not None:
        train = train.iloc[: options.train_rows]
    print("slicing demo: where is a spam classifier weak, and does a slice-aware")
    print("model help there? Every score below is measured in this run.")

    _step(
        1, "Data: YouTube comments labelled spam (1) or ham (0), shipped with slicing."
    )
    print(f"{len(train)} training comments, {len(test)} test comments.")

    _step(2, f"Apply {len(SFS)} slicing functions (SFs): one bool column per SF.")
    applier = PandasSFApplier(SFS)
    S_train = applier.apply(train, progress_bar=False)
    S_test = applier.apply(test, progress_bar=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sizes = slice_sizes_by_split(
            {"train": S_train, "test": S_test}, min_size=MIN_SUPPORT
        )
    in_slice = slice_matrix_to_dataframe(S_train, index=train.index)
    sizes["spam share (train)"] = [
        round(float(train.label[in_slice[name]].mean()), 2) for name in in_slice
    ] + [round(float(train.label.mean()), 2)]
    print(sizes.to_string())
    for warning in caught:
        print(f"note: {warning.message}")

    _step(3, "Features: a hashed bag of words and word pairs (4096 columns).")
    X_train = torch.from_numpy(hashed_bag_of_words(train.text))
    X_test = torch.from_numpy(hashed_bag_of_words(test.text))
    y_train = torch.tensor(train.label.to_numpy())
    golds = test.label.to_numpy()

    _step(4, "Baseline: a plain network (linear layer of 32 + ReLU), scored per slice.")
    plain = _timed_training(X_train, y_train, None, LABELS[0], options)
    plain_preds = plain.predict(X_test)
    scores = slice_scores(
        golds, S_test, preds=plain_preds, metrics=[METRIC, "accuracy"]
    )
    print(f"Test scores with 95% intervals (slices under {MIN_SUPPORT} rows are")
    print("'too small': shown, not judged):")
    print(format_slice_scores(scores))

    _step(5, "Slice-aware model: the same backbone plus a head and an expert per SF.")
    aware = _timed_training(X_train, y_train, S_train, LABELS[1], options)
    comparison = compare_models(
        golds, S_test, plain_preds, aware.predict(X_test), metric=METRIC, labels=LABELS
    )
    print(
        f"Test {METRIC} of both models and the paired 95% interval of the difference:"
    )
    print(format_comparison(comparison))
    for sentence in describe_changes(comparison):
        print(sentence)
    print(f"(One seed ({options.seed}), one split of {len(test)} test comments.)")

    output_dir = options.output_dir or Path(tempfile.mkdtemp(prefix="slicing-demo-"))
    output_dir.mkdir(parents=True, exist_ok=True)
    figures = {
        "baseline_scores.png": plot_slice_scores(scores, METRIC),
        "comparison.png": plot_slice_comparison(comparison),
    }
    print("\nFigures:")
    for name, figure in figures.items():
        figure.savefig(output_dir / name, dpi=150)
        print(f"  {output_dir / name}")
    print("\nNext: the tutorials run the same loop with more SFs and several seeds:")
    print('  pip install -e ".[tutorials]" && jupyter lab tutorials/')


def _timed_training(X, y, S, label: str, options: argparse.Namespace):
    started = time.perf_counter()
    model = train_classifier(
        X,
        y,
        S,
        epochs=options.epochs,
        seed=options.seed,
        description=f"training {label}",
        progress=options.progress,
    )
    print(
        f"trained {label} ({options.epochs} epochs, seed {options.seed}) "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return model
