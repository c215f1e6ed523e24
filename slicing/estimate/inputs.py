"""Validation of the estimate's inputs, once, at the boundary: options, source, target.

The source becomes pattern counts per outcome cell, the target pattern counts (one
Dask pass for a Dask DataFrame), aligned to the source's SF names; rows of known
membership become flip rates.
"""

import numbers
from typing import Any

import numpy as np

from slicing.estimate.metrics import CountMetric, MetricsArg, count_metrics
from slicing.estimate.noise import FlipRates
from slicing.estimate.outcomes import SourceOutcomes, source_outcomes
from slicing.estimate.patterns import (
    PatternCounts,
    as_pattern_counts,
    as_slice_indicators,
    count_patterns,
    unique_patterns,
)

__all__ = [
    "align_target",
    "check_options",
    "count_source_rows",
    "flip_rates_from",
    "source_counts_from",
    "target_counts_from",
]


def check_options(l2: float, ci: float | None, n_resamples: int, seed: int) -> None:
    if not isinstance(l2, numbers.Real) or not l2 >= 0:
        raise ValueError(f"l2 must be a number >= 0; got {l2!r}")
    if ci is not None and not (isinstance(ci, numbers.Real) and 0 < ci < 1):
        raise ValueError(f"ci must be a confidence level in (0, 1) or None; got {ci!r}")
    for name, value in (("n_resamples", n_resamples), ("seed", seed)):
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Integral)
            or value < 0
        ):
            raise ValueError(f"{name} must be an integer >= 0; got {value!r}")


def source_counts_from(
    source: Any, correct: Any, golds: Any, preds: Any, probs: Any, metrics: MetricsArg
) -> tuple[PatternCounts, np.ndarray | None, list[CountMetric]]:
    if isinstance(source, PatternCounts):
        if source.counts.ndim != 3:
            raise ValueError(
                "source PatternCounts must have counts of shape (P, C, C) (rows per "
                f"pattern, gold and predicted class); got {source.counts.shape}"
            )
        if any(value is not None for value in (correct, golds, preds, probs)):
            raise ValueError(
                "source PatternCounts already hold the outcomes; pass no outcomes"
            )
        return source.canonical(), None, count_metrics(metrics, source.counts.shape[1])
    indicators, counts, outcomes = count_source_rows(
        source, correct, golds, preds, probs, metrics
    )
    return counts, unique_patterns(indicators)[1], outcomes.metrics


def count_source_rows(
    source: Any, correct: Any, golds: Any, preds: Any, probs: Any, metrics: MetricsArg
) -> tuple[np.ndarray, PatternCounts, SourceOutcomes]:
    """A row-level source (slice matrix and outcomes) as its indicators, pattern
    counts per (gold, prediction) cell and validated outcomes."""
    indicators, names = as_slice_indicators(source)
    outcomes = source_outcomes(
        len(indicators),
        correct=correct,
        golds=golds,
        preds=preds,
        probs=probs,
        metrics=metrics,
    )
    counts = count_patterns(
        indicators,
        names,
        np.stack([outcomes.golds, outcomes.preds]),
        outcomes.n_classes,
    )
    return indicators, counts, outcomes


def target_counts_from(target: Any, names: list[str], scheduler: Any) -> PatternCounts:
    if hasattr(target, "map_partitions") and hasattr(target, "npartitions"):
        from slicing.estimate.dask_patterns import dask_pattern_counts

        return dask_pattern_counts(target, names, scheduler=scheduler)
    return as_pattern_counts(target, "target")


def align_target(target: PatternCounts, names: list[str]) -> PatternCounts:
    if target.slice_names == names:
        return target
    missing = [name for name in names if name not in target.slice_names]
    unexpected = [name for name in target.slice_names if name not in names]
    if missing or unexpected:
        raise ValueError(
            f"the target's SFs {target.slice_names} differ from the source's {names}: "
            f"missing in the target {missing}, not in the source {unexpected}; "
            "expected the same SFs applied to both"
        )
    order = [target.slice_names.index(name) for name in names]
    return PatternCounts(target.patterns[:, order], target.counts, names)


def flip_rates_from(
    calibration: Any, names: list[str]
) -> tuple[FlipRates | None, tuple | None]:
    if calibration is None or isinstance(calibration, FlipRates):
        return calibration, None
    if not isinstance(calibration, tuple | list) or len(calibration) != 2:
        raise ValueError(
            "calibration must be (true_membership, sf_outputs) on the same rows, or "
            f"FlipRates; got {type(calibration).__name__}"
        )
    true, true_names = as_slice_indicators(calibration[0])
    observed, observed_names = as_slice_indicators(calibration[1], n_rows=len(true))
    for label, got in (("true membership", true_names), ("SF outputs", observed_names)):
        if sorted(got) != sorted(names):
            raise ValueError(
                f"calibration {label} has columns {got}; expected the SFs {names}"
            )
    true = true[:, [true_names.index(name) for name in names]]
    observed = observed[:, [observed_names.index(name) for name in names]]
    if len(true) == 0:
        raise ValueError("calibration has no rows; expected rows of known membership")
    return FlipRates.from_rows(true, observed), (true, observed)
