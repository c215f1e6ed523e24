"""The statistics of the regression gate: one-sided tests from counts, corrections, power.

Every check asks "is the rule violated beyond noise?": a one-sided test of
``H0: excess <= 0`` against ``excess > 0``, where the excess is how far the
candidate is past the threshold:

* drop rules: ``excess = scale * baseline - candidate - max_drop`` on the same rows,
  with ``scale = 1`` for ``max_drop`` and ``scale = 1 - max_relative_drop`` (and
  ``max_drop = 0``) for ``max_relative_drop``, since
  ``(baseline - candidate) / baseline > r  <=>  (1 - r) * baseline - candidate > 0``;
* floors: ``excess = floor - candidate``.

For accuracy (and ``f1_micro``, the same number) each row is right or wrong under
each model, so a slice is summed up by the 2x2 table of baseline-correct x
candidate-correct. A drop rule with zero tolerance is McNemar's exact test (a
binomial test on the discordant rows); other drop rules use a Wald test of the
per-row excess with Agresti-Min's adjustment (0.5 added to each cell for the
variance); floors are an exact binomial test. Other count metrics (precision,
recall, F1, macro F1, MCC) use a paired bootstrap of the joint confusion counts
(multinomial resampling of the slice's cells, both models at once), with
``p = (1 + #{resampled excess <= 0}) / (1 + resamples)``.

All functions work on arrays with one entry per table row (``overall`` and slices).
"""

import warnings
from statistics import NormalDist

import numpy as np
from scipy import stats

__all__ = [
    "adjust_p_values",
    "bootstrap_drop_test",
    "bootstrap_floor_test",
    "paired_drop_test",
    "proportion_floor_test",
    "rows_needed",
    "unpaired_drop_test",
]

TestResult = tuple[np.ndarray, np.ndarray, np.ndarray]


def paired_drop_test(
    cells: np.ndarray, scale: float = 1.0, max_drop: float = 0.0
) -> TestResult:
    """Test ``scale * baseline_accuracy - candidate_accuracy > max_drop`` on paired rows.

    Parameters
    ----------
    cells
        Counts of shape ``(rows, 4)``: both right, only the baseline right, only
        the candidate right, both wrong.
    scale, max_drop
        See the module docstring.

    Returns
    -------
    tuple of np.ndarray
        ``excess`` (observed; > 0 means the rule is broken), one-sided ``p`` and
        the standard deviation of the per-row excess (for power); NaN without rows.

    Examples
    --------
    >>> excess, p, sd = paired_drop_test(np.array([[80, 15, 3, 2]]))
    >>> float(excess[0]), round(float(p[0]), 4)  # 15 losses vs 3 wins: McNemar exact
    (0.12, 0.0038)
    """
    cells = np.asarray(cells, dtype=np.float64)
    n = cells.sum(axis=1)
    # The per-row excess in each cell: both right, baseline only, candidate only, neither.
    values = np.array([scale - 1.0, scale, -1.0, 0.0]) - max_drop
    with np.errstate(divide="ignore", invalid="ignore"):
        excess = (cells * values).sum(axis=1) / n
        adjusted = cells + 0.5
        adjusted_mean = (adjusted * values).sum(axis=1) / adjusted.sum(axis=1)
        variance = (adjusted * (values - adjusted_mean[:, None]) ** 2).sum(
            axis=1
        ) / adjusted.sum(axis=1)
        sd = np.sqrt(variance)
        if scale == 1.0 and max_drop == 0.0:
            losses, wins = cells[:, 1], cells[:, 2]
            discordant = losses + wins
            p = np.where(
                discordant > 0,
                stats.binom.sf(losses - 1, np.maximum(discordant, 1), 0.5),
                1.0,
            )
        else:
            p = stats.norm.sf(excess / (sd / np.sqrt(n)))
    empty = n == 0
    return _nan_where(empty, excess), _nan_where(empty, p), _nan_where(empty, sd)


