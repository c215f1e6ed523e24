"""Benchmark: slices with thresholds off the quantile-bin edges, and FP/FN slices.

A generator unlike ``bench/discovery.py``'s: Zipf-skewed categories, lognormal,
exponential, bimodal, uniform-share and count columns, a flag; per seed 2 planted
slices of 2-3 predicates covering 1-4% of the rows (apart: no shared rows, and no
two testing one categorical value with adjacent ranges on a column), with numeric thresholds (one- or
two-sided) drawn away from the 5-quantile-bin edges; noisy 0/1 errors (a base rate
that drifts with two columns, a higher rate inside the planted slices). A planted
slice is *found* when one of a contender's top 5 slices has row-Jaccard >= 0.5
with it. Contenders on the same data and the same binned predicates: ours with
refinement (the default), ours without (``refine=False``), and the ``sliceline``
package (fed our bin codes, as in ``bench/discovery.py``).

Second part, error types: binary labels and predictions with a planted
false-positive slice and a planted false-negative slice; ``find_slices`` with
``error_type="false_positive"`` / ``"false_negative"`` should rank its own slice
first and leave the other out of its top 5.

Writes the ``discovery_tabular`` section of BENCHMARKS.md. Run under the shared lock:

    flock /tmp/slicing-bench.lock python bench/discovery_tabular.py [--quick]
"""

import argparse
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import machine_line, markdown_table, write_section  # noqa: E402
from slicing.discover.predicates import PredicateSpace, build_predicate_space  # noqa: E402
from slicing.discover.scoring import sliceline_score  # noqa: E402
from slicing.discover.search import find_slices  # noqa: E402

ALPHA = 0.98
TOP = 5
JACCARD = 0.5
#: Quantile-bin edges of the default 5 bins; planted thresholds stay away from them.
BIN_EDGES = np.array([0.2, 0.4, 0.6, 0.8])
EDGE_MARGIN = 0.04


# ----------------------------------------------------------------- synthetic data
def skewed_frame(rng: np.random.Generator, n_rows: int) -> pd.DataFrame:
    """Zipf categories and skewed numbers: lognormal, exponential, bimodal, counts."""
    columns: dict[str, np.ndarray] = {}
    for index, n_values in enumerate([6, 12, 25, 40]):
        exponent = rng.uniform(1.0, 1.6)
        shares = 1 / np.arange(1, n_values + 1) ** exponent
        values = rng.choice(n_values, size=n_rows, p=shares / shares.sum())
        columns[f"cat{index}"] = np.array([f"c{v}" for v in range(n_values)])[values]
    columns["amount"] = rng.lognormal(3.0, 1.0, n_rows).round(2)
    columns["wait"] = rng.exponential(2.0, n_rows).round(3)
    modes = rng.random(n_rows) < 0.6
    columns["score"] = np.where(
        modes, rng.normal(-1.0, 0.5, n_rows), rng.normal(2.0, 0.8, n_rows)
    ).round(3)
    columns["share"] = rng.beta(2.0, 5.0, n_rows).round(4)
    columns["n_items"] = rng.negative_binomial(3, 0.25, n_rows)
    columns["age"] = rng.normal(40, 12, n_rows).round(0)
    columns["flag"] = rng.random(n_rows) < 0.3
    return pd.DataFrame(columns)


NUMERIC = ["amount", "wait", "score", "share", "n_items", "age"]
CATEGORICAL = ["cat0", "cat1", "cat2", "cat3"]


@dataclass
class Planted:
    """A planted slice: its text, rows, and per column its value or quantile levels."""

    description: str
    mask: np.ndarray
    parts: dict[str, str | tuple[float, float]]


def off_edge_quantile(rng: np.random.Generator, low: float, high: float) -> float:
    """A quantile level in [low, high] at least ``EDGE_MARGIN`` from every bin edge."""
    while True:
        level = rng.uniform(low, high)
        if np.abs(BIN_EDGES - level).min() >= EDGE_MARGIN:
            return float(level)


