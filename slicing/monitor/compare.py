"""Compare two models slice by slice: both scores, the difference, how sure it is.

Two ways, by what is at hand:

* :func:`compare_slice_scores` puts any two score tables side by side (even from
  different data or the Dask path) and asks whether their intervals overlap: a
  conservative test.
* :func:`compare_models` takes both models' predictions on the same rows. Their
  errors are correlated, so two separate intervals overlap far more often than the
  models are really indistinguishable; resampling rows once for both models (a
  paired bootstrap) gives an interval for the difference itself. It is done on
  joint counts ``counts[slice, gold, baseline_pred, candidate_pred]``: cheap, and
  exact for the count metrics.
"""

import warnings
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from slicing.intervals import bootstrap_percentile_interval
from slicing.monitor.counts import confusion_counts, resample_counts
from slicing.monitor.inputs import (
    OVERALL,
    SliceMatrixLike,
    label_values,
    prepare_scoring_inputs,
)
from slicing.monitor.metrics import CountMetric
from slicing.monitor.options import ScoreOptions
from slicing.monitor.table import table_from_counts

__all__ = ["classify_change", "compare_models", "compare_slice_scores"]

#: Options that compare_models sets itself.
_SET_BY_COMPARE_MODELS = {
    "metrics": "compare_models compares one metric; pass metric=...",
    "sort": "the comparison keeps the slices in SF order",
}


def compare_slice_scores(
    baseline: pd.DataFrame,
    candidate: pd.DataFrame,
    *,
    metric: str | None = None,
    labels: tuple[str, str] = ("baseline", "candidate"),
) -> pd.DataFrame:
    """Put two score tables side by side for one metric, e.g. vanilla vs slice-aware.

    Works on any two tables (even from different data or the Dask path). Disjoint
    intervals are a conservative test; when both models' predictions on the same
    rows are at hand, :func:`compare_models` gives a paired interval for the
    difference, which detects smaller changes.

    Parameters
    ----------
    baseline, candidate
        Tables from :func:`~slicing.monitor.scores.slice_scores` (or the Dask path)
        on the same data and slices.
    metric
        Metric to compare; the baseline table's first metric by default.
    labels
        Column prefixes for the two models.

    Returns
    -------
    pd.DataFrame
        In the baseline's row order: ``n``, then per model ``{label}``,
        ``{label}_low``, ``{label}_high`` (bounds when both tables have them),
        ``diff`` (candidate minus baseline), ``intervals_overlap`` (False means
        the difference is clear at the tables' confidence level; NA without
        intervals) and ``change`` (``"better"``, ``"worse"``, ``"unclear"``,
        ``"too small"``, ``"undefined"``).

    Raises
    ------
    ValueError
        If the tables hold different slices or lack the metric.

    Examples
    --------
    >>> import numpy as np
    >>> from slicing.matrix import make_slice_matrix
    >>> from slicing.monitor.scores import slice_scores
    >>> S = make_slice_matrix(np.arange(200)[:, None] < 100, ["first_half"])
    >>> golds = np.tile([0, 1], 100)
    >>> vanilla = slice_scores(golds, S, preds=np.where(np.arange(200) < 100, 0, golds))
    >>> aware = slice_scores(golds, S, preds=golds)
    >>> compare_slice_scores(vanilla, aware, labels=("vanilla", "aware"))[
    ...     ["vanilla", "aware", "diff", "intervals_overlap", "change"]]
                vanilla  aware  diff  intervals_overlap  change
    slice
    overall        0.75    1.0  0.25              False  better
    first_half     0.50    1.0  0.50              False  better
    """
    if labels[0] == labels[1]:
        raise ValueError(f"labels must differ; got {labels}")
    metric = metric or baseline.attrs.get("metrics", [None])[0]
    for name, table in zip(labels, (baseline, candidate), strict=True):
        if metric not in table.columns:
            raise ValueError(
                f"metric {metric!r} is not in the {name} table; it has "
                f"{table.attrs.get('metrics', list(table.columns))}"
            )
    only_baseline = [name for name in baseline.index if name not in candidate.index]
    only_candidate = [name for name in candidate.index if name not in baseline.index]
    if only_baseline or only_candidate:
        raise ValueError(
            f"the tables hold different slices: only in {labels[0]}: {only_baseline}, "
            f"only in {labels[1]}: {only_candidate}"
        )
    candidate = candidate.loc[baseline.index]
    differing = baseline.index[baseline["n"].to_numpy() != candidate["n"].to_numpy()]
    if len(differing):
        warnings.warn(
            f"slices {list(differing)} have different sizes in the two tables; were "
            "they scored on the same rows?",
            stacklevel=2,
        )
    comparison = pd.DataFrame({"n": baseline["n"]}, index=baseline.index)
    has_bounds = all(f"{metric}_low" in table for table in (baseline, candidate))
    for label, table in zip(labels, (baseline, candidate), strict=True):
        comparison[label] = table[metric]
        if has_bounds:
            comparison[f"{label}_low"] = table[f"{metric}_low"]
            comparison[f"{label}_high"] = table[f"{metric}_high"]
    comparison["diff"] = candidate[metric] - baseline[metric]
    if has_bounds:
        overlap = (baseline[f"{metric}_low"] <= candidate[f"{metric}_high"]) & (
            candidate[f"{metric}_low"] <= baseline[f"{metric}_high"]
        )
        undefined = baseline[f"{metric}_low"].isna() | candidate[f"{metric}_low"].isna()
        comparison["intervals_overlap"] = overlap.astype("boolean").mask(undefined)
    else:
        comparison["intervals_overlap"] = pd.array([pd.NA] * len(baseline), "boolean")
    apart = ~comparison["intervals_overlap"].fillna(True).astype(bool)
    comparison["change"] = classify_change(
        comparison["diff"], apart, baseline, candidate
    )
    comparison.attrs["metric"] = metric
    comparison.attrs["labels"] = labels
    return comparison


