"""Benchmark: slice discovery (``slicing.discover``) against the ``sliceline`` package.

Four parts, all in one run, written to the ``discovery`` section of BENCHMARKS.md:

- correctness: on small random data, our top-k equals an exhaustive enumeration
  (the oracle of ``test/discover/test_search.py``) and ``sliceline``'s top-k scores;
- recall (refinement off, as planted slices sit on bin edges and are matched by
  name; ``bench/discovery_tabular.py`` measures refinement): synthetic tabular data (categorical, numeric and bool columns) with 1 to 3
  planted slices (conjunctions of 1-2 predicates, 1-5% of rows each, error rate
  ``--planted-error`` against ``--base-error`` elsewhere); over ``--seeds`` seeds,
  the share of planted slices found in the top 5, for us and for ``sliceline`` on
  the same binned features, with times;
- scale: rows x 20 columns (10 categorical, 10 numeric binned in 5), for each
  ``--scale`` configuration (rows:level; by default 1,000,000 rows at levels 3 and
  2, 100,000 at level 2, 10,000 at level 3, and ours alone on 10,000,000 rows at
  level 3), top 10: seconds and peak memory growth of ours (pandas), ours
  (Dask, 2 threads) and ``sliceline``, each in a fresh Python process (timeout
  ``--timeout`` seconds, address space capped at 16 GiB) on the same input;
- end to end: on the spam data, out-of-fold errors of a bag-of-words MLP baseline on
  the training set, slices discovered from them, the top ones fed as SFs to
  ``SliceAwareClassifier``; per-slice F1 on the test set before and after.

``sliceline`` is given our binned features as integer codes (it one-hot encodes
every column itself), so both search the same predicates. Run under the shared lock:

    flock /tmp/slicing-bench.lock python bench/discovery.py [--quick]
"""

import argparse
import json
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import PeakMemory, machine_line, markdown_table, write_section  # noqa: E402
from slicing.discover.naming import readable_name  # noqa: E402
from slicing.discover.predicates import PredicateSpace, build_predicate_space  # noqa: E402
from slicing.discover.search import find_slices  # noqa: E402
from test.discover.test_search import exhaustive_top_slices, random_frame  # noqa: E402

ALPHA = 0.98  # set by --alpha
MEMORY_CAP = 16 * 2**30
TOP = 5


# ----------------------------------------------------------------- synthetic data
def make_tabular(
    seed: int, n_rows: int, n_categorical: int, n_numeric: int, n_bool: int
) -> pd.DataFrame:
    """Categorical columns with skewed value shares, normal numbers, bools."""
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {}
    for index in range(n_categorical):
        n_values = 4 + index % 9
        shares = rng.dirichlet(np.full(n_values, 0.7))
        values = rng.choice(n_values, size=n_rows, p=shares)
        columns[f"cat{index}"] = np.array([f"v{v}" for v in range(n_values)])[values]
    for index in range(n_numeric):
        columns[f"num{index}"] = rng.normal(size=n_rows).round(3)
    for index in range(n_bool):
        columns[f"flag{index}"] = rng.random(n_rows) < rng.uniform(0.2, 0.8)
    return pd.DataFrame(columns)


def plant_slices(
    space: PredicateSpace,
    codes: np.ndarray,
    n_planted: int,
    rng: np.random.Generator,
) -> list[tuple[int, ...]]:
    """Random conjunctions of 1-2 predicates covering 1-5% of rows, barely overlapping."""
    n_rows = len(codes)
    memberships = (codes[:, space.feature_of] == space.local_code).T  # (P, n)
    planted: list[tuple[int, ...]] = []
    taken = np.zeros(n_rows, dtype=bool)
    while len(planted) < n_planted:
        level = int(rng.integers(1, 3))
        ids = tuple(sorted(rng.choice(len(space.predicates), level, replace=False)))
        if len(set(space.feature_of[list(ids)])) < level:
            continue
        inside = np.logical_and.reduce(memberships[list(ids)])
        share = inside.mean()
        if 0.01 <= share <= 0.05 and (inside & taken).sum() < 0.1 * inside.sum():
            planted.append(ids)
            taken |= inside
    return planted