def numeric_predicate(
    rng: np.random.Generator, frame: pd.DataFrame, column: str
) -> tuple[str, np.ndarray, tuple[float, float]]:
    """A one- or two-sided range, with its quantile levels ``(start, end)``."""
    values = frame[column].to_numpy(dtype=float)
    shape = rng.choice(["upper", "lower", "between"])
    if shape == "upper":
        level = off_edge_quantile(rng, 0.55, 0.95)
        cut = np.quantile(values, level)
        return f"{column} > {cut:.4g}", values > cut, (level, 1.0)
    if shape == "lower":
        level = off_edge_quantile(rng, 0.05, 0.45)
        cut = np.quantile(values, level)
        return f"{column} < {cut:.4g}", values < cut, (0.0, level)
    start = off_edge_quantile(rng, 0.05, 0.6)
    end = off_edge_quantile(rng, start + 0.2, min(start + 0.45, 0.97))
    low, high = np.quantile(values, [start, end])
    inside = (values >= low) & (values < high)
    return f"{low:.4g} <= {column} < {high:.4g}", inside, (start, end)


def categorical_predicate(
    rng: np.random.Generator, frame: pd.DataFrame, column: str
) -> tuple[str, np.ndarray, str]:
    shares = frame[column].value_counts(normalize=True)
    candidates = shares[(shares > 0.03) & (shares < 0.5)]
    value = rng.choice(candidates.index.to_numpy())
    return f"{column}={value}", (frame[column] == value).to_numpy(), str(value)


#: Quantile-level gap below which two ranges on one column count as adjacent.
ADJACENT_GAP = 0.05


def touches(first: Planted, second: Planted) -> bool:
    """Whether two planted slices share rows, or could read as one slice.

    The latter: they test the same value of a categorical column and ranges on a
    common numeric column that overlap or lie within ``ADJACENT_GAP`` quantile
    levels of each other (their union is then one larger slice, and a contender
    returning it is not wrong).
    """
    if (first.mask & second.mask).any():
        return True
    same_value = any(
        second.parts.get(column) == value
        for column, value in first.parts.items()
        if isinstance(value, str)
    )
    for column, levels in first.parts.items():
        other = second.parts.get(column)
        if isinstance(levels, tuple) and isinstance(other, tuple):
            gap = max(levels[0], other[0]) - min(levels[1], other[1])
            if same_value and gap < ADJACENT_GAP:
                return True
    return False


def plant(
    rng: np.random.Generator, frame: pd.DataFrame, n_planted: int
) -> list[Planted]:
    """Slices of 2-3 predicates (at least one numeric), 1-4% of rows, apart.

    A drawn slice is redrawn while it shares rows with, or touches (see
    :func:`touches`), a slice planted before it.
    """
    planted: list[Planted] = []
    while len(planted) < n_planted:
        level = int(rng.integers(2, 4))
        n_numeric = int(rng.integers(1, level + 1))
        columns = list(rng.choice(NUMERIC, n_numeric, replace=False))
        columns += list(rng.choice(CATEGORICAL, level - n_numeric, replace=False))
        parts = [
            numeric_predicate(rng, frame, c)
            if c in NUMERIC
            else categorical_predicate(rng, frame, c)
            for c in columns
        ]
        mask = np.logical_and.reduce([inside for _, inside, _ in parts])
        candidate = Planted(
            " & ".join(text for text, _, _ in parts),
            mask,
            {c: where for c, (_, _, where) in zip(columns, parts)},
        )
        if 0.01 <= mask.mean() <= 0.04 and not any(
            touches(candidate, other) for other in planted
        ):
            planted.append(candidate)
    return planted


def noisy_errors(
    rng: np.random.Generator, frame: pd.DataFrame, planted: list[Planted]
) -> np.ndarray:
    """Base error drifting between 6% and 14% with two columns; 35-50% in slices."""
    drift = (
        frame["age"].rank(pct=True).to_numpy() + frame["wait"].rank(pct=True).to_numpy()
    )
    rates = 0.06 + 0.04 * drift
    for item in planted:
        rates = np.where(item.mask, rng.uniform(0.35, 0.5), rates)
    return (rng.random(len(frame)) < rates).astype(np.float64)


def jaccard(first: np.ndarray, second: np.ndarray) -> float:
    union = (first | second).sum()
    return float((first & second).sum() / union) if union else 0.0


# -------------------------------------------------------------------- contenders
def ours(
    frame: pd.DataFrame,
    errors: np.ndarray,
    space: PredicateSpace,
    min_support: int,
    refine: bool,
) -> list[tuple[str, np.ndarray]]:
    result = find_slices(
        frame,
        errors,
        space=space,
        min_support=min_support,
        max_level=3,
        top_k=TOP,
        error_weight=ALPHA,
        progress_bar=False,
        refine=refine,
    )
    return [(item.name, item.mask(frame)) for item in result]


