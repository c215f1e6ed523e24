"""KLIEP fit of a log-linear density ratio on pattern counts, with analytic derivatives.

``w(g) = exp(theta . phi(g)) / mean_source exp(theta . phi(g))`` maximises the target
log-likelihood ``theta . mean_target phi - log mean_source exp(theta . phi)`` (minus
``l2 / 2 * |theta|^2``). The objective is convex; at its optimum without penalty the
weighted source means of every feature equal the target means. Both means are
over pattern counts, so the cost is independent of the number of rows.
"""

from dataclasses import dataclass

import numpy as np
import scipy.optimize

__all__ = ["RatioFit", "fit_log_linear_ratio"]

#: Up to this many features, Newton's method (exact Hessian); L-BFGS above.
NEWTON_MAX_FEATURES = 128
#: A coefficient this large means the target's feature means are not reachable by
#: reweighting the source (the optimum is at infinity).
DIVERGED_THETA = 25.0


@dataclass(frozen=True)
class RatioFit:
    """A fitted density ratio.

    Attributes
    ----------
    theta
        Coefficients, shape ``(d,)``.
    log_weights
        Log of the density ratio at each source pattern, normalised so that the
        source-weighted mean of ``exp(log_weights)`` is 1.
    converged
        Whether the gradient reached the tolerance with finite coefficients.
    n_iter
        Solver iterations.
    moment_gap
        Largest ``|weighted source mean - target mean|`` over the features.
    """

    theta: np.ndarray
    log_weights: np.ndarray
    converged: bool
    n_iter: int
    moment_gap: float


def logsumexp(values: np.ndarray) -> float:
    """``log(sum(exp(values)))`` without overflow (``-inf`` entries allowed)."""
    largest = float(values.max(initial=-np.inf))
    if not np.isfinite(largest):
        return largest
    return largest + float(np.log(np.exp(values - largest).sum()))


def _objective(
    theta: np.ndarray,
    features: np.ndarray,
    log_share: np.ndarray,
    target_mean: np.ndarray,
    l2: float,
) -> tuple[float, np.ndarray, np.ndarray]:
    scores = features @ theta + log_share
    log_norm = logsumexp(scores)
    probabilities = np.exp(scores - log_norm)
    weighted_mean = features.T @ probabilities
    value = -theta @ target_mean + log_norm + 0.5 * l2 * theta @ theta
    return value, weighted_mean - target_mean + l2 * theta, probabilities


def fit_log_linear_ratio(
    features: np.ndarray,
    source_rows: np.ndarray,
    target_mean: np.ndarray,
    *,
    l2: float = 0.0,
    start: np.ndarray | None = None,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> RatioFit:
    """Fit ``theta`` by Newton's method (or L-BFGS for many features) from ``start``.

    Parameters
    ----------
    features
        ``phi`` of each source pattern, shape ``(P, d)``.
    source_rows
        Source rows per pattern, shape ``(P,)`` (zeros allowed).
    target_mean
        Mean of ``phi`` over the target rows, shape ``(d,)``.
    l2
        Penalty ``l2 / 2 * |theta|^2`` (0: exact moment matching).
    start
        Initial coefficients (zeros by default); the fit is deterministic.
    tol
        Tolerance on the largest gradient component.
    max_iter
        Iteration limit.

    Returns
    -------
    RatioFit

    Examples
    --------
    >>> features = np.array([[-1.0], [1.0]])
    >>> fit = fit_log_linear_ratio(features, np.array([3, 1]), np.array([0.0]))
    >>> np.round(np.exp(fit.log_weights), 3).tolist()   # reweights to 50/50
    [0.667, 2.0]
    """
    features = np.asarray(features, np.float64)
    source_rows = np.asarray(source_rows, np.float64)
    with np.errstate(divide="ignore"):
        log_share = np.log(source_rows / source_rows.sum())
    theta = np.zeros(features.shape[1]) if start is None else np.array(start, float)
    if features.shape[1] > NEWTON_MAX_FEATURES:
        theta, n_iter = _lbfgs(
            theta, features, log_share, target_mean, l2, tol, max_iter
        )
    else:
        theta, n_iter = _newton(
            theta, features, log_share, target_mean, l2, tol, max_iter
        )
    _, gradient, probabilities = _objective(theta, features, log_share, target_mean, l2)
    scores = features @ theta
    present = source_rows > 0
    log_norm = logsumexp(scores[present] + log_share[present])
    gap = float(np.abs(features.T @ probabilities - target_mean).max(initial=0.0))
    converged = bool(
        np.abs(gradient).max(initial=0.0) <= max(tol, 1e-8)
        and np.abs(theta).max(initial=0.0) < DIVERGED_THETA
    )
    return RatioFit(theta, scores - log_norm, converged, n_iter, gap)


def _newton(
    theta: np.ndarray,
    features: np.ndarray,
    log_share: np.ndarray,
    target_mean: np.ndarray,
    l2: float,
    tol: float,
    max_iter: int,
) -> tuple[np.ndarray, int]:
    value, gradient, probabilities = _objective(
        theta, features, log_share, target_mean, l2
    )
    for iteration in range(1, max_iter + 1):
        if np.abs(gradient).max(initial=0.0) <= tol:
            return theta, iteration - 1
        centred = features - features.T @ probabilities
        hessian = (centred * probabilities[:, None]).T @ centred
        hessian[np.diag_indices_from(hessian)] += l2
        # lstsq: constant or duplicated features make the Hessian singular.
        step = np.linalg.lstsq(hessian, -gradient, rcond=1e-12)[0]
        slope = gradient @ step
        if -slope < 1e-24:
            # The Newton decrement is below float resolution: at the optimum.
            return theta, iteration
        if slope >= 0:  # numerically flat: fall back to steepest descent
            step, slope = -gradient, -(gradient @ gradient)
        size = 1.0
        while size > 1e-10:
            candidate = theta + size * step
            new_value, new_gradient, new_probabilities = _objective(
                candidate, features, log_share, target_mean, l2
            )
            if new_value <= value + 1e-4 * size * slope:
                break
            if size == 1.0 and -slope < 1e-14 and new_value <= value + 1e-12:
                break  # rounding hides the (tiny) decrease of the last full step
            size /= 2
        else:
            return theta, iteration
        theta, value = candidate, new_value
        gradient, probabilities = new_gradient, new_probabilities
        if np.abs(theta).max(initial=0.0) > 2 * DIVERGED_THETA:
            return theta, iteration
    return theta, max_iter


def _lbfgs(
    theta: np.ndarray,
    features: np.ndarray,
    log_share: np.ndarray,
    target_mean: np.ndarray,
    l2: float,
    tol: float,
    max_iter: int,
) -> tuple[np.ndarray, int]:
    def value_and_gradient(candidate: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient, _ = _objective(candidate, features, log_share, target_mean, l2)
        return value, gradient

    solution = scipy.optimize.minimize(
        value_and_gradient,
        theta,
        jac=True,
        method="L-BFGS-B",
        options={"gtol": tol, "ftol": 0.0, "maxiter": 20 * max_iter},
    )
    return solution.x, int(solution.nit)