def planted_errors(
    space: PredicateSpace,
    codes: np.ndarray,
    planted: list[tuple[int, ...]],
    base_error: float,
    planted_error: float,
    rng: np.random.Generator,
) -> np.ndarray:
    memberships = (codes[:, space.feature_of] == space.local_code).T
    hard = np.zeros(len(codes), dtype=bool)
    for ids in planted:
        hard |= np.logical_and.reduce(memberships[list(ids)])
    rates = np.where(hard, planted_error, base_error)
    return (rng.random(len(codes)) < rates).astype(np.float64)


# -------------------------------------------------------------------- contenders
def ours(
    frame: pd.DataFrame,
    errors: np.ndarray,
    space: PredicateSpace,
    min_support: int,
    max_level: int,
    top_k: int,
    drop_redundant: bool = True,
    refine: bool = False,
) -> tuple[list[str], list[float]]:
    result = find_slices(
        frame,
        errors,
        space=space,
        min_support=min_support,
        max_level=max_level,
        top_k=top_k,
        error_weight=ALPHA,
        drop_redundant=drop_redundant,
        progress_bar=False,
        refine=refine,
    )
    return [item.name for item in result], [item.score for item in result]


def sliceline(
    codes: np.ndarray,
    errors: np.ndarray,
    space: PredicateSpace,
    min_support: int,
    max_level: int,
    top_k: int,
) -> tuple[list[str], list[float]]:
    from sliceline import Slicefinder

    finder = Slicefinder(
        alpha=ALPHA, k=top_k, max_l=max_level, min_sup=min_support, verbose=False
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        finder.fit(codes, errors)
    names = []
    for row in finder.top_slices_:
        predicates = [
            space.features[feature].predicates[int(code)]
            for feature, code in enumerate(row)
            if code is not None and int(code) < space.cardinalities[feature]
        ]
        names.append(readable_name(predicates))
    scores = [stats["slice_score"] for stats in finder.top_slices_statistics_]
    return names, scores


# -------------------------------------------------------------------- correctness
def correctness(n_seeds: int) -> str:
    agree_oracle = agree_sliceline = 0
    for seed in range(n_seeds):
        frame, errors = random_frame(seed)
        space = build_predicate_space(frame, n_bins=3)
        for drop_redundant in (True, False):
            _, our_scores = ours(frame, errors, space, 8, 3, 7, drop_redundant)
            expected = exhaustive_top_slices(
                space, frame, errors, 8, 3, 7, ALPHA, drop_redundant
            )
            agree_oracle += bool(
                len(expected) == len(our_scores)
                and np.allclose(our_scores, [score for score, _ in expected])
            )
        _, our_scores = ours(frame, errors, space, 8, 3, 7, drop_redundant=False)
        _, their_scores = sliceline(space.encode(frame), errors, space, 8, 3, 7)
        agree_sliceline += bool(
            len(their_scores) == len(our_scores)
            and np.allclose(our_scores, their_scores)
        )
    return (
        f"Correctness ({n_seeds} random data sets of 300 rows x 4 columns, level 3, "
        f"top 7, min support 8, alpha {ALPHA}): our top-k scores equal the exhaustive "
        f"enumeration's in {agree_oracle}/{2 * n_seeds} cases (with and without "
        f"`drop_redundant`), and with `drop_redundant=False` (SliceLine's ranking) "
        f"equal sliceline's in {agree_sliceline}/{n_seeds}."
    )


# ------------------------------------------------------------------------ recall
def recall(
    n_seeds: int, n_rows: int, max_level: int, base_error: float, planted_error: float
) -> str:
    rows = []
    contenders = ["ours", "ours, SliceLine ranking", "sliceline"]
    found = dict.fromkeys(contenders, 0)
    seconds = dict.fromkeys(contenders, 0.0)
    total = 0
    min_support = int(0.005 * n_rows)
    for seed in range(n_seeds):
        rng = np.random.default_rng(1000 + seed)
        frame = make_tabular(seed, n_rows, n_categorical=5, n_numeric=3, n_bool=2)
        space = build_predicate_space(frame)
        codes = space.encode(frame)
        planted = plant_slices(space, codes, 1 + seed % 3, rng)
        errors = planted_errors(space, codes, planted, base_error, planted_error, rng)
        planted_names = [
            readable_name([space.predicates[i] for i in ids]) for ids in planted
        ]
        runs: dict[str, Callable[[], tuple[list[str], list[float]]]] = {
            "ours": partial(ours, frame, errors, space, min_support, max_level, TOP),
            "ours, SliceLine ranking": partial(
                ours, frame, errors, space, min_support, max_level, TOP, False
            ),
            "sliceline": partial(
                sliceline, codes, errors, space, min_support, max_level, TOP
            ),
        }
        hits = {}
        for name, run in runs.items():
            started = time.perf_counter()
            top_names, _ = run()
            seconds[name] += time.perf_counter() - started
            hits[name] = sum(
                planted_name in top_names for planted_name in planted_names
            )
            found[name] += hits[name]
        total += len(planted)
        rows.append(
            [seed, "; ".join(f"`{name}`" for name in planted_names)]
            + [f"{hits[name]}/{len(planted)}" for name in contenders]
        )
    table = markdown_table(
        ["seed", "planted slices", *[f"{name}: in top 5" for name in contenders]], rows
    )
    summary = markdown_table(
        ["contender", "recall (planted in top 5)", "total seconds"],
        [
            [
                name,
                f"{found[name]}/{total} = {found[name] / total:.0%}",
                f"{seconds[name]:.2f}",
            ]
            for name in found
        ],
    )
    return (
        f"Recall: {n_seeds} seeds, {n_rows:,} rows x 10 columns (5 categorical, 3 "
        f"numeric in 5 quantile bins, 2 bool), 1-3 planted slices per seed, error "
        f"rate {planted_error} in planted slices and {base_error} elsewhere; level "
        f'{max_level}, top {TOP}, alpha {ALPHA}, min support 0.5% of rows. "ours" '
        f"drops slices that a more general slice outranks (`drop_redundant=True`, "
        f'the default); "SliceLine ranking" does not, like sliceline.\n\n'
        f"{summary}\n\n{table}"
    )


# ------------------------------------------------------------------------- scale
def scale_data(n_rows: int) -> tuple[pd.DataFrame, np.ndarray]:
    frame = make_tabular(7, n_rows, n_categorical=10, n_numeric=10, n_bool=0)
    rng = np.random.default_rng(7)
    hard = (frame.cat0 == "v1") & (frame.num0 > 1.0)
    errors = (rng.random(n_rows) < np.where(hard, 0.5, 0.1)).astype(np.float64)
    return frame, errors


def run_scale_contender(name: str, n_rows: int, max_level: int) -> None:
    """Run one contender in this process and print a JSON line with its figures."""
    frame, errors = scale_data(n_rows)
    space = build_predicate_space(frame)
    min_support = int(0.001 * n_rows)
    if name == "sliceline":
        codes = space.encode(frame)
        del frame

        def run() -> object:
            return sliceline(codes, errors, space, min_support, max_level, 10)

    elif name == "ours":

        def run() -> object:
            return ours(
                frame, errors, space, min_support, max_level, 10, False, refine=True
            )

    else:
        import dask.dataframe as dd

        frame["error"] = errors
        ddf = dd.from_pandas(frame, npartitions=4)

        def run() -> object:
            result = find_slices(
                ddf,
                "error",
                space=space,
                min_support=min_support,
                max_level=max_level,
                top_k=10,
                error_weight=ALPHA,
                drop_redundant=False,
                progress_bar=False,
                scheduler="threads",
            )
            return [item.name for item in result], [item.score for item in result]

    with PeakMemory() as memory:
        started = time.perf_counter()
        names, scores = run()  # type: ignore[misc]
        seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": seconds,
                "growth": memory.growth,
                "names": names,
                "scores": scores,
            }
        )
    )