def compare_models(
    golds: ArrayLike,
    S: SliceMatrixLike,
    baseline_preds: ArrayLike,
    candidate_preds: ArrayLike,
    *,
    metric: str = "accuracy",
    labels: tuple[str, str] = ("baseline", "candidate"),
    options: ScoreOptions | None = None,
    **option_values: Any,
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
    labels
        Column names for the two models.
    options, **option_values
        Scoring options as in :func:`~slicing.monitor.scores.slice_scores` (see
        :class:`~slicing.monitor.options.ScoreOptions`): ``ci`` is the level of all
        intervals, ``n_resamples`` the paired resamples per slice, ``min_support``
        the size below which a slice is not judged (``change == "too small"``).
        ``metrics`` and ``sort`` are set here (``metric``, SF order).

    Returns
    -------
    pd.DataFrame
        The columns of :func:`compare_slice_scores` plus ``diff_low`` and
        ``diff_high`` (paired bootstrap interval of candidate minus baseline);
        ``change`` is judged on that interval (``"better"``/``"worse"`` when it
        excludes 0).

    Raises
    ------
    ValueError
        For a metric that needs rows (roc_auc, callables), ``ci=None``, length
        mismatches and invalid labels.

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
    options = ScoreOptions.of(options, _SET_BY_COMPARE_MODELS, **option_values)
    options = ScoreOptions.of(options, metrics=metric, sort=False)
    options.require_count_metrics("compare_models")
    if options.ci is None:
        raise ValueError(
            "compare_models needs ci, the level of its intervals; got None"
        )
    baseline, baseline_missing = label_values(
        baseline_preds, "baseline_preds", options.abstain_label
    )
    candidate, candidate_missing = label_values(
        candidate_preds, "candidate_preds", options.abstain_label
    )
    if baseline.shape != candidate.shape:
        raise ValueError(
            f"baseline_preds has {baseline.size} rows but candidate_preds has "
            f"{candidate.size}; expected predictions for the same rows"
        )
    joint, slice_names, _ = joint_prediction_counts(
        golds, S, baseline, candidate, baseline_missing | candidate_missing, options
    )
    (counts_metric,) = options.resolve_metrics(joint.shape[1])
    assert isinstance(counts_metric, CountMetric)
    baseline_table, candidate_table = (
        table_from_counts(marginal, slice_names, options)
        for marginal in (joint.sum(axis=3), joint.sum(axis=2))
    )
    comparison = compare_slice_scores(
        baseline_table, candidate_table, metric=counts_metric.name, labels=labels
    )
    resampled = resample_counts(joint, options.n_resamples, options.seed)
    differences = counts_metric.from_counts(
        resampled.sum(axis=-2)
    ) - counts_metric.from_counts(resampled.sum(axis=-1))
    comparison["diff_low"], comparison["diff_high"] = bootstrap_percentile_interval(
        differences, options.ci
    )
    excludes_zero = (comparison["diff_low"] > 0) | (comparison["diff_high"] < 0)
    comparison["change"] = classify_change(
        comparison["diff"], excludes_zero, baseline_table, candidate_table
    )
    columns = [column for column in comparison.columns if column != "change"]
    return comparison[[*columns, "change"]]


def joint_prediction_counts(
    golds: ArrayLike,
    S: SliceMatrixLike,
    baseline: np.ndarray,
    candidate: np.ndarray,
    missing: np.ndarray,
    options: ScoreOptions,
    *,
    min_classes: int = 2,
) -> tuple[np.ndarray, list[str], int]:
    """Joint counts ``(1 + k, C, C, C)`` of gold, baseline and candidate labels.

    ``baseline`` and ``candidate`` are class labels on the same rows; a row where
    ``missing`` is true (either model has no prediction) is left out for both.
    ``joint[j, g, b, c]`` counts rows of slice ``j - 1`` (``j = 0``: all rows) with
    gold ``g``, baseline ``b`` and candidate ``c``; ``C`` is at least
    ``min_classes``. Shared by :func:`compare_models` and the release gates.

    Returns
    -------
    tuple[np.ndarray, list[str], int]
        The counts, the slice names and the number of rows left out.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from slicing.monitor.options import ScoreOptions
    >>> S = pd.DataFrame({"a": [True, True, False]})
    >>> joint, names, left_out = joint_prediction_counts(
    ...     [0, 1, 1], S, np.array([0, 0, 1]), np.array([0, 1, 1]),
    ...     np.zeros(3, bool), ScoreOptions())
    >>> joint.shape, int(joint[1, 1, 0, 1]), left_out
    ((2, 2, 2, 2), 1, 0)
    """
    width = max(
        min_classes,
        1 + int(baseline[~missing].max(initial=0)),
        1 + int(candidate[~missing].max(initial=0)),
    )
    # One label per row encoding both predictions lets the shared validation drop
    # a row for both models at once.
    pair = np.where(missing, np.nan, baseline * width + candidate)
    inputs = prepare_scoring_inputs(golds, S, preds=pair, options=options)
    n_classes = max(width, int(inputs.golds.max(initial=0)) + 1)
    baseline_part, candidate_part = np.divmod(inputs.preds, width)
    joint = confusion_counts(
        inputs.indicators,
        inputs.golds,
        baseline_part * n_classes + candidate_part,
        n_classes,
        n_classes * n_classes,
    ).reshape(-1, n_classes, n_classes, n_classes)
    return joint, inputs.slice_names, inputs.n_left_out


def classify_change(
    difference: pd.Series,
    clearly_apart: pd.Series,
    baseline: pd.DataFrame,
    candidate: pd.DataFrame,
) -> list[str]:
    """Label each slice's change: better, worse, unclear, too small or undefined.

    Parameters
    ----------
    difference
        Candidate minus baseline, per slice.
    clearly_apart
        True where the evidence says the two differ (disjoint intervals, or an
        interval of the difference excluding 0).
    baseline, candidate
        The two score tables, for their ``status`` (small slices are not judged).

    Returns
    -------
    list[str]
    """
    small = baseline["status"].isin(["too small", "empty"]) | candidate["status"].isin(
        ["too small", "empty"]
    )
    changes = []
    for name in difference.index:
        if small.loc[name] and name != OVERALL:
            changes.append("too small")
        elif np.isnan(difference.loc[name]):
            changes.append("undefined")
        elif not clearly_apart.loc[name]:
            changes.append("unclear")
        else:
            changes.append("better" if difference.loc[name] > 0 else "worse")
    return changes