def sliceline(
    frame: pd.DataFrame,
    errors: np.ndarray,
    space: PredicateSpace,
    min_support: int,
    refine: bool,
) -> list[tuple[str, np.ndarray]]:
    from sliceline import Slicefinder

    codes = space.encode(frame)
    finder = Slicefinder(
        alpha=ALPHA, k=TOP, max_l=3, min_sup=min_support, verbose=False
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        finder.fit(codes, errors)
    found = []
    for row in finder.top_slices_:
        inside = np.ones(len(frame), dtype=bool)
        for feature, code in enumerate(row):
            if code is not None:
                inside &= codes[:, feature] == int(code)
        found.append((str(list(row)), inside))
    return found


CONTENDERS = {
    "ours (refined, default)": (ours, True),
    "ours, refine=False": (ours, False),
    "sliceline": (sliceline, False),
}


def planted_score(mask: np.ndarray, errors: np.ndarray) -> float:
    """SliceLine score of a planted slice: at or below 0 no contender can rank it."""
    return float(
        sliceline_score(
            np.array([mask.sum()]),
            np.array([errors[mask].sum()]),
            len(errors),
            errors.mean(),
            ALPHA,
        )[0]
    )


def recall(
    n_seeds: int,
    n_rows: int,
    per_seed: int,
    with_sliceline: bool,
    support_share: float = 0.005,
) -> str:
    contenders = {
        name: spec
        for name, spec in CONTENDERS.items()
        if with_sliceline or name != "sliceline"
    }
    found = dict.fromkeys(contenders, 0)
    found_findable = dict.fromkeys(contenders, 0)
    seconds = dict.fromkeys(contenders, 0.0)
    rows, total, positive = [], 0, 0
    min_support = int(support_share * n_rows)
    for seed in range(n_seeds):
        rng = np.random.default_rng(20_000 + seed)
        frame = skewed_frame(rng, n_rows)
        planted = plant(rng, frame, per_seed)
        errors = noisy_errors(rng, frame, planted)
        space = build_predicate_space(frame)
        total += len(planted)
        findable = [planted_score(p.mask, errors) > 0 for p in planted]
        positive += sum(findable)
        cells, best_names = [], []
        for name, (run, refine) in contenders.items():
            started = time.perf_counter()
            top = run(frame, errors, space, min_support, refine)
            seconds[name] += time.perf_counter() - started
            scores = [
                max((jaccard(p.mask, m) for _, m in top), default=0.0) for p in planted
            ]
            hits = sum(score >= JACCARD for score in scores)
            found[name] += hits
            found_findable[name] += sum(
                score >= JACCARD and ok for score, ok in zip(scores, findable)
            )
            cells.append(
                f"{hits}/{len(planted)} ({', '.join(f'{s:.2f}' for s in scores)})"
            )
            if name.startswith("ours (refined"):
                best_names = [
                    max(top, key=lambda item: jaccard(p.mask, item[1]))[0]
                    if top
                    else ""
                    for p in planted
                ]
        rows.append(
            [
                seed,
                "; ".join(
                    f"`{p.description}` ({p.mask.mean():.1%}, score "
                    f"{planted_score(p.mask, errors):.2f}) -> `{n}`"
                    for p, n in zip(planted, best_names)
                ),
                *cells,
            ]
        )
        print(rows[-1], flush=True)
    summary = markdown_table(
        [
            "contender",
            f"recall@{TOP} (Jaccard >= {JACCARD}), all planted",
            "findable planted (own score > 0)",
            "total seconds",
        ],
        [
            [
                name,
                f"{found[name]}/{total} = {found[name] / total:.0%}",
                f"{found_findable[name]}/{positive} = "
                f"{found_findable[name] / max(positive, 1):.0%}",
                f"{seconds[name]:.2f}",
            ]
            for name in contenders
        ],
    )
    table = markdown_table(
        [
            "seed",
            "planted (share) -> our best-matching refined slice",
            *[f"{name}: found (best Jaccard)" for name in contenders],
        ],
        rows,
    )
    return (
        f"Recall with thresholds off the bin edges: {n_seeds} seeds, {n_rows:,} rows x "
        f"11 columns (4 Zipf categorical with 6-40 values; lognormal, exponential, "
        f"bimodal, beta share, negative-binomial count and normal numbers, each in 5 "
        f"quantile bins; a flag), {per_seed} planted slices per seed (2-3 predicates, "
        f"1-4% of rows, no shared rows, no two on one categorical value with "
        f"adjacent ranges on one column, numeric thresholds at quantile levels at least "
        f"{EDGE_MARGIN:.0%} from the bin edges), error rate 35-50% in them and 6-14% "
        f"elsewhere (drifting with two columns); level 3, top {TOP}, alpha {ALPHA}, "
        f"min support {support_share:.1%} of rows. Found = a top-{TOP} slice with "
        f"row-Jaccard >= {JACCARD}. {positive}/{total} planted slices score above 0 "
        f"themselves (the others cannot be ranked by any contender: their error is "
        f"too diluted for their size).\n\n{summary}\n\n{table}"
    )


# ------------------------------------------------------------------- error types
def error_types(n_seeds: int, n_rows: int) -> str:
    rows = []
    hits = {"false_positive": 0, "false_negative": 0}
    for seed in range(n_seeds):
        rng = np.random.default_rng(30_000 + seed)
        frame = skewed_frame(rng, n_rows)
        fp_slice, fn_slice = plant(rng, frame, 2)
        golds = (rng.random(n_rows) < 0.4).astype(int)
        flip = rng.random(n_rows) < 0.08
        flip |= fp_slice.mask & (golds == 0) & (rng.random(n_rows) < 0.6)
        flip |= fn_slice.mask & (golds == 1) & (rng.random(n_rows) < 0.6)
        preds = np.where(flip, 1 - golds, golds)
        space = build_predicate_space(frame)
        cells = []
        for error_type, own, other in [
            ("false_positive", fp_slice, fn_slice),
            ("false_negative", fn_slice, fp_slice),
        ]:
            result = find_slices(
                frame,
                golds=golds,
                preds=preds,
                error_type=error_type,
                space=space,
                min_support=int(0.005 * n_rows),
                top_k=TOP,
                progress_bar=False,
            )
            masks = [item.mask(frame) for item in result]
            own_rank = next(
                (r + 1 for r, m in enumerate(masks) if jaccard(own.mask, m) >= JACCARD),
                None,
            )
            other_found = any(jaccard(other.mask, m) >= JACCARD for m in masks)
            hits[error_type] += own_rank is not None and not other_found
            cells.append(
                f"own slice rank {own_rank or '-'}, other in top {TOP}: {other_found}"
            )
        rows.append(
            [seed, f"`{fp_slice.description}`", f"`{fn_slice.description}`", *cells]
        )
        print(rows[-1], flush=True)
    return (
        f"Error types: {n_seeds} seeds, {n_rows:,} rows of the same generator, binary "
        f"labels (40% positive), predictions wrong on 8% of rows at random plus 60% of "
        f"the negatives in a planted false-positive slice and 60% of the positives in "
        f"a planted false-negative slice. `find_slices(golds=, preds=, error_type=)`: "
        f"its own planted slice in the top {TOP} and the other type's not, for "
        f"`false_positive` {hits['false_positive']}/{n_seeds}, for `false_negative` "
        f"{hits['false_negative']}/{n_seeds}.\n\n"
        + markdown_table(
            [
                "seed",
                "planted FP slice",
                "planted FN slice",
                "error_type=false_positive",
                "error_type=false_negative",
            ],
            rows,
        )
    )


# ------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, minutes")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--per-seed", type=int, default=2)
    parser.add_argument("--no-sliceline", action="store_true")
    parser.add_argument(
        "--min-support", type=float, default=0.005, help="share of the rows"
    )
    parser.add_argument("--parts", default="recall,error_types")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.rows = 4, 20_000
    parts = args.parts.split(",")
    sections = [
        "## Slice discovery: thresholds off the bin edges, error types "
        f"(`bench/discovery_tabular.py`)\n\n{machine_line()}"
    ]
    if "recall" in parts:
        sections.append(
            recall(
                args.seeds,
                args.rows,
                args.per_seed,
                not args.no_sliceline,
                args.min_support,
            )
        )
        print(sections[-1], flush=True)
    if "error_types" in parts:
        sections.append(error_types(max(3, args.seeds // 2), args.rows))
        print(sections[-1], flush=True)
    command = " ".join(["python bench/discovery_tabular.py", *sys.argv[1:]])
    sections.append(f"Reproduce: `flock /tmp/slicing-bench.lock {command}`.")
    if not args.no_write:
        write_section("discovery_tabular", "\n\n".join(sections))


if __name__ == "__main__":
    main()
