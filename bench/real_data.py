"""Real data sets for slice-aware training, scored like the geometries (issue 17).

``fair`` (``--datasets fair``): the table bundled with statsmodels
(``statsmodels.datasets.fair``, inside the wheel; nothing is downloaded): 6,366 married
women surveyed by *Redbook* magazine in 1974, from Fair, Ray. 1978. "A Theory of
Extramarital Affairs", *Journal of Political Economy*, February, 45-61 (statsmodels:
"Included with permission of the author"; the data is available at
http://fairmodel.econ.yale.edu/rayfair/pdf/2011b.htm). Features: rate_marriage (1 =
very poor .. 5 = very good), age, yrs_married, children, religious (1 = not .. 4 =
strongly), educ (years), occupation and occupation_husb (1 = student .. 6 =
professional with advanced degree). Target: ``affairs > 0`` (32% of the rows). SFs a
practitioner would write from the survey's codebook (``SFS``), share of all rows:

    s1 unhappy_marriage  rate_marriage <= 2   7%
    s2 many_children     children >= 4        8%
    s3 very_religious    religious == 4      10%
    s4 grad_school       educ >= 17          13%

A plain MLP scores s3 and s4 well below its overall F1 (few positives there). Per seed:
a stratified 70/30 train/test split (seed-dependent), features standardised on the
training rows; backbone a 2-layer MLP (32 units), lr 1e-3, batch 32, at most 100
epochs with early stopping for every contender: 20% of the training rows (stratified)
are held out, the weights of the epoch with the best overall F1 on them are kept, and
training stops after 10 epochs without a better one. (Without it, at a fixed 60 epochs,
every network overfits this noisy table and one seed of ours predicted 15% positives
against 25%.)

``spam`` (``--datasets spam``, ``bench/real_data_spam.py``): the YouTube spam comments
shipped in ``slicing.datasets``, set up as ``tutorials/01_spam_slicing.ipynb``: a
uni+bigram bag of words fitted on train, the tutorial's five SFs, train on videos 1-4
(1,586 rows), test on 250 rows of video 5 (the fixed split; seeds vary the model init
and batch order only); backbone ``Linear(vocabulary, 32)`` + ReLU, 10 epochs, lr 1e-3,
batch 32, as the tutorial's nets. Rows per SF (train / test):

    s1 short_comment      fewer than 5 words          370 / 85
    s2 keyword_please     "please" or "plz"           178 / 17
    s3 regex_check_out    check.*out                  371 / 55
    s4 short_link         bit.ly, goo.gl, t.co, ...     2 / 3
    s5 textblob_polarity  TextBlob polarity > 0.9      88 / 32

Differences from the tutorial that remain: training runs through
``bench.synthetic.train`` (Adam, grad clip 1.0, summed task losses, as snorkel's
``Trainer`` does, but the batch order comes from ``torch.randperm`` instead of a
shuffling ``DataLoader``, and the weights are drawn after ``torch.manual_seed`` rather
than by ``fit(seed=...)``), so single seeds differ from the tutorial's table; its
vanilla net is a snorkel ``MultitaskClassifier`` and ours is the same network in plain
torch.

SF membership is the truth on both; slices are scored on the test rows their SF
selects. Contenders as in ``bench/geometries.py``: VANILLA (backbone plus a linear
head), ``snorkel.slicing.SliceAwareClassifier``, ours (``slicing.SliceAwareClassifier``,
defaults) and, with ``--contenders``, the variants of ours in
``bench.geometries.VARIANTS``, on the same backbone and training loop. F1 x 100 on the
test rows, mean ± std over seeds, and issue 17's targets for each variant of ours.

    flock /tmp/slicing-bench.lock python -m bench.real_data --seeds 5 --jobs 2
    python -m bench.real_data --quick --no-write          # smoke test
"""

