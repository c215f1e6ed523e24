"""Per-slice scores of any model's predictions, with support and confidence intervals."""

import warnings
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from snorkel.analysis import Scorer

from slicing.intervals import bootstrap_percentile_interval, resample_rows
from slicing.monitor.counts import MetricEstimate, confusion_counts, slice_rng
from slicing.monitor.inputs import (
    ScoringInputs,
    SliceMatrixLike,
    prepare_scoring_inputs,
)
from slicing.monitor.metrics import RowMetric
from slicing.monitor.options import ScoreOptions
from slicing.monitor.table import table_from_counts

__all__ = ["SliceScorer", "slice_scores"]


def slice_scores(
    golds: ArrayLike,
    S: SliceMatrixLike,
    preds: ArrayLike | None = None,
    probs: ArrayLike | None = None,
    *,
    options: ScoreOptions | None = None,
    **option_values: Any,
) -> pd.DataFrame:
    """Score predictions overall and on every slice, with support and intervals.

    Works with labels from any model (scikit-learn, PyTorch, rules...): pass
    ``preds``, ``probs`` or both. Slices may overlap; each is scored on all of its
    rows. The result has one row for ``overall`` and one per slice; see
    :mod:`slicing.monitor.table` for the columns and ``status`` values.

    Parameters
    ----------
    golds
        Gold labels ``0..C-1``, shape ``(n,)``. Rows equal to ``abstain_label`` are
        left out.
    S
        Slice matrix (from an SF applier or ``make_slice_matrix``), a snorkel-style
        int64 record array, or a DataFrame with one bool column per slice.
    preds
        Predicted labels, shape ``(n,)``; derived from ``probs`` by argmax if absent.
    probs
        Class probabilities, shape ``(n, C)``; needed only by ``roc_auc``.
    options
        A :class:`~slicing.monitor.options.ScoreOptions`; the defaults if ``None``.
    **option_values
        Any :class:`~slicing.monitor.options.ScoreOptions` field, overriding
        ``options``: ``metrics`` (default ``"accuracy"``), ``ci`` (0.95),
        ``ci_method`` (``"auto"``), ``n_resamples`` (1000), ``seed`` (0),
        ``min_support`` (30), ``sort`` (True), ``abstain_label`` (-1),
        ``nan_policy`` (``"omit"``).

    Returns
    -------
    pd.DataFrame
        Indexed by slice name: ``n``, ``share``, per metric ``M``: ``M``, ``M_low``,
        ``M_high``, ``M_diff``; then ``status`` and ``note``.

    Raises
    ------
    TypeError
        For a keyword that is not an option.
    ValueError
        On invalid options, length mismatches, invalid labels, unknown metrics, or
        a metric needing ``probs`` when none were given. Problems inside one slice
        (empty, one class only, a user metric raising) never raise: that row gets
        NaN and a note.

    Examples
    --------
    >>> import numpy as np
    >>> from slicing.matrix import make_slice_matrix
    >>> golds = np.array([0, 1, 1, 0, 1, 0, 1, 1])
    >>> preds = np.array([0, 1, 0, 0, 1, 1, 1, 1])
    >>> S = make_slice_matrix(
    ...     np.array([[1, 0], [1, 0], [1, 0], [1, 0], [0, 0], [0, 0], [0, 0], [0, 0]],
    ...              dtype=bool), ["short", "never_used"])
    >>> table = slice_scores(golds, S, preds=preds, min_support=2)
    >>> table[["n", "accuracy", "accuracy_low", "status"]].round(3)
                n  accuracy  accuracy_low   status
    slice
    overall     8      0.75         0.409  overall
    short       4      0.75         0.301       ok
    never_used  0       NaN           NaN    empty
    """
    options = ScoreOptions.of(options, **option_values)
    inputs = prepare_scoring_inputs(golds, S, preds, probs, options)
    metrics = options.resolve_metrics(inputs.n_classes)
    if inputs.probs is None:
        needing_probs = [
            m.name for m in metrics if isinstance(m, RowMetric) and m.needs_probs
        ]
        if needing_probs:
            raise ValueError(f"metrics {needing_probs} need probs; got probs=None")
    counts = confusion_counts(
        inputs.indicators, inputs.golds, inputs.preds, inputs.n_classes
    )
    # A row metric's bootstrap stream is its position among all metrics: each
    # metric draws its own resamples, reproducibly.
    row_estimates = {
        metric.name: _estimate_row_metric(inputs, metric, options, stream)
        for stream, metric in enumerate(metrics, start=1)
        if isinstance(metric, RowMetric)
    }
    return table_from_counts(counts, inputs.slice_names, options, row_estimates)


