"""``estimate_performance``: a model's performance on unlabeled data, from SFs (Mandoline).

Chen, Goel, Sohoni, Poms, Fatahalian and Ré, *Mandoline: Model Evaluation under
Distribution Shift*, ICML 2021. The SF outputs on the labeled source and on the
unlabeled target give importance weights (a log-linear density ratio fitted by
KLIEP on pattern counts); the weighted source outcomes estimate the target's
performance, overall and per slice.
"""

import warnings
from typing import Any

import numpy as np

from slicing.estimate.diagnostics import build_result
from slicing.estimate.features import PairsArg, resolve_pairs
from slicing.estimate.inputs import (
    align_target,
    check_options,
    flip_rates_from,
    source_counts_from,
    target_counts_from,
)
from slicing.estimate.intervals import (
    bootstrap_intervals,
    delta_method_intervals,
    estimates,
    source_values,
)
from slicing.estimate.metrics import MetricsArg
from slicing.estimate.noise import NoiseModel
from slicing.estimate.result import PerformanceEstimate
from slicing.estimate.weighting import Weighting, fit_weights

__all__ = ["estimate_performance"]

#: Above this many pattern x slice x resample products, "auto" intervals use the
#: delta method (the bootstrap would take more than a few seconds).
BOOTSTRAP_WORK = 5e7