def proportion_floor_test(
    successes: np.ndarray, n: np.ndarray, floor: float
) -> TestResult:
    """Exact binomial test of ``candidate proportion < floor``.

    Examples
    --------
    >>> excess, p, sd = proportion_floor_test(np.array([70]), np.array([100]), 0.8)
    >>> round(float(excess[0]), 2), round(float(p[0]), 4), round(float(sd[0]), 2)
    (0.1, 0.0112, 0.4)
    """
    successes = np.asarray(successes, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        excess = floor - successes / n
    p = stats.binom.cdf(successes, np.maximum(n, 1), floor)
    sd = np.full(n.shape, np.sqrt(floor * (1 - floor)))
    empty = n == 0
    return _nan_where(empty, excess), _nan_where(empty, p), _nan_where(empty, sd)


def unpaired_drop_test(
    baseline: tuple[np.ndarray, np.ndarray],
    candidate: tuple[np.ndarray, np.ndarray],
    scale: float = 1.0,
    max_drop: float = 0.0,
) -> TestResult:
    """Wald test of a proportion drop between two independent samples (Agresti-Caffo).

    Used when only the two models' score tables are at hand (not the same rows):
    one success and one failure are added to each sample for the variance.

    Parameters
    ----------
    baseline, candidate
        ``(successes, n)`` per table row.
    scale, max_drop
        See the module docstring.

    Returns
    -------
    tuple of np.ndarray
        ``excess``, one-sided ``p`` and the per-row standard deviation of the
        excess for equal sample sizes.

    Examples
    --------
    >>> excess, p, sd = unpaired_drop_test((np.array([90]), np.array([100])),
    ...                                    (np.array([75]), np.array([100])))
    >>> round(float(excess[0]), 2), round(float(p[0]), 4)
    (0.15, 0.0025)
    """
    (base_hits, base_n), (cand_hits, cand_n) = (
        (np.asarray(hits, np.float64), np.asarray(n, np.float64))
        for hits, n in (baseline, candidate)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        excess = scale * base_hits / base_n - cand_hits / cand_n - max_drop
        base_p = (base_hits + 1) / (base_n + 2)
        cand_p = (cand_hits + 1) / (cand_n + 2)
        variance = (
            scale**2 * base_p * (1 - base_p) / base_n + cand_p * (1 - cand_p) / cand_n
        )
        p = stats.norm.sf(excess / np.sqrt(variance))
        sd = np.sqrt(scale**2 * base_p * (1 - base_p) + cand_p * (1 - cand_p))
    empty = (base_n == 0) | (cand_n == 0)
    return _nan_where(empty, excess), _nan_where(empty, p), _nan_where(empty, sd)


def bootstrap_drop_test(
    observed: tuple[np.ndarray, np.ndarray],
    resampled: tuple[np.ndarray, np.ndarray],
    n: np.ndarray,
    scale: float = 1.0,
    max_drop: float = 0.0,
) -> TestResult:
    """Paired bootstrap test of ``scale * baseline - candidate > max_drop``.

    Parameters
    ----------
    observed
        The baseline's and the candidate's metric per row, shape ``(rows,)``.
    resampled
        The same on paired resamples, shape ``(rows, n_resamples)`` (NaN where the
        metric is undefined on a resample; those are ignored).
    n
        Rows per table row (to turn the spread into a per-row standard deviation).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> base, cand = 0.9 + 0.01 * rng.standard_normal((2, 1, 999))
    >>> excess, p, sd = bootstrap_drop_test((np.array([0.9]), np.array([0.9])),
    ...                                     (base, cand - 0.05), np.array([100]))
    >>> float(p[0]) < 0.01
    True
    """
    (base, cand), (base_samples, cand_samples) = observed, resampled
    excess = scale * base - cand - max_drop
    samples = scale * base_samples - cand_samples - max_drop
    return excess, *_bootstrap_p(samples, samples <= 0, excess, n)


def bootstrap_floor_test(
    observed: np.ndarray, resampled: np.ndarray, n: np.ndarray, floor: float
) -> TestResult:
    """Bootstrap test of ``candidate < floor`` (see :func:`bootstrap_drop_test`)."""
    excess = floor - observed
    samples = floor - resampled
    return excess, *_bootstrap_p(samples, samples <= 0, excess, n)


def _bootstrap_p(
    samples: np.ndarray, supporting_h0: np.ndarray, excess: np.ndarray, n: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    valid = ~np.isnan(samples)
    n_valid = valid.sum(axis=1)
    p = (1 + (supporting_h0 & valid).sum(axis=1)) / (1 + n_valid)
    with warnings.catch_warnings():
        # All-NaN rows (undefined everywhere) are marked below.
        warnings.simplefilter("ignore", RuntimeWarning)
        sd = np.nanstd(np.where(valid, samples, np.nan), axis=1) * np.sqrt(n)
    undefined = np.isnan(excess) | (n_valid == 0)
    return _nan_where(undefined, p), _nan_where(undefined, sd)


def adjust_p_values(p_values: np.ndarray, method: str = "holm") -> np.ndarray:
    """Adjust p-values for multiple tests; NaN entries (not tested) are left out.

    ``"holm"``: Holm's step-down Bonferroni, controlling the chance of any false
    failure (family-wise error rate) under any dependence between slices.
    ``"bh"``: Benjamini-Hochberg, controlling the expected share of false failures
    among the failures (false discovery rate; valid for independent or positively
    dependent tests), which fails more slices when many truly regress.

    Examples
    --------
    >>> adjust_p_values(np.array([0.01, 0.04, np.nan, 0.03])).tolist()
    [0.03, 0.06, nan, 0.06]
    >>> adjust_p_values(np.array([0.01, 0.04, np.nan, 0.03]), "bh").tolist()
    [0.03, 0.04, nan, 0.04]
    """
    p_values = np.asarray(p_values, dtype=np.float64)
    adjusted = np.full(p_values.shape, np.nan)
    tested = np.flatnonzero(~np.isnan(p_values))
    m = tested.size
    if m == 0:
        return adjusted
    order = tested[np.argsort(p_values[tested], kind="stable")]
    ranked = p_values[order]
    if method == "holm":
        values = np.maximum.accumulate((m - np.arange(m)) * ranked)
    elif method == "bh":
        values = np.minimum.accumulate((m / np.arange(1, m + 1) * ranked)[::-1])[::-1]
    else:
        raise ValueError(f"method must be 'holm' or 'bh'; got {method!r}")
    adjusted[order] = np.minimum(values, 1.0)
    return adjusted


def rows_needed(
    sd: np.ndarray, detectable: float, alpha: float, power: float
) -> np.ndarray:
    """Rows at which a one-sided level-``alpha`` test detects an excess of ``detectable``.

    ``n = ((z[1 - alpha] + z[power]) * sd / detectable) ** 2``, with ``sd`` the
    standard deviation of the per-row excess (for accuracy drops: from the
    observed discordance rate). NaN where ``sd`` is.

    Examples
    --------
    >>> rows_needed(np.array([0.6]), 0.05, alpha=0.05 / 21, power=0.8).tolist()
    [1934.0]
    """
    z = NormalDist().inv_cdf(1 - alpha) + NormalDist().inv_cdf(power)
    with np.errstate(invalid="ignore"):
        return np.ceil((z * np.asarray(sd, dtype=np.float64) / detectable) ** 2)


def _nan_where(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
    return np.where(mask, np.nan, values)