def _estimate_row_metric(
    inputs: ScoringInputs, metric: RowMetric, options: ScoreOptions, stream: int
) -> MetricEstimate:
    confidence = options.ci
    n_rows = 1 + len(inputs.slice_names)
    values = np.full(n_rows, np.nan)
    low = np.full(n_rows, np.nan)
    high = np.full(n_rows, np.nan)
    notes = [""] * n_rows
    everything = np.ones((inputs.golds.size, 1), dtype=np.bool_)
    membership = np.hstack([everything, inputs.indicators])
    for row in range(n_rows):
        rows = np.flatnonzero(membership[:, row])
        if rows.size == 0:
            notes[row] = f"{metric.name}: no rows"
            continue
        golds, preds = inputs.golds[rows], inputs.preds[rows]
        probs = None if inputs.probs is None else inputs.probs[rows]
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                values[row] = metric.func(golds, preds, probs)
            if np.isnan(values[row]):
                reason = f" ({caught[0].message})" if caught else ""
                notes[row] = f"{metric.name}: undefined{reason}"
                continue
            if confidence is None:
                continue
            if options.ci_method == "auto" and metric.closed_form_interval is not None:
                low[row], high[row] = metric.closed_form_interval(
                    golds, preds, probs, confidence
                )
            else:
                resampled = _bootstrap_row_metric(
                    metric,
                    golds,
                    preds,
                    probs,
                    options.n_resamples,
                    slice_rng(options.seed, row, stream),
                )
                low[row], high[row] = bootstrap_percentile_interval(
                    resampled, confidence
                )
        # A user metric failing on one slice must not end the report.
        except Exception as error:
            values[row] = np.nan
            kind = "" if isinstance(error, ValueError) else f"{type(error).__name__}: "
            notes[row] = f"{metric.name}: {kind}{error}"
    if confidence is None:
        return MetricEstimate(values, None, None, notes)
    return MetricEstimate(values, low, high, notes)


def _bootstrap_row_metric(
    metric: RowMetric,
    golds: np.ndarray,
    preds: np.ndarray,
    probs: np.ndarray | None,
    n_resamples: int,
    rng: np.random.Generator,
) -> np.ndarray:
    if metric.bootstrap is not None:
        return metric.bootstrap(golds, preds, probs, n_resamples, rng)
    # Indices are drawn in bulk; the user's metric is opaque, so it runs once per
    # resample.
    resampled = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for picks in resample_rows(golds.size, n_resamples, rng):
            for rows in picks:
                try:
                    value = metric.func(
                        golds[rows], preds[rows], None if probs is None else probs[rows]
                    )
                except ValueError:  # e.g. a resample with one class only
                    value = np.nan
                resampled.append(value)
    return np.asarray(resampled, dtype=np.float64)


class SliceScorer(Scorer):
    """A snorkel ``Scorer`` whose ``score_slices`` returns the per-slice score table.

    Drop-in for ``snorkel.analysis.Scorer``: same constructor (``metrics``,
    ``custom_metric_funcs``, ``abstain_label``), same ``score``. ``score_slices``
    returns the :func:`slice_scores` table (support, intervals, difference to
    overall, status) instead of one number per slice, accepts ``preds`` or ``probs``
    alone, and reports empty slices instead of raising "Cannot score empty labels".
    Further keywords are :class:`~slicing.monitor.options.ScoreOptions` fields
    (``ci``, ``min_support``...), checked when the scorer is built.

    Examples
    --------
    >>> import numpy as np
    >>> from slicing.matrix import make_slice_matrix
    >>> scorer = SliceScorer(metrics=["accuracy"])
    >>> S = make_slice_matrix(np.array([[True], [False], [True]]), ["a"])
    >>> table = scorer.score_slices(S, np.array([1, 0, 1]), preds=np.array([1, 0, 0]))
    >>> table["accuracy"].round(3).tolist()
    [0.667, 0.5]
    """

    def __init__(
        self,
        metrics: list[str] | None = None,
        custom_metric_funcs: dict | None = None,
        abstain_label: int | None = -1,
        **option_values: Any,
    ) -> None:
        super().__init__(metrics, custom_metric_funcs, abstain_label)
        metric_spec: dict = {name: name for name in metrics or []}
        metric_spec.update(custom_metric_funcs or {})
        # Validated here, so a bad option fails when the scorer is built.
        self.options = ScoreOptions.of(
            metrics=list(metric_spec.items()) or "accuracy",
            abstain_label=-1 if abstain_label is None else abstain_label,
            **option_values,
        )

    def score_slices(
        self,
        S: SliceMatrixLike,
        golds: ArrayLike,
        preds: ArrayLike | None = None,
        probs: ArrayLike | None = None,
        as_dataframe: bool = True,
    ) -> pd.DataFrame:
        """Return the :func:`slice_scores` table for this scorer's metrics.

        ``as_dataframe`` is accepted for signature compatibility; the result is
        always the score table.
        """
        return slice_scores(golds, S, preds, probs, options=self.options)
