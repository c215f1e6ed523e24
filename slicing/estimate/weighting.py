"""Importance weights per source pattern, from SF outputs or, noise-aware, from true membership.

One function, :func:`fit_weights`, serves the point estimate and every bootstrap
replicate: it takes pattern counts and returns the overall weights and, for each
slice, the weights of the source rows that stand for the target's slice members.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from slicing.estimate.features import feature_matrix
from slicing.estimate.kliep import fit_log_linear_ratio
from slicing.estimate.noise import NoiseModel

__all__ = ["Weighting", "fit_weights"]

#: Penalty used when the target's SF rates cannot be matched exactly (a finite
#: optimum does not exist without one).
FALLBACK_L2 = 1e-3


@dataclass(frozen=True)
class Weighting:
    """Fitted weights on the source patterns.

    Attributes
    ----------
    overall
        Density ratio at each source pattern, shape ``(P,)``; its source-weighted
        mean is 1.
    per_slice
        Shape ``(k, P)``: the weights of the source rows standing for the target's
        members of each slice (``overall`` times the SF output, or its noise-aware
        surrogate).
    target_rates
        The target's slice rates the fit matched, shape ``(k,)`` (deconvolved from
        the SF rates when noise-aware).
    theta
        Coefficients over the features (noise-aware: the log ratio of each
        component's membership configurations, component after component).
    converged
        Whether the unpenalised optimum was reached (else ``l2_used`` > requested).
    l2_used
        The penalty in effect.
    """

    overall: np.ndarray
    per_slice: np.ndarray
    target_rates: np.ndarray
    theta: np.ndarray
    converged: bool
    l2_used: float


def fit_weights(
    source_patterns: np.ndarray,
    source_rows: np.ndarray,
    target_patterns: np.ndarray,
    target_rows: np.ndarray,
    *,
    pairs: Sequence[tuple[int, int]],
    l2: float,
    noise: NoiseModel | None = None,
    start: np.ndarray | None = None,
) -> Weighting:
    """Fit the density ratio on pattern counts (see :mod:`slicing.estimate.kliep`).

    Noise-aware (``noise`` given), the ratio is over true membership instead (see
    :mod:`slicing.estimate.noise`) and ``l2`` and ``start`` are unused.

    If the target's feature means cannot be reached by reweighting the source (for
    instance an SF never true in the source but true in the target), the optimum
    lies at infinity: the fit is then redone with ``FALLBACK_L2`` and reported as
    not converged.

    Examples
    --------
    >>> patterns = np.array([[False], [True]])
    >>> fit = fit_weights(patterns, np.array([3, 1]), patterns, np.array([1, 1]),
    ...                   pairs=[], l2=0.0)
    >>> fit.overall.round(3).tolist(), fit.per_slice.round(3).tolist()
    ([0.667, 2.0], [[0.0, 2.0]])
    """
    if noise is not None:
        ratios, target_rates = noise.ratios(
            source_patterns, source_rows, target_patterns, target_rows
        )
        overall, per_slice = noise.weights(ratios, source_patterns, source_rows)
        log_ratios = np.log(np.concatenate(ratios))
        return Weighting(overall, per_slice, target_rates, log_ratios, True, l2)
    target_share = target_rows / target_rows.sum()
    source_features = feature_matrix(source_patterns, pairs)
    target_mean = target_share @ feature_matrix(target_patterns, pairs)
    k = source_patterns.shape[1]
    target_rates = (target_mean[:k] + 1) / 2
    fit = fit_log_linear_ratio(
        source_features, source_rows, target_mean, l2=l2, start=start
    )
    l2_used = l2
    if not fit.converged and l2 < FALLBACK_L2:
        l2_used = FALLBACK_L2
        fit = fit_log_linear_ratio(
            source_features, source_rows, target_mean, l2=l2_used, start=start
        )
    overall = np.exp(fit.log_weights)
    per_slice = overall[None, :] * source_patterns.T
    return Weighting(
        overall, per_slice, target_rates, fit.theta, l2_used == l2, l2_used
    )