def limit_memory() -> None:
    """Cap a contender's address space, so a huge allocation fails in that process
    instead of waking the OOM killer on a machine shared with other jobs."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def scale_run(
    name: str, n_rows: int, max_level: int, timeout: float
) -> tuple[list, dict | None]:
    command = [
        sys.executable,
        __file__,
        "--contender",
        name,
        "--alpha",
        str(ALPHA),
        "--scale-rows",
        str(n_rows),
        "--scale-level",
        str(max_level),
    ]
    label = [name, max_level]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=limit_memory,
        )
    except subprocess.TimeoutExpired:
        return [*label, f"> {timeout:.0f} (timed out)", "", ""], None
    if done.returncode != 0:
        error = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "?"
        return [*label, "failed", "", error], None
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    row = [
        *label,
        f"{figures['seconds']:.2f}",
        f"{figures['growth'] / 2**20:.0f} MiB",
        "",
    ]
    return row, figures


def scale(
    configurations: list[tuple[int, int]], timeout: float, sliceline_max_rows: int
) -> str:
    """Time every contender on each (rows, level) configuration."""
    rows = []
    notes = []
    for n_rows, max_level in configurations:
        results: dict[str, dict] = {}
        for name in ["ours", "ours_dask", "sliceline"]:
            if name == "sliceline" and n_rows > sliceline_max_rows:
                note = f"not run above {sliceline_max_rows:,} rows"
                rows.append([f"{n_rows:,}", name, max_level, "", "", note])
                continue
            row, figures = scale_run(name, n_rows, max_level, timeout)
            rows.append([f"{n_rows:,}", *row])
            print(rows[-1], flush=True)
            if figures is not None:
                results[name] = figures
        notes.append(f"{n_rows:,} rows, " + scale_agreement(results, max_level))
    return (
        "Scale: rows x 20 columns (10 categorical with 4-12 values, 10 numeric in 5 "
        f"quantile bins; one planted slice), top 10, alpha {ALPHA}, min support 0.1% "
        "of rows; ours with `drop_redundant=False` (SliceLine's ranking, so the "
        "outputs are comparable) and threshold refinement on (the default: refined "
        "slices score at least as high as the binned ones); each contender in a fresh process with its address "
        f"space capped at {MEMORY_CAP / 2**30:.0f} GiB, input built before timing; "
        "peak memory growth is peak RSS minus RSS at the start of the search. Dask: "
        "4 partitions, threaded scheduler (2 cores).\n\n"
        + markdown_table(
            ["rows", "contender", "level", "seconds", "peak memory growth", "note"],
            rows,
        )
        + "\n\n"
        + "\n".join(f"- {note}" for note in notes)
    )


def scale_agreement(results: dict[str, dict], max_level: int) -> str:
    notes = []
    if "ours" in results and "sliceline" in results:
        ours_scores, their_scores = (
            results["ours"]["scores"],
            results["sliceline"]["scores"],
        )
        # Refinement only raises scores: ours rank for rank at least sliceline's.
        dominates = len(ours_scores) >= len(their_scores) and all(
            a >= b - 1e-9 for a, b in zip(ours_scores, their_scores)
        )
        notes.append(
            f"each of our (refined) top-10 scores >= sliceline's at its rank: {dominates}"
        )
    if "ours" in results and "ours_dask" in results:
        same = results["ours"]["names"] == results["ours_dask"]["names"]
        notes.append(f"ours on pandas and on Dask give the same slices: {same}")
    if "ours" in results:
        notes.append(f"our top 2: {results['ours']['names'][:2]}")
    return f"level {max_level}: " + "; ".join(notes) + "."


# --------------------------------------------------------------------- end to end
SPAM_HIDDEN = 32
SPAM_SUPPORT = 40


def spam_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns to discover slices on: length, links, hour, and the text.

    Not the video: the test comments all come from a video absent from training.
    """
    text = frame.text.astype(str)
    return pd.DataFrame(
        {
            "n_words": text.str.split().str.len().to_numpy(),
            "has_link": text.str.contains(r"http|www\.|\.com", regex=True).to_numpy(),
            "hour": frame.date.dt.hour.to_numpy(dtype=float, na_value=np.nan),
            "text": text.to_numpy(),
        },
        index=frame.index,
    )