import argparse
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from bench import real_data_spam as spam
from bench.geometries import (
    SPREAD_TEST_NOTE,
    VARIANTS,
    Result,
    table,
    targets,
    targets_table,
)
from bench.report import machine_line, markdown_table, write_section
from bench.synthetic import Data, f1_scores, map_jobs, train
from bench.synthetic import build as synthetic_build
from slicing import PandasSFApplier, slicing_function
from slicing.matrix import slice_matrix_to_array

HIDDEN = 32
VALIDATION_FRACTION = 0.2  # fair: of the training rows, to pick the epoch
PATIENCE = 10  # epochs without a better validation F1 before stopping
TARGET = "affairs"
CONTENDERS: dict[str, dict] = {"VANILLA": {}, "snorkel.slicing": {}, "ours": {}}


# ----------------------------------------------------------------------------- SFs
@slicing_function()
def unhappy_marriage(x: Any) -> bool:
    """Rates her marriage poor or very poor."""
    return x.rate_marriage <= 2


@slicing_function()
def many_children(x: Any) -> bool:
    """Four or more children."""
    return x.children >= 4


@slicing_function()
def very_religious(x: Any) -> bool:
    """Strongly religious (the top of the four levels)."""
    return x.religious == 4


@slicing_function()
def grad_school(x: Any) -> bool:
    """Some graduate school or an advanced degree (17+ years of education)."""
    return x.educ >= 17


SFS = [unhappy_marriage, many_children, very_religious, grad_school]
RULES = {  # for the report
    "unhappy_marriage": "rate_marriage <= 2",
    "many_children": "children >= 4",
    "very_religious": "religious == 4",
    "grad_school": "educ >= 17",
}
SLICE_NAMES = [f"s{j + 1}" for j in range(len(SFS))]
SLICE_NAMES_SPAM = [f"s{j + 1}" for j in range(len(spam.SFS))]


# ---------------------------------------------------------------------------- data
@functools.cache
def load_fair() -> tuple[pd.DataFrame, np.ndarray]:
    """The fair table (features only) and its SF matrix as an ``(n, k)`` bool array."""
    from statsmodels.datasets import fair

    frame = fair.load_pandas().data.astype(float)
    S = PandasSFApplier(SFS).apply(frame, progress_bar=False)
    return frame, slice_matrix_to_array(S, copy=True)


