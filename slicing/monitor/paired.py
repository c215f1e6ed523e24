"""Paired comparison of two models' predictions on the same rows, slice by slice.

When both models are scored on the same data points, their errors are correlated, so
two separate intervals overlap far more often than the models are really
indistinguishable. Resampling rows once for both models (a paired bootstrap) gives an
interval for the difference itself. It is done on joint counts
``counts[slice, gold, baseline_pred, candidate_pred]``: cheap, and exact for the
count metrics.
"""

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from slicing.intervals import bootstrap_percentile_interval
from slicing.monitor.compare import classify_change, compare_slice_scores
from slicing.monitor.counts import (
    confusion_counts,
    estimate_count_metrics,
    resample_counts,
)
from slicing.monitor.inputs import SliceMatrixLike, label_values, prepare_scoring_inputs
from slicing.monitor.metrics import CountMetric, resolve_metrics
from slicing.monitor.table import assemble_score_table

__all__ = ["compare_models"]


def compare_models(
    golds: ArrayLike,
    S: SliceMatrixLike,
    baseline_preds: ArrayLike,
    candidate_preds: ArrayLike,
    metric: str = "accuracy",
    ci: float = 0.95,
    n_resamples: int = 1000,
    seed: int = 0,
    min_support: int = 30,
    labels: tuple[str, str] = ("baseline", "candidate"),
    abstain_label: int = -1,
    nan_policy: str = "omit",
) -> pd.DataFrame:
    """Compare two models slice by slice, with a paired interval for the difference.

    Parameters
    ----------
    golds
        Gold labels, shape ``(n,)``.
    S
        Slice matrix (or DataFrame of bool slice columns), ``n`` rows.
    baseline_preds, candidate_preds
        The two models' predicted labels on the same rows. A row missing either
        prediction (NaN or ``abstain_label``) is left out for both.
    metric
        A count metric: accuracy, precision, recall, f1, f1_micro, f1_macro or
        matthews_corrcoef.
    ci
        Confidence level of all intervals.
    n_resamples
        Paired bootstrap resamples per slice.
    seed
        Bootstrap seed.
    min_support
        Slices with fewer rows are not judged (``change == "too small"``).
    labels
        Column names for the two models.
    abstain_label, nan_policy
        As in :func:`~slicing.monitor.scores.slice_scores`.

    Returns
    -------
    pd.DataFrame
        The columns of :func:`~slicing.monitor.compare.compare_slice_scores` plus
        ``diff_low`` and ``diff_high`` (paired bootstrap interval of candidate minus
        baseline); ``change`` is judged on that interval (``"better"``/``"worse"``
        when it excludes 0).

    Raises
    ------
    ValueError
        For a metric that needs rows (roc_auc, callables), length mismatches and
        invalid labels.

    Examples
    --------
    >>> import numpy as np
    >>> from slicing.matrix import make_slice_matrix
    >>> rng = np.random.default_rng(0)
    >>> golds = rng.integers(0, 2, 400)
    >>> S = make_slice_matrix(rng.random((400, 1)) < 0.5, ["half"])
    >>> baseline = np.where(rng.random(400) < 0.85, golds, 1 - golds)
    >>> # The candidate fixes half of the baseline's errors on the slice.
    >>> candidate = np.where(S["half"] & (rng.random(400) < 0.5), golds, baseline)
    >>> table = compare_models(golds, S, baseline, candidate)
    >>> table.loc["half", ["diff", "diff_low", "diff_high"]].round(3).tolist()
    [0.054, 0.022, 0.091]
    >>> bool(table.at["half", "intervals_overlap"]), table.at["half", "change"]
    (True, 'better')
    """
    resolved = resolve_metrics(metric)
    if not isinstance(resolved[0], CountMetric):
        raise ValueError(
            f"compare_models needs a count metric; got {metric!r}. Score each model "
            "with slice_scores and use compare_slice_scores instead"
        )
    baseline, baseline_missing = label_values(
        baseline_preds, "baseline_preds", abstain_label
    )
    candidate, candidate_missing = label_values(
        candidate_preds, "candidate_preds", abstain_label
    )
    if baseline.shape != candidate.shape:
        raise ValueError(
            f"baseline_preds has {baseline.size} rows but candidate_preds has "
            f"{candidate.size}; expected predictions for the same rows"
        )
    either_missing = baseline_missing | candidate_missing
    width = 1 + int(
        max(
            baseline[~either_missing].max(initial=0),
            candidate[~either_missing].max(initial=0),
        )
    )
    # One label per row encoding both predictions lets the shared validation drop
    # a row for both models at once.
    pair = np.where(either_missing, np.nan, baseline * width + candidate)
    inputs = prepare_scoring_inputs(
        golds, S, preds=pair, abstain_label=abstain_label, nan_policy=nan_policy
    )
    n_classes = max(2, width, int(inputs.golds.max(initial=0)) + 1)
    counts_metric = resolve_metrics(metric, n_classes)[0]
    assert isinstance(counts_metric, CountMetric)
    baseline_part, candidate_part = np.divmod(inputs.preds, width)
    joint = confusion_counts(
        inputs.indicators,
        inputs.golds,
        baseline_part * n_classes + candidate_part,
        n_classes,
        n_classes * n_classes,
    ).reshape(-1, n_classes, n_classes, n_classes)
    baseline_table, candidate_table = (
        assemble_score_table(
            inputs.slice_names,
            joint.sum(axis=(1, 2, 3)),
            estimate_count_metrics(
                marginal, [counts_metric], ci, "auto", n_resamples, seed
            ),
            min_support,
            sort=False,
            confidence=ci,
        )
        for marginal in (joint.sum(axis=3), joint.sum(axis=2))
    )
    comparison = compare_slice_scores(
        baseline_table, candidate_table, metric=counts_metric.name, labels=labels
    )
    resampled = resample_counts(joint, n_resamples, seed)
    differences = counts_metric.from_counts(
        resampled.sum(axis=-2)
    ) - counts_metric.from_counts(resampled.sum(axis=-1))
    comparison["diff_low"], comparison["diff_high"] = bootstrap_percentile_interval(
        differences, ci
    )
    excludes_zero = (comparison["diff_low"] > 0) | (comparison["diff_high"] < 0)
    comparison["change"] = classify_change(
        comparison["diff"], excludes_zero, baseline_table, candidate_table
    )
    columns = [column for column in comparison.columns if column != "change"]
    return comparison[[*columns, "change"]]
