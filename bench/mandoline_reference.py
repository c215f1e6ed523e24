"""A faithful re-implementation of HazyResearch/mandoline's ``estimate_performance``.

The algorithm as published (``mandoline.py``): SF outputs coded -1/+1, features
``[g, g_i * g_j for (i, j) in edge_list]``, the KLIEP objective
``sum_target theta . phi - n_target * logsumexp(phi_source . theta)`` maximised by
``scipy.optimize.minimize(method="BFGS")`` with finite-difference gradients from an
unseeded ``np.random.randn`` start, self-normalised weights, and the weighted
estimator's assertion that the weights sum to exactly 1. Written for the benchmark
only (not shipped); ``strict=True`` raises as the reference does, otherwise the
failed assertion is recorded and the estimate returned anyway.
"""

from dataclasses import dataclass

import numpy as np
import scipy.optimize
import scipy.special


@dataclass
class ReferenceResult:
    estimate: float
    weights: np.ndarray
    assertion_failed: bool
    converged: bool


def _phi(signs: np.ndarray, edges: np.ndarray | None) -> np.ndarray:
    if edges is None or len(edges) == 0:
        return signs
    return np.concatenate(
        [signs, signs[:, edges[:, 0]] * signs[:, edges[:, 1]]], axis=1
    )


def reference_estimate(
    g_source: np.ndarray,
    g_target: np.ndarray,
    edges: list[tuple[int, int]] | None,
    outcome: np.ndarray,
    strict: bool = False,
) -> ReferenceResult:
    """Run the reference algorithm; see the module docstring."""
    d_source = np.where(g_source, 1.0, -1.0)
    d_target = np.where(g_target, 1.0, -1.0)
    edge_array = None if edges is None else np.array(edges)
    phi_target, phi_source = _phi(d_target, edge_array), _phi(d_source, edge_array)
    n_source, n_target = len(phi_source), len(phi_target)

    def objective(theta: np.ndarray) -> float:
        return -(
            phi_target.dot(theta).sum()
            - n_target * scipy.special.logsumexp(phi_source.dot(theta))
        )

    solution = scipy.optimize.minimize(
        objective, np.random.randn(phi_target.shape[1]), method="BFGS"
    )
    log_ratio = phi_source.dot(solution.x) + (
        np.log(n_source) - scipy.special.logsumexp(phi_source.dot(solution.x))
    )
    ratios = np.e**log_ratio
    weights = ratios / np.sum(ratios)
    failed = bool(np.sum(weights) != 1)
    if failed and strict:
        raise AssertionError("`weights` must sum to 1.")
    estimate = float(np.sum(weights * np.asarray(outcome, dtype=float)))
    return ReferenceResult(estimate, weights, failed, bool(solution.success))
