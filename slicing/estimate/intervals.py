"""Intervals of the estimate: seeded bootstrap on pattern counts, or the delta method.

Both return ``((low, high), (low, high))`` of shape ``(1 + k, M)``: for the target
estimates and for the unweighted source values beside them.
"""

from typing import Any

import numpy as np

from slicing.estimate.bootstrap import block_size, draw_counts
from slicing.estimate.delta import delta_intervals
from slicing.estimate.features import feature_matrix
from slicing.estimate.metrics import CountMetric
from slicing.estimate.noise import FlipRates, NoiseModel
from slicing.estimate.patterns import PatternCounts
from slicing.estimate.replicates import chord_refit, metric_values, replicate_confusions
from slicing.estimate.weighting import Weighting
from slicing.intervals import bootstrap_percentile_interval

__all__ = [
    "bootstrap_intervals",
    "delta_method_intervals",
    "estimates",
    "source_values",
]


def _weighted_counts(weights: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """``weights`` ``(..., P)`` times cells ``(P, C, C)`` -> ``(..., C, C)``."""
    flat = cells.reshape(len(cells), -1).astype(np.float64)
    return (weights @ flat).reshape(*weights.shape[:-1], *cells.shape[1:])


def estimates(
    fit: Weighting, source: PatternCounts, metrics: list[CountMetric], cells=None
) -> np.ndarray:
    cells = source.counts if cells is None else cells
    stacked = np.vstack([fit.overall[None, :], fit.per_slice])
    confusion = _weighted_counts(stacked, cells)
    return metric_values(confusion, metrics)


def source_values(
    cells: np.ndarray, patterns: np.ndarray, metrics: list[CountMetric]
) -> np.ndarray:
    stacked = np.vstack([np.ones(len(patterns)), patterns.T.astype(np.float64)])
    confusion = _weighted_counts(stacked, cells)
    return metric_values(confusion, metrics)


def bootstrap_intervals(
    fit: Any,
    point: Weighting,
    source: PatternCounts,
    target: PatternCounts,
    metrics: list[CountMetric],
    n_resamples: int,
    seed: int,
    ci: float,
    noise: NoiseModel | None,
    calibration_rows: tuple[np.ndarray, np.ndarray] | None,
    pairs: list[tuple[int, int]],
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Percentile intervals of the estimates and of the source-only values.

    Each replicate redraws the source rows (with their outcomes), the target rows
    and, when noise-aware from rows of known membership, those rows too, and
    refits the weights: by vectorised chord iterations from the point estimate
    (:mod:`slicing.estimate.replicates`), or, noise-aware, by a full refit.
    """
    rng = np.random.default_rng(seed)
    k = source.patterns.shape[1]
    source_features = feature_matrix(source.patterns, pairs)
    target_features = feature_matrix(target.patterns, pairs)
    hessian_inverse = _hessian_inverse(source_features, point, source.rows_per_pattern)
    block = block_size(source.counts.size, target.counts.size)
    replicated, plain = [], []
    for start in range(0, n_resamples, block):
        size = min(block, n_resamples - start)
        cells = draw_counts(source.counts, size, rng).astype(np.float64)
        target_rows = draw_counts(target.counts, size, rng)
        plain.append(
            metric_values(
                replicate_confusions(np.ones(cells.shape[:2]), cells, source.patterns),
                metrics,
            )
        )
        if noise is None:
            rows = cells.reshape(size, cells.shape[1], -1).sum(axis=2)
            target_means = target_rows @ target_features / target.n_rows
            weights = chord_refit(
                source_features,
                point.theta,
                hessian_inverse,
                rows,
                target_means,
                point.l2_used,
            )
            replicated.append(
                metric_values(
                    replicate_confusions(weights, cells, source.patterns), metrics
                )
            )
            continue
        for replicate in range(size):
            try:
                model = noise
                if calibration_rows is not None:
                    true, observed = calibration_rows
                    picks = rng.integers(0, len(true), len(true))
                    rates = FlipRates.from_rows(true[picks], observed[picks])
                    model = NoiseModel(rates, k, pairs)
                weighting = fit(cells[replicate], target_rows[replicate], model)
                values = estimates(weighting, source, metrics, cells[replicate])
            except (ValueError, np.linalg.LinAlgError):
                # A replicate without usable flip rates counts as undefined (NaN).
                values = np.full((1 + k, len(metrics)), np.nan)
            replicated.append(values[None])
    return (
        bootstrap_percentile_interval(
            np.moveaxis(np.concatenate(replicated), 0, -1), ci
        ),
        bootstrap_percentile_interval(np.moveaxis(np.concatenate(plain), 0, -1), ci),
    )


def delta_method_intervals(
    point: Weighting,
    source: PatternCounts,
    target: PatternCounts,
    metrics: list[CountMetric],
    ci: float,
    pairs: list[tuple[int, int]],
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Delta-method intervals of the estimates and of the source-only values."""
    features = feature_matrix(source.patterns, pairs)
    target_features = feature_matrix(target.patterns, pairs)
    hessian_inverse = _hessian_inverse(features, point, source.rows_per_pattern)
    common = (source.counts, source.patterns, target_features, target.counts)
    estimate = delta_intervals(
        metrics, features, point.overall, *common, hessian_inverse, ci
    )
    ones = np.ones(len(features))
    plain = delta_intervals(metrics, features, ones, *common, None, ci)
    return estimate, plain


def _hessian_inverse(
    features: np.ndarray, point: Weighting, rows: np.ndarray
) -> np.ndarray:
    """Pseudo-inverse of the KLIEP Hessian at the point estimate (weighted covariance)."""
    probabilities = point.overall * rows / (point.overall * rows).sum()
    centred = features - probabilities @ features
    hessian = (centred * probabilities[:, None]).T @ centred
    hessian[np.diag_indices_from(hessian)] += point.l2_used
    return np.linalg.pinv(hessian, rcond=1e-12, hermitian=True)
