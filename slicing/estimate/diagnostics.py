"""Assemble a :class:`PerformanceEstimate`: the table, the weights and the warnings."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from slicing.estimate.features import feature_names
from slicing.estimate.metrics import CountMetric
from slicing.estimate.patterns import PatternCounts, match_patterns
from slicing.estimate.result import (
    EstimateWarning,
    NoSourceSupportWarning,
    PerformanceEstimate,
    UnmatchedRatesWarning,
)
from slicing.estimate.weighting import Weighting
from slicing.matrix import RESERVED_SLICE_NAMES

__all__ = ["Assembled", "build_result"]

OVERALL = "overall"
assert OVERALL in RESERVED_SLICE_NAMES  # no SF can take the name of the overall row


@dataclass(frozen=True)
class Assembled:
    """The result and the warnings to issue for it (text and category)."""

    estimate: PerformanceEstimate
    warning_notes: list[tuple[str, type[EstimateWarning]]]


def build_result(
    point: Weighting,
    source: PatternCounts,
    target: PatternCounts,
    metrics: list[CountMetric],
    values: np.ndarray,
    source_values: np.ndarray,
    intervals: tuple | None,
    pairs: list[tuple[int, int]],
    row_patterns: np.ndarray | None,
    l2: float,
    noise_aware: bool,
) -> Assembled:
    """Build the table (``overall`` + one row per slice) and every diagnostic."""
    names = source.slice_names
    source_rows = source.rows_per_pattern
    target_rows = target.rows_per_pattern
    n_source, n_target = int(source_rows.sum()), int(target_rows.sum())
    table = pd.DataFrame(index=pd.Index([OVERALL, *names], name="slice"))
    table["target_rows"] = np.r_[n_target, target.patterns.T @ target_rows]
    table["target_share"] = table["target_rows"] / n_target
    table["source_rows"] = np.r_[n_source, source.patterns.T @ source_rows]
    for position, metric in enumerate(metrics):
        name = metric.name
        table[name] = values[:, position]
        if intervals is not None:
            table[f"{name}_low"] = intervals[0][0][:, position]
            table[f"{name}_high"] = intervals[0][1][:, position]
        table[f"source_{name}"] = source_values[:, position]
        if intervals is not None:
            table[f"source_{name}_low"] = intervals[1][0][:, position]
            table[f"source_{name}_high"] = intervals[1][1][:, position]
        table[f"{name}_shift"] = table[name] - table[f"source_{name}"]

    in_source = match_patterns(target.patterns, source.patterns)
    unsupported = (in_source < 0) & (target_rows > 0)
    target_per_source = np.zeros(len(source_rows), np.int64)
    np.add.at(target_per_source, in_source[in_source >= 0], target_rows[in_source >= 0])
    pattern_weights = pd.DataFrame(source.patterns, columns=names)
    pattern_weights["source_rows"] = source_rows
    pattern_weights["target_rows"] = target_per_source
    pattern_weights["weight"] = point.overall

    weighted = point.overall * source_rows
    ess = float(weighted.sum() ** 2 / max((weighted * point.overall).sum(), 1e-300))
    rates = pd.DataFrame(index=pd.Index(names, name="SF"))
    rates["source_rate"] = source.patterns.T @ source_rows / n_source
    if noise_aware:
        rates["target_sf_rate"] = target.patterns.T @ target_rows / n_target
    rates["target_rate"] = point.target_rates
    rates["weighted_source_rate"] = point.per_slice @ source_rows / n_source
    rates["gap"] = rates["weighted_source_rate"] - rates["target_rate"]

    notes: list[tuple[str, type[EstimateWarning]]] = []
    unsupported_rows = int(target_rows[unsupported].sum())
    if unsupported_rows:
        notes.append(
            (
                f"{unsupported_rows:,} of {n_target:,} target rows "
                f"({unsupported_rows / n_target:.1%}) fall in {int(unsupported.sum()):,} SF "
                "patterns that never occur in the source; their performance is "
                "extrapolated by the log-linear model (SF main effects"
                + (" and pairs" if pairs else "")
                + "), not measured",
                NoSourceSupportWarning,
            )
        )
    if not point.converged:
        worst = rates["gap"].abs().sort_values(ascending=False).head(3)
        detail = ", ".join(
            f"'{sf}' target {rates.loc[sf, 'target_rate']:.3f} vs weighted source "
            f"{rates.loc[sf, 'weighted_source_rate']:.3f}"
            for sf in worst.index
        )
        notes.append(
            (
                "the target's SF rates cannot be reached by reweighting the source (an "
                "SF pattern the target needs is missing from the source); fitted with "
                f"l2={point.l2_used:g} instead of {l2:g}. Largest gaps: {detail}",
                UnmatchedRatesWarning,
            )
        )
    if len(source_rows) == 1:
        notes.append(
            (
                f"all {n_source:,} source rows share one SF pattern, so reweighting cannot "
                "change anything: the estimate equals the source value. Expected SFs "
                "that vary across the source rows",
                EstimateWarning,
            )
        )
    estimate = PerformanceEstimate(
        table=table,
        metrics=[metric.name for metric in metrics],
        weights=None if row_patterns is None else point.overall[row_patterns],
        pattern_weights=pattern_weights,
        coefficients=pd.Series(
            point.theta, index=None if noise_aware else feature_names(names, pairs)
        ),
        effective_sample_size=ess,
        rates=rates,
        unsupported_target_rows=unsupported_rows,
        unsupported_target_patterns=int(unsupported.sum()),
        converged=point.converged,
        l2=point.l2_used,
        noise_aware=noise_aware,
        n_source=n_source,
        n_target=n_target,
        notes=tuple(note for note, _ in notes),
    )
    return Assembled(estimate, notes)