def estimate_performance(
    source: Any,
    target: Any,
    correct: Any = None,
    *,
    golds: Any = None,
    preds: Any = None,
    probs: Any = None,
    metrics: MetricsArg = "accuracy",
    pairs: PairsArg = None,
    l2: float = 0.0,
    calibration: Any = None,
    ci: float | None = 0.95,
    ci_method: str = "auto",
    n_resamples: int = 1000,
    seed: int = 0,
    scheduler: Any = None,
) -> PerformanceEstimate:
    """Estimate performance on an unlabeled target from SF outputs on both sides.

    Fits ``w(g) = exp(theta . phi(g)) / Z`` over the SF outputs ``g`` coded -1/+1
    (``phi``: the SFs, plus the products of ``pairs``) so that the weighted source
    rate of every feature equals the target rate (KLIEP, Newton's method on pattern
    counts, deterministic), then reports the weighted source metrics. Intervals
    are a seeded bootstrap over source and target rows (multinomial on pattern
    counts), refitting the weights in each replicate.

    Parameters
    ----------
    source
        SF outputs on the labeled rows: a slice matrix, a DataFrame of bool SF
        columns, or :class:`~slicing.estimate.patterns.PatternCounts` whose counts
        have shape ``(P, C, C)`` (rows per pattern, gold and predicted class; no
        outcomes needed then).
    target
        SF outputs on the unlabeled rows: a slice matrix, a DataFrame, a Dask
        DataFrame with one bool column per SF (reduced in one pass to pattern
        counts) or ``PatternCounts``. Same SF names as the source (any order).
    correct
        Per source row, whether the model was right (bool or 0/1); estimates
        accuracy. Or pass ``golds`` with ``preds`` or ``probs`` instead.
    golds, preds, probs
        Gold labels, predicted labels (or class probabilities) of the source rows.
    metrics
        Count metrics of the monitoring tables: ``accuracy``, ``precision``,
        ``recall``, ``f1``, ``f1_micro``, ``f1_macro``, ``matthews_corrcoef``.
    pairs
        Pair terms: a list of SF pairs (names or positions), ``"all"`` (use with
        ``l2 > 0``), or ``None``.
    l2
        Penalty ``l2 / 2 * |theta|^2``; 0 matches the target's rates exactly.
    calibration
        Noise-aware estimate: ``(true_membership, sf_outputs)`` on a few rows whose
        true slice membership is known (two slice matrices or DataFrames with the
        SF names), or :class:`~slicing.estimate.noise.FlipRates`. Corrects for the
        SFs' flip rates (see :mod:`slicing.estimate.noise`).
    ci
        Confidence level of the intervals, or ``None`` for none.
    ci_method
        ``"bootstrap"``: seeded bootstrap over source and target rows, refitting
        the weights in each replicate (percentile intervals); ``"delta"``: normal
        intervals from the influence functions (:mod:`slicing.estimate.delta`),
        one pass over the patterns; ``"auto"``: the bootstrap unless
        source patterns x (1 + slices) x resamples exceeds ``5e7`` (then delta),
        always the bootstrap when noise-aware.
    n_resamples
        Bootstrap replicates.
    seed
        Bootstrap seed; the same seed gives the same result.
    scheduler
        Dask scheduler for a Dask target (``"threads"``, ``"processes"``, a
        ``distributed.Client``; ``None``: Dask's default).

    Returns
    -------
    PerformanceEstimate

    Raises
    ------
    ValueError
        On mismatched SF names, an empty source or target, NaN or invalid outcomes,
        or invalid options, naming what was received and what was expected.

    Warns
    -----
    NoSourceSupportWarning
        When target rows have SF patterns that never occur in the source.
    UnmatchedRatesWarning
        When the target's SF rates cannot be reached by reweighting the source.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> source = pd.DataFrame({"short": [True] * 20 + [False] * 80})
    >>> correct = np.r_[np.zeros(10), np.ones(10), np.ones(80)]  # short: 50% right
    >>> target = pd.DataFrame({"short": [True] * 50 + [False] * 50})
    >>> result = estimate_performance(source, target, correct, n_resamples=200)
    >>> round(result.estimate(), 3), float(result.table.loc["overall", "source_accuracy"])
    (0.75, 0.9)
    >>> round(result.estimate(slice_name="short"), 3)
    0.5
    """
    check_options(l2, ci, n_resamples, seed)
    if ci_method not in ("auto", "bootstrap", "delta"):
        raise ValueError(
            f"ci_method must be 'auto', 'bootstrap' or 'delta'; got {ci_method!r}"
        )
    source_counts, row_patterns, metric_list = source_counts_from(
        source, correct, golds, preds, probs, metrics
    )
    names = source_counts.slice_names
    target_counts = align_target(
        target_counts_from(target, names, scheduler), names
    ).canonical()
    for side, counts in (("source", source_counts), ("target", target_counts)):
        if counts.n_rows == 0:
            raise ValueError(
                f"the {side} has no rows; expected at least one {side} row"
            )
    pair_positions = resolve_pairs(pairs, names)
    flip_rates, calibration_rows = flip_rates_from(calibration, names)
    noise = (
        None
        if flip_rates is None
        else NoiseModel(flip_rates, len(names), pair_positions)
    )

    def fit(
        source_cells: np.ndarray, target_rows: np.ndarray, model: NoiseModel | None
    ) -> Weighting:
        return fit_weights(
            source_counts.patterns,
            source_cells.sum(axis=(1, 2)),
            target_counts.patterns,
            target_rows,
            pairs=pair_positions,
            l2=l2,
            noise=model,
        )

    point = fit(source_counts.counts, target_counts.counts, noise)
    values = estimates(point, source_counts, metric_list)
    unweighted = source_values(
        source_counts.counts, source_counts.patterns, metric_list
    )
    intervals = None
    work = len(source_counts.patterns) * (1 + len(names)) * n_resamples
    use_delta = noise is None and (
        ci_method == "delta" or (ci_method == "auto" and work > BOOTSTRAP_WORK)
    )
    if ci is not None and use_delta:
        intervals = delta_method_intervals(
            point, source_counts, target_counts, metric_list, ci, pair_positions
        )
    elif ci is not None and n_resamples > 0:
        intervals = bootstrap_intervals(
            fit,
            point,
            source_counts,
            target_counts,
            metric_list,
            n_resamples,
            seed,
            ci,
            noise,
            calibration_rows,
            pair_positions,
        )
    result = build_result(
        point,
        source_counts,
        target_counts,
        metric_list,
        values,
        unweighted,
        intervals,
        pair_positions,
        row_patterns,
        l2,
        noise is not None,
    )
    for note, category in result.warning_notes:
        warnings.warn(note, category, stacklevel=2)
    return result.estimate
