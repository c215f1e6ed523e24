"""Per-slice scores of any model's predictions, with support and confidence intervals."""

import warnings

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from snorkel.analysis import Scorer

from slicing.intervals import bootstrap_percentile_interval, resample_rows
from slicing.monitor.counts import (
    MetricEstimate,
    confusion_counts,
    estimate_count_metrics,
    slice_rng,
)
from slicing.monitor.inputs import (
    ScoringInputs,
    SliceMatrixLike,
    prepare_scoring_inputs,
)
from slicing.monitor.metrics import CountMetric, MetricsArg, RowMetric, resolve_metrics
from slicing.monitor.table import assemble_score_table

__all__ = ["SliceScorer", "slice_scores"]


def slice_scores(
    golds: ArrayLike,
    S: SliceMatrixLike,
    preds: ArrayLike | None = None,
    probs: ArrayLike | None = None,
    metrics: MetricsArg = "accuracy",
    ci: float | None = 0.95,
    ci_method: str = "auto",
    n_resamples: int = 1000,
    seed: int = 0,
    min_support: int = 30,
    sort: bool = True,
    abstain_label: int = -1,
    nan_policy: str = "omit",
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
    metrics
        Names from snorkel's ``METRICS`` (accuracy, precision, recall, f1, f1_micro,
        f1_macro, matthews_corrcoef, roc_auc), callables
        ``func(golds, preds, probs) -> float``, a list of these, or a mapping from
        name to callable. The first metric decides ``status`` and the sort order.
    ci
        Confidence level of the intervals, or ``None`` for none.
    ci_method
        ``"auto"``: closed forms where they exist (Wilson for the proportions
        accuracy, precision, recall, f1_micro; DeLong for roc_auc), seeded
        bootstrap otherwise; ``"bootstrap"``: bootstrap for all.
    n_resamples
        Bootstrap resamples per slice.
    seed
        Bootstrap seed; the same seed gives the same table.
    min_support
        Slices with fewer rows are marked ``"too small"`` instead of trusted.
    sort
        Sort slices worst first (``overall`` stays first); ``False`` keeps SF order.
    abstain_label
        Gold label meaning "unlabelled" and prediction meaning "no prediction".
    nan_policy
        ``"omit"``: warn and leave out rows with NaN predictions or no gold label;
        ``"raise"``: raise ``ValueError`` instead.

    Returns
    -------
    pd.DataFrame
        Indexed by slice name: ``n``, ``share``, per metric ``M``: ``M``, ``M_low``,
        ``M_high``, ``M_diff``; then ``status`` and ``note``.

    Raises
    ------
    ValueError
        On length mismatches, invalid labels, unknown metrics, or a metric needing
        ``probs`` when none were given. Problems inside one slice (empty, one class
        only, a user metric raising) never raise: that row gets NaN and a note.

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
    inputs = prepare_scoring_inputs(golds, S, preds, probs, abstain_label, nan_policy)
    resolved = resolve_metrics(metrics, inputs.n_classes)
    if inputs.probs is None:
        needing_probs = [
            m.name for m in resolved if isinstance(m, RowMetric) and m.needs_probs
        ]
        if needing_probs:
            raise ValueError(f"metrics {needing_probs} need probs; got probs=None")
    counts = confusion_counts(
        inputs.indicators, inputs.golds, inputs.preds, inputs.n_classes
    )
    count_metrics = [m for m in resolved if isinstance(m, CountMetric)]
    estimates = estimate_count_metrics(
        counts, count_metrics, ci, ci_method, n_resamples, seed
    )
    for stream, metric in enumerate(resolved, start=1):
        if isinstance(metric, RowMetric):
            estimates[metric.name] = _estimate_row_metric(
                inputs, metric, ci, ci_method, n_resamples, seed, stream
            )
    ordered = {metric.name: estimates[metric.name] for metric in resolved}
    support = counts.sum(axis=(1, 2))
    return assemble_score_table(
        inputs.slice_names, support, ordered, min_support, sort, ci
    )


def _estimate_row_metric(
    inputs: ScoringInputs,
    metric: RowMetric,
    confidence: float | None,
    ci_method: str,
    n_resamples: int,
    seed: int,
    stream: int,
) -> MetricEstimate:
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
            if ci_method == "auto" and metric.closed_form_interval is not None:
                low[row], high[row] = metric.closed_form_interval(
                    golds, preds, probs, confidence
                )
            else:
                resampled = _bootstrap_row_metric(
                    metric,
                    golds,
                    preds,
                    probs,
                    n_resamples,
                    slice_rng(seed, row, stream),
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
        **slice_scores_kwargs: object,
    ) -> None:
        super().__init__(metrics, custom_metric_funcs, abstain_label)
        self.metric_spec: dict = {name: name for name in metrics or []}
        self.metric_spec.update(custom_metric_funcs or {})
        if not self.metric_spec:
            self.metric_spec = {"accuracy": "accuracy"}
        self.slice_scores_kwargs = slice_scores_kwargs

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
        abstain = -1 if self.abstain_label is None else self.abstain_label
        return slice_scores(
            golds,
            S,
            preds=preds,
            probs=probs,
            metrics=list(self.metric_spec.items()),
            abstain_label=abstain,
            **self.slice_scores_kwargs,  # type: ignore[arg-type,unused-ignore]
        )