def train_model(
    X: Any,
    Y: np.ndarray,
    S: np.recarray | None,
    slice_names: list[str],
    seed: int,
    epochs: int,
) -> object:
    import torch
    from snorkel.classification import DictDataset
    from torch import nn

    from slicing.model.classifier import SliceAwareClassifier

    torch.manual_seed(seed)
    backbone = nn.Sequential(nn.Linear(X.shape[1], SPAM_HIDDEN), nn.ReLU())
    model = SliceAwareClassifier(
        backbone, head_dim=SPAM_HIDDEN, slice_names=slice_names
    )
    dataset = DictDataset.from_tensors(X, torch.as_tensor(Y.copy()), split="train")
    loader = model.make_slice_dataloader(dataset, S, batch_size=32, shuffle=True)
    model.fit([loader], n_epochs=epochs, lr=0.01, seed=seed, progress_bar=False)
    return model


def spam_end_to_end(quick: bool) -> str:
    import logging

    import torch
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    from slicing.apply.pandas import PandasSFApplier
    from slicing.datasets import load_spam

    logging.getLogger().setLevel(logging.WARNING)
    torch.set_num_threads(1)
    train, _, _, test = load_spam()
    epochs, seeds, n_slices = (5, [0], 3) if quick else (10, [0, 1, 2], 3)
    vectorizer = CountVectorizer(binary=True, min_df=2).fit(train.text)

    def features(frame: pd.DataFrame) -> Any:
        return torch.as_tensor(
            vectorizer.transform(frame.text).toarray(), dtype=torch.float32
        )

    X_train, X_test = features(train), features(test)
    Y_train, Y_test = train.label.to_numpy(), test.label.to_numpy()

    # Out-of-fold errors of the baseline: every training row judged by a model that
    # did not see it.
    oof_errors = np.zeros(len(train))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    for fit_rows, held_rows in folds.split(X_train, Y_train):
        fold_model = train_model(
            X_train[fit_rows], Y_train[fit_rows], None, [], 0, epochs
        )
        held_preds = fold_model.predict(X_train[held_rows])  # type: ignore[attr-defined]
        oof_errors[held_rows] = held_preds != Y_train[held_rows]

    columns_train, columns_test = spam_columns(train), spam_columns(test)
    started = time.perf_counter()
    discovered = find_slices(
        columns_train,
        oof_errors,
        text_columns=["text"],
        min_support=SPAM_SUPPORT,
        max_level=2,
        top_k=n_slices,
        progress_bar=False,
    )
    discovery_seconds = time.perf_counter() - started
    sfs = discovered.to_sfs(name_style="identifier")
    slice_names = [sf.name for sf in sfs]
    applier = PandasSFApplier(sfs)
    S_train = applier.apply(columns_train, progress_bar=False)
    S_test = applier.apply(columns_test, progress_bar=False)

    f1_before = {name: [] for name in ["overall", *slice_names]}
    f1_after = {name: [] for name in ["overall", *slice_names]}
    for seed in seeds:
        baseline = train_model(X_train, Y_train, None, [], seed, epochs)
        aware = train_model(X_train, Y_train, S_train, slice_names, seed, epochs)
        for model, scores in [(baseline, f1_before), (aware, f1_after)]:
            preds = model.predict(X_test)  # type: ignore[attr-defined]
            scores["overall"].append(f1_score(Y_test, preds))
            for name in slice_names:
                inside = S_test[name]
                scores[name].append(
                    f1_score(Y_test[inside], preds[inside], zero_division=0.0)
                    if inside.any()
                    else np.nan
                )

    def f1_cell(values: list[float]) -> str:
        return (
            "n/a (no rows)" if np.isnan(values).all() else f"{np.nanmean(values):.3f}"
        )

    rows = [
        [
            "overall",
            len(train),
            f"{oof_errors.mean():.3f}",
            len(test),
            int((Y_test == 1).sum()),
            f1_cell(f1_before["overall"]),
            f1_cell(f1_after["overall"]),
        ]
    ]
    for item, name in zip(discovered, slice_names):
        rows.append(
            [
                f"`{item.name}`",
                item.size,
                f"{item.error:.3f} ({item.error_lift:.1f}x)",
                int(S_test[name].sum()),
                int((S_test[name] & (Y_test == 1)).sum()),
                f1_cell(f1_before[name]),
                f1_cell(f1_after[name]),
            ]
        )
    return (
        f"End to end (spam): baseline = bag-of-words (binary counts, min_df 2) -> "
        f"Linear({X_train.shape[1]}, {SPAM_HIDDEN}) + ReLU, trained {epochs} epochs "
        f"(Adam, lr 0.01, batch 32); its 5-fold out-of-fold errors on the 1,586 "
        f"training comments ({oof_errors.mean():.1%} error) go to `find_slices` over "
        f"n_words, has_link, hour and the 20 most frequent tokens (level 2, min "
        f"support {SPAM_SUPPORT}, {discovery_seconds:.2f} s; not the video: all test "
        f"comments are from a fifth video); the top {n_slices} become SFs "
        f"(identifier names) for `SliceAwareClassifier` on the same backbone. F1 on "
        f"the 250 test comments, mean over seeds {seeds}; slices on the test set are "
        f"small, so per-slice F1 is noisy.\n\n"
        + markdown_table(
            [
                "slice",
                "train rows",
                "train OOF error (lift)",
                "test rows",
                "test spam rows",
                "test F1 before (baseline)",
                "test F1 after (slice-aware)",
            ],
            rows,
        )
    )


