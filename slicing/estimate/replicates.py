"""Bootstrap replicates of the KLIEP estimate, refitted many at a time.

Each replicate's coefficients are refitted from the point estimate by chord
iterations (Newton steps with the Hessian of the point estimate, which a replicate
barely moves), vectorised over a block of replicates, so that a bootstrap of a
100k-row source with 50k distinct patterns costs a few matrix products per block
instead of a Newton solve per replicate. Iterations stop when every replicate's
weighted source feature means are within ``tol`` (1e-7) of its target means, far
below the bootstrap's own spread.
"""

import numpy as np

from slicing.estimate.metrics import CountMetric

__all__ = [
    "as_counts",
    "chord_refit",
    "metric_values",
    "replicate_confusions",
]


def chord_refit(
    features: np.ndarray,
    theta: np.ndarray,
    hessian_inverse: np.ndarray,
    source_rows: np.ndarray,
    target_means: np.ndarray,
    l2: float,
    tol: float = 1e-7,
    max_iter: int = 20,
) -> np.ndarray:
    """Unnormalised weights ``exp(phi . theta_b)`` per replicate, shape ``(B, P)``.

    Parameters
    ----------
    features
        ``phi`` of the source patterns, ``(P, d)``.
    theta
        The point estimate, ``(d,)``.
    hessian_inverse
        Inverse (pseudo-inverse) of the objective's Hessian at ``theta``.
    source_rows
        Resampled source rows per pattern, ``(B, P)``.
    target_means
        Resampled target feature means, ``(B, d)``.
    l2
        The penalty in effect.
    """
    with np.errstate(divide="ignore"):
        log_rows = np.log(source_rows)
    thetas = np.repeat(theta[None, :], len(source_rows), axis=0)
    active = np.arange(len(thetas))
    for _ in range(max_iter):
        # Only the replicates still above the tolerance are iterated.
        current = thetas[active]
        shifted = current @ features.T + log_rows[active]
        shifted -= shifted.max(axis=1, keepdims=True)
        probabilities = np.exp(shifted)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        gradient = probabilities @ features - target_means[active] + l2 * current
        open_rows = np.abs(gradient).max(axis=1, initial=0.0) > tol
        if not open_rows.any():
            break
        active = active[open_rows]
        # A replicate pushed far away (a pattern the target needs resampled away)
        # would overflow; cap it where the point fit would call it diverged.
        thetas[active] = np.clip(
            current[open_rows] - gradient[open_rows] @ hessian_inverse, -50, 50
        )
    scores = thetas @ features.T
    return np.exp(scores - scores.max(axis=1, keepdims=True))


def replicate_confusions(
    weights: np.ndarray, cells: np.ndarray, patterns: np.ndarray
) -> np.ndarray:
    """Weighted confusion counts, overall and per slice: ``(B, 1 + k, C, C)``.

    ``weights`` ``(B, P)``, ``cells`` ``(B, P, C, C)``, ``patterns`` ``(P, k)``.
    """
    n_replicates, n_patterns = weights.shape
    shape = cells.shape[2:]
    weighted = weights[:, :, None] * cells.reshape(n_replicates, n_patterns, -1)
    overall = weighted.sum(axis=1)
    # One matrix product for every slice and replicate: (k, P) @ (P, B * C * C).
    stacked = np.moveaxis(weighted, 1, 0).reshape(n_patterns, -1)
    per_slice = (patterns.T.astype(np.float64) @ stacked).reshape(
        patterns.shape[1], n_replicates, -1
    )
    combined = np.concatenate([overall[None], per_slice], axis=0)
    return np.moveaxis(combined, 1, 0).reshape(n_replicates, -1, *shape)


#: Weighted confusions are rescaled to this total before a metric reads them: the
#: count metrics are ratios, but treat a denominator below 1 as 1 (integer counts).
COUNT_SCALE = 1e6


def as_counts(confusions: np.ndarray) -> np.ndarray:
    """Rescale weighted confusions ``(..., C, C)`` to a total of ``COUNT_SCALE`` each."""
    totals = confusions.sum(axis=(-2, -1), keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(totals > 0, confusions * (COUNT_SCALE / totals), 0.0)


def metric_values(confusions: np.ndarray, metrics: list[CountMetric]) -> np.ndarray:
    """``(..., M)`` metric values from weighted confusions ``(..., C, C)``.

    Noise-aware weights can be negative for some rows, which can push a value
    outside the metric's range; values are clipped to it ([0, 1], or [-1, 1] for
    ``matthews_corrcoef``).

    Examples
    --------
    >>> from slicing.estimate.metrics import COUNT_METRICS
    >>> accuracy = COUNT_METRICS["accuracy"]
    >>> metric_values(np.array([[0.0, 0.0], [0.01, 0.03]]), [accuracy]).tolist()
    [0.75]
    """
    counts = as_counts(confusions)
    values = [
        np.clip(metric.from_counts(counts), metric.floor, 1.0) for metric in metrics
    ]
    return np.stack(values, axis=-1)