def stratified_split(
    Y: np.ndarray, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Train and test row indices with the class balance of ``Y`` in both."""
    rng = np.random.default_rng(seed)
    test = []
    for label in np.unique(Y):
        rows = rng.permutation(np.flatnonzero(Y == label))
        test.append(rows[: int(round(test_fraction * len(rows)))])
    test_rows = np.sort(np.concatenate(test))
    return np.setdiff1d(np.arange(len(Y)), test_rows), test_rows


def make_split(seed: int, test_fraction: float) -> tuple[Data, Data]:
    """Standardised (on train) train and test ``Data``; SF membership is the truth."""
    frame, slices = load_fair()
    Y = (frame[TARGET].to_numpy() > 0).astype(np.int64)
    X = frame.drop(columns=TARGET).to_numpy()
    train_rows, test_rows = stratified_split(Y, test_fraction, seed)
    mean, std = X[train_rows].mean(axis=0), X[train_rows].std(axis=0)
    X = (X - mean) / np.where(std > 0, std, 1.0)
    whole = Data(
        torch.tensor(X, dtype=torch.float32), torch.from_numpy(Y), slices, slices
    )
    return rows_of(whole, train_rows), rows_of(whole, test_rows)


def rows_of(data: Data, rows: np.ndarray) -> Data:
    """The rows ``rows`` of ``data``."""
    return Data(
        data.X[rows], data.Y[rows], data.true_slices[rows], data.sf_slices[rows]
    )


# ---------------------------------------------------------------------- contenders
def fair_backbone(n_features: int) -> nn.Module:
    return nn.Sequential(
        nn.Linear(n_features, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU()
    )


def build(
    name: str, options: dict, data: Data, backbone: Callable[[int], nn.Module]
) -> nn.Module:
    """A contender for ``data``'s width: ``bench.synthetic.build`` on its backbone."""
    return synthetic_build(
        name, data, options, body=backbone(data.X.shape[1]), width=HIDDEN
    )


# ------------------------------------------------------------------------ data sets
@dataclass(frozen=True)
class DataSet:
    """How to split, fit and describe one data set."""

    title: str
    make_split: Callable[[int], tuple[Data, Data]]  # seed -> train, test
    backbone: Callable[[int], nn.Module]  # n_features -> body of width HIDDEN
    epochs: int
    lr: float
    batch_size: int
    slices_table: Callable[[], str]
    about: str
    # share of the training rows held out to pick the epoch (early stopping); 0: none
    validation_fraction: float = 0.0


def data_sets(test_fraction: float) -> dict[str, DataSet]:
    fair_about = (
        "statsmodels' `fair` table (6,366 rows, target affairs > 0), stratified "
        f"{1 - test_fraction:.0%}/{test_fraction:.0%} train/test split per seed "
        "(features standardised on train), MLP backbone (2 layers of 32 units); "
        f"early stopping: {VALIDATION_FRACTION:.0%} of the training rows held out, "
        "the epoch with the best overall F1 on them kept, stop after "
        f"{PATIENCE} epochs without a better one"
    )
    spam_about = (
        "The YouTube spam comments shipped in `slicing.datasets`, set up as "
        "tutorial 1: bag of words (uni- and bigrams, fitted on train), its five SFs, "
        "train on videos 1-4 (1,586 rows), test on 250 rows of video 5 (fixed split; "
        "seeds vary init and batch order), backbone `Linear(vocabulary, 32)` + ReLU"
    )
    return {
        "fair": DataSet(
            "Fair's affairs (statsmodels `fair`)",
            functools.partial(make_split, test_fraction=test_fraction),
            fair_backbone,
            100,
            0.001,
            32,
            functools.partial(slices_table, test_fraction),
            fair_about,
            validation_fraction=VALIDATION_FRACTION,
        ),
        "spam": DataSet(
            "YouTube spam comments (tutorial 1)",
            spam.make_split,
            spam.backbone,
            spam.EPOCHS,
            spam.LR,
            spam.BATCH_SIZE,
            lambda: spam.slices_table(SLICE_NAMES_SPAM),
            spam_about,
        ),
    }


# --------------------------------------------------------------------------- runs
@dataclass(frozen=True)
class FittedRun:
    """One contender trained on one seed's split, with the rows it was scored on."""

    model: nn.Module
    test: Data
    validation: Data | None  # the rows that picked the epoch, if any
    seconds: float


def fit_one(
    data_set: str,
    name: str,
    options: dict,
    seed: int,
    epochs: int,
    lr: float,
    batch_size: int,
    test_fraction: float,
) -> FittedRun:
    """Train one contender on one seed's split (early stopping where the set has it)."""
    torch.set_num_threads(1)
    logging.disable(logging.INFO)
    spec = data_sets(test_fraction)[data_set]
    train_data, test_data = spec.make_split(seed)
    validation = None
    if spec.validation_fraction:
        fit_rows, validation_rows = stratified_split(
            train_data.Y.numpy(), spec.validation_fraction, seed
        )
        train_data, validation = (
            rows_of(train_data, fit_rows),
            rows_of(train_data, validation_rows),
        )
    torch.manual_seed(seed)
    started = time.perf_counter()
    model = build(name, options, train_data, spec.backbone)
    train(model, train_data, epochs, lr, batch_size, validation, PATIENCE)
    return FittedRun(model, test_data, validation, time.perf_counter() - started)


def run_one(*job: Any) -> tuple[list[float], float]:
    """``fit_one``'s run scored: F1 (overall, per slice) on the test rows, seconds."""
    fitted = fit_one(*job)
    return f1_scores(fitted.model, fitted.test), fitted.seconds


def _run_job(job: tuple) -> tuple[list[float], float]:
    return run_one(*job)


def run(
    data_set: str,
    contenders: dict[str, dict],
    *,
    seeds: int,
    epochs: int,
    lr: float,
    batch_size: int,
    test_fraction: float,
    jobs: int,
    progress: Callable[[str], None],
) -> dict[str, Result]:
    runs = [
        (data_set, name, options, seed, epochs, lr, batch_size, test_fraction)
        for seed in range(seeds)
        for name, options in contenders.items()
    ]
    raw: dict[str, list[tuple[list[float], float]]] = {n: [] for n in contenders}
    for job, (f1, seconds) in map_jobs(_run_job, runs, jobs):
        raw[job[1]].append((f1, seconds))
        progress(
            f"{data_set} lr={lr} seed={job[3]} {job[1]}: F1 "
            + "/".join(f"{s:.1f}" for s in f1)
            + f" ({seconds:.0f} s)"
        )
    return {
        name: Result(
            np.array([f1 for f1, _ in outs]),
            np.empty((len(outs), 0)),
            [seconds for _, seconds in outs],
        )
        for name, outs in raw.items()
    }


def all_targets(results: dict[str, Result]) -> str:
    """Issue 17's targets for every variant of ours, each in the place of ``ours``."""
    parts = []
    vanilla = results.get("VANILLA")
    if vanilla is not None:
        overall, slices = vanilla.f1[:, 0].mean(), vanilla.slice_mean.mean()
        if slices < 60 and slices >= overall - 5:
            parts.append(
                f"VANILLA's mean slice F1 ({slices:.1f}) is below 60 but no worse "
                f"than its overall F1 ({overall:.1f}): the whole table is hard, the "
                "slices are not where the plain network fails, so the target "
                "'slice F1 >= VANILLA + 15' measures nothing a slice-aware model "
                "could fix here; it is reported as measured."
            )
    for name in results:
        if name.startswith("ours"):
            checks = targets({**results, "ours": results[name]})
            parts.append(f"Targets, {name}:\n\n{targets_table(checks)}")
    return "\n\n".join(parts)


def slices_table(test_fraction: float) -> str:
    """Each SF's column, name, coverage and share of positives among its rows."""
    frame, slices = load_fair()
    positive = frame[TARGET].to_numpy() > 0
    rows = [
        [
            column,
            f"`{sf.name}`",
            f"`{RULES[sf.name]}`",
            f"{slices[:, j].mean():.1%}",
            f"~{slices[:, j].sum() * test_fraction:.0f}",
            f"{positive[slices[:, j]].mean():.0%}",
        ]
        for j, (column, sf) in enumerate(zip(SLICE_NAMES, SFS, strict=True))
    ]
    n_test = len(frame) * test_fraction
    rows.append(["all", "", "", "100%", f"~{n_test:.0f}", f"{positive.mean():.0%}"])
    return markdown_table(
        ["slice", "SF", "rule", "coverage", "test rows", "affairs > 0"], rows
    )


def quoted_names(names: list[str]) -> str:
    """Contender names as shell arguments: quoted where they hold spaces.

    >>> print(quoted_names(["ours", "ours, balance power 0.5"]))
    ours "ours, balance power 0.5"
    """
    return " ".join(
        name if name.isidentifier() or name in CONTENDERS else f'"{name}"'
        for name in names
    )


def reproduce_line(seeds: int, jobs: int, names: list[str]) -> str:
    """The command that measured ``names``, and what each variant of ours sets.

    >>> print(reproduce_line(10, 2, ["ours", "ours, balance power 0.5"]))
    Reproduce: `python -m bench.real_data --seeds 10 --jobs 2 --contenders ours "ours, balance power 0.5"`. Variants of ours (`bench.geometries.VARIANTS`, the other options at their defaults): `ours, balance power 0.5`: `balance_indicators=0.5`.
    """  # noqa: E501
    line = f"Reproduce: `python -m bench.real_data --seeds {seeds} --jobs {jobs} --contenders {quoted_names(names)}`."
    variants = [
        f"`{name}`: `"
        + ", ".join(
            f"{key}={getattr(value, '__name__', None) or repr(value)}"
            for key, value in VARIANTS[name].items()
        )
        + "`"
        for name in names
        if name in VARIANTS
    ]
    if variants:
        line += (
            " Variants of ours (`bench.geometries.VARIANTS`, the other options at "
            f"their defaults): {'; '.join(variants)}."
        )
    return line


def arguments(
    doc: str, contenders: list[str], seeds: int, section: str
) -> argparse.ArgumentParser:
    """The options every real-data bench takes (data sets, contenders, seeds, ...)."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--datasets", nargs="+", default=["fair", "spam"], choices=["fair", "spam"]
    )
    parser.add_argument(
        "--contenders",
        nargs="+",
        default=contenders,
        choices=list(CONTENDERS) + list(VARIANTS),
    )
    parser.add_argument("--seeds", type=int, default=seeds)
    parser.add_argument("--test-fraction", type=float, default=0.3, help="fair only")
    parser.add_argument(
        "--jobs", type=int, default=1, help="worker processes (one thread each)"
    )
    parser.add_argument(
        "--no-write", action="store_true", help="do not write BENCHMARKS.md"
    )
    parser.add_argument("--section", default=section)
    return parser


def main() -> None:
    parser = arguments(__doc__, list(CONTENDERS), 5, "real-data")
    parser.add_argument(
        "--epochs", type=int, help="for every data set (default: its own, 100 / 10)"
    )
    parser.add_argument(
        "--lr", type=float, help="for every data set (default: its own, 0.001)"
    )
    parser.add_argument(
        "--batch-size", type=int, help="for every data set (default: its own, 32)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="2 seeds, at most 10 epochs"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    logging.disable(logging.INFO)
    contenders = {name: {**CONTENDERS, **VARIANTS}[name] for name in args.contenders}
    specs = data_sets(args.test_fraction)
    load_fair()  # once, before any fork
    spam.load()

    started, sections = time.perf_counter(), []
    for data_set in args.datasets:
        spec = specs[data_set]
        epochs = args.epochs or spec.epochs
        if args.quick:
            args.seeds, epochs = 2, min(epochs, 10)
        lr, batch_size = args.lr or spec.lr, args.batch_size or spec.batch_size
        results = run(
            data_set,
            contenders,
            seeds=args.seeds,
            epochs=epochs,
            lr=lr,
            batch_size=batch_size,
            test_fraction=args.test_fraction,
            jobs=args.jobs,
            progress=print,
        )
        title = f"### {spec.title}"
        body = (
            f"{spec.about}; {'at most ' if spec.validation_fraction else ''}"
            f"{epochs} epochs, lr {lr}, batch {batch_size}.\n\n"
            f"{spec.slices_table()}\n\n{table(results, False)}\n\n"
            f"{all_targets(results)}"
        )
        print(f"\n{title}\n\n{body}\n", flush=True)
        sections.append(f"{title}\n\n{body}")
    minutes = (time.perf_counter() - started) / 60
    print(f"wall time {minutes:.1f} min", flush=True)
    header = (
        "## Real data (`bench/real_data.py`)\n\n"
        f"{machine_line()} {args.seeds} seeds, Adam, grad clip 1.0, "
        "`torch.set_num_threads(1)`, the training loop of `bench/synthetic.py`; "
        f"{minutes:.0f} min wall time. F1 x 100 on the test rows, mean ± std over "
        "seeds; slices scored on the test rows their SF selects. Issue 17's targets "
        "are checked for each variant of ours in the place of `ours`. "
        f"{SPREAD_TEST_NOTE}\n\n"
        f"{reproduce_line(args.seeds, args.jobs, list(contenders))}\n\n"
    )
    if not args.no_write:
        write_section(args.section, header + "\n\n".join(sections))


if __name__ == "__main__":
    main()