# ------------------------------------------------------------------------- main
def main() -> None:
    global ALPHA
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, minutes")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--alpha", type=float, default=ALPHA, help="error weight")
    parser.add_argument("--recall-rows", type=int, default=50_000)
    parser.add_argument("--recall-level", type=int, default=3)
    parser.add_argument("--base-error", type=float, default=0.1)
    parser.add_argument("--planted-error", type=float, default=0.4)
    parser.add_argument("--scale-rows", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--scale-level", type=int, help=argparse.SUPPRESS)
    parser.add_argument(
        "--scale",
        default="1000000:3,1000000:2,100000:2,10000:3,10000000:3",
        help="rows:level configurations to time, comma-separated",
    )
    parser.add_argument(
        "--sliceline-max-rows",
        type=int,
        default=1_000_000,
        help="skip sliceline on larger inputs (it fails at 1,000,000 rows)",
    )
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--parts", default="correctness,recall,scale,spam")
    parser.add_argument("--contender", help=argparse.SUPPRESS)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    ALPHA = args.alpha
    if args.contender:
        run_scale_contender(args.contender, args.scale_rows, args.scale_level)
        return
    if args.quick:
        args.seeds, args.recall_rows, args.scale = 3, 10_000, "50000:3,20000:2"
    parts = args.parts.split(",")
    sections = [f"## Slice discovery (`bench/discovery.py`)\n\n{machine_line()}"]
    if "correctness" in parts:
        sections.append(correctness(20 if not args.quick else 5))
        print(sections[-1], flush=True)
    if "recall" in parts:
        sections.append(
            recall(
                args.seeds,
                args.recall_rows,
                args.recall_level,
                args.base_error,
                args.planted_error,
            )
        )
        print(sections[-1], flush=True)
    if "scale" in parts:
        configurations = [
            (int(rows), int(level))
            for rows, level in (item.split(":") for item in args.scale.split(","))
        ]
        sections.append(scale(configurations, args.timeout, args.sliceline_max_rows))
        print(sections[-1], flush=True)
    if "spam" in parts:
        sections.append(spam_end_to_end(quick=args.quick))
        print(sections[-1], flush=True)
    command = " ".join(["python bench/discovery.py", *sys.argv[1:]])
    sections.append(f"Reproduce: `flock /tmp/slicing-bench.lock {command}`.")
    if not args.no_write:
        write_section("discovery", "\n\n".join(sections))


if __name__ == "__main__":
    main()
