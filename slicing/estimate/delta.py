"""Delta-method intervals of the KLIEP estimate: for large sources, in one pass over patterns.

The bootstrap costs ``rows x slices x resamples``; past a few tens of thousands of
distinct source patterns that is minutes, so ``ci_method="auto"`` switches to the
influence functions of the estimate. A metric ``m(Q_j)`` of the weighted confusion
counts ``Q_j`` of slice ``j`` moves with each source row directly (its weighted
cell) and through the coefficients, which move with every source and target row
as the moment equations dictate (``dtheta = -H^-1 dPsi``, ``H`` the weighted
covariance of the features). The count metrics are ratios, so a metric's gradient
is orthogonal to ``Q_j`` and the normalisation drops out. Normal intervals,
clipped to the metric's range.
"""

from statistics import NormalDist

import numpy as np

from slicing.estimate.metrics import CountMetric
from slicing.estimate.replicates import COUNT_SCALE, as_counts

__all__ = ["delta_intervals"]


def _metric_gradient(metric: CountMetric, confusion: np.ndarray) -> np.ndarray:
    """Central-difference gradient of ``metric`` w.r.t. each confusion cell.

    Computed at the confusion rescaled to ``COUNT_SCALE`` (see
    :func:`~slicing.estimate.replicates.as_counts`) and scaled back: a ratio
    metric's gradient scales inversely with its counts.
    """
    scale = COUNT_SCALE / confusion.sum()
    flat = confusion.ravel().astype(np.float64) * scale
    step = 1e-6 * COUNT_SCALE
    gradient = np.zeros_like(flat)
    for cell in range(flat.size):
        up, down = flat.copy(), flat.copy()
        up[cell] += step
        down[cell] = max(down[cell] - step, 0.0)
        values = metric.from_counts(np.stack([up, down]).reshape(2, *confusion.shape))
        gradient[cell] = (values[0] - values[1]) / (up[cell] - down[cell])
    return np.nan_to_num(gradient) * scale


def delta_intervals(
    metrics: list[CountMetric],
    features: np.ndarray,
    weights: np.ndarray,
    cells: np.ndarray,
    patterns: np.ndarray,
    target_features: np.ndarray,
    target_rows: np.ndarray,
    hessian_inverse: np.ndarray | None,
    confidence: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds ``(1 + k, M)`` for the estimates of every slice.

    Parameters
    ----------
    metrics
        The count metrics.
    features
        ``phi`` of the source patterns ``(P, d)``.
    weights
        Density ratio per source pattern ``(P,)`` (source-weighted mean 1); all ones
        with ``hessian_inverse=None`` for the source-only values.
    cells
        Source counts ``(P, C, C)``.
    patterns
        Source patterns ``(P, k)``.
    target_features, target_rows
        ``phi`` of the target patterns and their row counts.
    hessian_inverse
        Inverse Hessian of the fit, or ``None`` (weights fixed: source-only).
    confidence
        Confidence level.
    """
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    n_patterns = len(cells)
    flat = cells.reshape(n_patterns, -1).astype(np.float64)
    rows = flat.sum(axis=1)
    n_source, n_target = rows.sum(), target_rows.sum()
    members = np.hstack([np.ones((n_patterns, 1)), patterns.astype(np.float64)])
    weighted_mean = (weights * rows) @ features / n_source
    centred = weights[:, None] * (features - weighted_mean)
    target_mean = target_rows @ target_features / n_target
    low = np.full((members.shape[1], len(metrics)), np.nan)
    high = low.copy()
    for j in range(members.shape[1]):
        in_slice = weights * members[:, j]
        confusion = (in_slice @ flat) / n_source
        if confusion.sum() <= 0:
            continue
        direction = None
        if hessian_inverse is not None:
            # D_j = dQ_j / dtheta, shape (C*C, d).
            derivative = (flat * in_slice[:, None]).T @ features / n_source
        for position, metric in enumerate(metrics):
            gradient = _metric_gradient(metric, confusion.reshape(cells.shape[1:]))
            # Per source pattern and cell: the direct term, then through theta.
            influence = in_slice[:, None] * gradient[None, :]
            target_part = 0.0
            if hessian_inverse is not None:
                direction = hessian_inverse @ (gradient @ derivative)
                influence = influence - (centred @ direction)[:, None]
                target_influence = (target_features - target_mean) @ direction
                target_part = (target_rows @ target_influence**2) / n_target**2
            mean = (flat * influence).sum() / n_source
            source_part = ((flat * (influence - mean) ** 2).sum()) / n_source**2
            value = metric.from_counts(as_counts(confusion.reshape(cells.shape[1:])))
            spread = z * np.sqrt(source_part + target_part)
            lowest = metric.floor
            low[j, position] = np.clip(value - spread, lowest, 1.0)
            high[j, position] = np.clip(value + spread, lowest, 1.0)
    return low, high
