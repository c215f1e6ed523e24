"""Probabilities that depend on slice membership: penalized logistic regressions by Newton.

The label model describes each LF by rates such as "votes, given the class is ``y``"
and "votes right, given it votes and the class is ``y``". Each such rate ``r`` depends
on a row's slice indicators ``s`` (``k`` of them) through an additive logit,

    logit r(s) = theta_0 + sum_j theta_j (s_j - center_j),

where ``center_j`` is the share of the rate's trials (rows, or the LF's votes) that
fall in slice ``j``. Centring makes ``theta_0`` the rate on an average row, so that
shrinking the slice coefficients ``theta_j`` to zero gives back the global
(slice-blind) rate, and overlapping slices add up in logit space instead of needing a
parameter per combination. The shrinkage is a Gaussian prior on each ``theta_j`` whose
precision is ``prior_strength * r (1 - r)``: the Fisher information of
``prior_strength`` trials at the global rate ``r``. A slice with ``n`` trials therefore
moves about ``n / (n + prior_strength)`` of the way from the global rate to its own.
Coefficients that are not *free* (too little data in the slice) stay exactly zero.

Trials are aggregated by slice pattern (the distinct rows of ``S``) before fitting, and
all regressions (every LF and class) take one batched Newton step together, so a step
costs ``O(regressions * patterns * k^2)``, independent of the number of rows.
"""

import numpy as np

__all__ = ["newton_step", "sigmoid", "slice_logits", "slice_patterns"]

#: One pseudo-trial at even odds on the intercept keeps a rate that is always 0 or 1
#: (an LF that only ever votes one class) from an infinite logit.
INTERCEPT_PSEUDO_TRIALS = 1.0
#: Largest change of a logit coefficient in one Newton step (keeps early EM steps sane).
MAX_STEP = 3.0


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function, elementwise.

    Examples
    --------
    >>> sigmoid(np.array([0.0])).tolist()
    [0.5]
    """
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def slice_patterns(S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of an ``(n, k)`` bool matrix and each row's pattern number.

    Examples
    --------
    >>> patterns, pattern_of_row = slice_patterns(np.array([[1, 0], [0, 0], [1, 0]], bool))
    >>> patterns.tolist(), pattern_of_row.tolist()
    ([[False, False], [True, False]], [1, 0, 1])
    """
    if S.shape[1] <= 62:
        codes = S.astype(np.int64) @ (
            np.int64(1) << np.arange(S.shape[1], dtype=np.int64)
        )
        _, first, pattern_of_row = np.unique(
            codes, return_index=True, return_inverse=True
        )
        return S[first], pattern_of_row.reshape(-1)
    patterns, pattern_of_row = np.unique(S, axis=0, return_inverse=True)
    return patterns, pattern_of_row.reshape(-1)


def slice_logits(
    theta: np.ndarray, centers: np.ndarray, free: np.ndarray, S: np.ndarray
) -> np.ndarray:
    """``logit r(s)`` of every regression on every row of ``S`` ``(n, k)``: shape ``(n, b)``.

    Parameters
    ----------
    theta, centers, free
        ``(b, k + 1)`` coefficients (intercept first), ``(b, k)`` centres and
        ``(b, k + 1)`` free flags of ``b`` regressions.
    S
        ``(n, k)`` bool slice indicators (rows or slice patterns).

    Examples
    --------
    >>> theta = np.array([[0.0, 1.0]])                  # one regression, one slice
    >>> slice_logits(theta, np.array([[0.5]]), np.ones((1, 2), bool),
    ...              np.array([[True], [False]])).ravel().tolist()
    [0.5, -0.5]
    """
    slope = np.where(free[:, 1:], theta[:, 1:], 0.0)  # (b, k)
    offset = theta[:, 0] - (slope * centers).sum(axis=1)
    return S.astype(np.float64) @ slope.T + offset


def newton_step(
    theta: np.ndarray,
    trials: np.ndarray,
    successes: np.ndarray,
    patterns: np.ndarray,
    centers: np.ndarray,
    free: np.ndarray,
    prior_strength: float,
) -> np.ndarray:
    """One penalized Newton step of ``b`` logistic regressions at once.

    Parameters
    ----------
    theta
        Coefficients ``(b, k + 1)``, intercept first.
    trials, successes
        ``(b, G)``: each regression's trials in each slice pattern and its
        successes (expected counts under the current posterior, so not integers).
    patterns
        ``(G, k)`` bool slice patterns.
    centers
        ``(b, k)`` share of each regression's trials in each slice.
    free
        ``(b, k + 1)`` bool: coefficients that are fitted (the others stay 0).
    prior_strength
        Pseudo-trials at the global rate behind each slice coefficient.

    Returns
    -------
    np.ndarray
        The updated ``(b, k + 1)`` coefficients.

    Examples
    --------
    >>> theta = np.zeros((1, 1))                       # no slices: one rate
    >>> for _ in range(8):
    ...     theta = newton_step(theta, np.array([[100.0]]), np.array([[80.0]]),
    ...                         np.zeros((1, 0), bool), np.zeros((1, 0)),
    ...                         np.ones((1, 1), bool), 50.0)
    >>> round(float(sigmoid(theta[0, 0])), 3)           # 80 of 100, one pseudo-trial at 0.5
    0.797
    """
    n_regressions, n_coef = theta.shape
    design = np.empty((n_regressions, patterns.shape[0], n_coef))
    design[:, :, 0] = 1.0
    design[:, :, 1:] = patterns[None, :, :] - centers[:, None, :]
    design[:, :, 1:] *= free[:, None, 1:]
    rate = sigmoid(np.einsum("bgk,bk->bg", design, theta))
    global_rate = sigmoid(theta[:, 0])
    precision = np.empty_like(theta)
    precision[:, 0] = INTERCEPT_PSEUDO_TRIALS * 0.25
    slope_precision = prior_strength * global_rate * (1 - global_rate)
    precision[:, 1:] = slope_precision[:, None]
    gradient = np.einsum("bgk,bg->bk", design, successes - trials * rate)
    gradient -= precision * theta
    curvature = trials * rate * (1 - rate)
    hessian = np.einsum("bgk,bg,bgl->bkl", design, curvature, design)
    hessian[:, np.arange(n_coef), np.arange(n_coef)] += precision + 1e-9
    # Fixed coefficients: identity rows and columns, zero gradient -> zero step.
    hessian = np.where(free[:, :, None] & free[:, None, :], hessian, 0.0)
    hessian[:, np.arange(n_coef), np.arange(n_coef)] += ~free
    gradient = np.where(free, gradient, 0.0)
    step = np.linalg.solve(hessian, gradient[:, :, None])[:, :, 0]
    return theta + np.clip(step, -MAX_STEP, MAX_STEP)
