"""Per-slice confusion counts and the count metrics (with intervals) computed from them.

Every scoring path (in memory, Dask, paired comparisons) reduces its data to the same
``(1 + k, C, C)`` count array (row 0 is ``overall``) and finishes in
:func:`slicing.monitor.table.table_from_counts`, which estimates the metrics here.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from slicing.intervals import bootstrap_percentile_interval, wilson_interval
from slicing.monitor.metrics import CountMetric
from slicing.monitor.options import DEFAULT_OPTIONS, ScoreOptions

__all__ = [
    "MetricEstimate",
    "confusion_counts",
    "estimate_count_metrics",
    "resample_counts",
    "slice_rng",
]


@dataclass(frozen=True)
class MetricEstimate:
    """One metric for ``overall`` and every slice: values, interval bounds, notes.

    Attributes
    ----------
    values, low, high
        Arrays of shape ``(1 + k,)``; ``low``/``high`` are ``None`` without intervals.
    notes
        One string per row: why a value is missing ("" when it is not).
    """

    values: np.ndarray
    low: np.ndarray | None
    high: np.ndarray | None
    notes: list[str]


def slice_rng(seed: int, row: int, stream: int = 0) -> np.random.Generator:
    """Random generator for one table row, independent of the other rows and metrics.

    Seeding per row keeps a slice's interval the same whichever other slices are
    scored with it, and lets the Dask and in-memory paths agree exactly.
    """
    return np.random.default_rng([seed, row, stream])


def confusion_counts(
    indicators: np.ndarray,
    golds: np.ndarray,
    preds: np.ndarray,
    n_classes: int,
    n_pred_values: int | None = None,
) -> np.ndarray:
    """Count ``(gold, pred)`` pairs overall and within each slice.

    Parameters
    ----------
    indicators
        Slice membership, bool, shape ``(n, k)``; slices may overlap.
    golds, preds
        Integer labels ``0..n_classes-1``, shape ``(n,)``.
    n_classes
        Number of classes ``C``.
    n_pred_values
        Number of distinct prediction values ``P`` (``C`` by default; more when a
        prediction encodes several models' labels).

    Returns
    -------
    np.ndarray
        int64 array of shape ``(1 + k, C, P)``: ``counts[0]`` is overall,
        ``counts[1 + j, g, p]`` counts rows of slice ``j`` with gold ``g`` and
        prediction ``p``.

    Examples
    --------
    >>> counts = confusion_counts(
    ...     np.array([[True], [True], [False]]), np.array([1, 0, 1]),
    ...     np.array([1, 1, 1]), 2)
    >>> counts[1].tolist()
    [[0, 1], [0, 1]]
    """
    n_pred_values = n_classes if n_pred_values is None else n_pred_values
    codes = golds.astype(np.int64) * n_pred_values + preds.astype(np.int64)
    n_slices = indicators.shape[1]
    counts = np.zeros((1 + n_slices, n_classes * n_pred_values), dtype=np.int64)
    counts[0] = np.bincount(codes, minlength=n_classes * n_pred_values)
    # One pass per (gold, pred) pair present, each summing the slice columns of its
    # rows: cheap for the few pairs of a classifier, and no (n, k) temporaries.
    for code in np.flatnonzero(counts[0]):
        counts[1:, code] = indicators[codes == code].sum(axis=0)
    return counts.reshape(1 + n_slices, n_classes, n_pred_values)


def estimate_count_metrics(
    counts: np.ndarray,
    metrics: Sequence[CountMetric],
    options: ScoreOptions = DEFAULT_OPTIONS,
) -> dict[str, MetricEstimate]:
    """Compute count metrics and their intervals for every row of ``counts``.

    Parameters
    ----------
    counts
        Output of :func:`confusion_counts`, shape ``(1 + k, C, C)``.
    metrics
        Count metrics to compute (resolved, e.g. by
        :meth:`~slicing.monitor.options.ScoreOptions.resolve_metrics`).
    options
        The interval settings: ``ci`` (``None`` for no intervals), ``ci_method``
        (``"auto"``: Wilson intervals for proportions and for f1 through the
        Jaccard share, bootstrap for the rest),
        ``n_resamples`` and ``seed``; its other fields are not used here.

    Returns
    -------
    dict[str, MetricEstimate]

    Examples
    --------
    >>> counts = np.array([[[5, 0], [1, 4]]])
    >>> from slicing.monitor.metrics import COUNT_METRICS
    >>> estimate = estimate_count_metrics(counts, [COUNT_METRICS["accuracy"]])
    >>> float(estimate["accuracy"].values[0])
    0.9
    """
    confidence = options.ci
    bootstrap_all = options.ci_method == "bootstrap"
    float_counts = counts.astype(np.float64)
    needs_bootstrap = confidence is not None and any(
        bootstrap_all or metric.proportion is None for metric in metrics
    )
    resampled_counts = (
        resample_counts(counts, options.n_resamples, options.seed)
        if needs_bootstrap
        else None
    )
    estimates = {}
    for metric in metrics:
        values = metric.from_counts(float_counts)
        low = high = None
        if confidence is not None:
            if not bootstrap_all and metric.proportion is not None:
                low, high = wilson_interval(*metric.proportion(counts), confidence)
                if metric.from_proportion is not None:
                    low, high = (
                        metric.from_proportion(low),
                        metric.from_proportion(high),
                    )
            else:
                assert resampled_counts is not None
                low, high = bootstrap_percentile_interval(
                    metric.from_counts(resampled_counts), confidence
                )
        notes = [
            "" if not np.isnan(value) else _undefined_note(metric.name, row_counts)
            for value, row_counts in zip(values, counts, strict=True)
        ]
        estimates[metric.name] = MetricEstimate(values, low, high, notes)
    return estimates


def resample_counts(counts: np.ndarray, n_resamples: int, seed: int) -> np.ndarray:
    """Bootstrap the counts of every table row: a multinomial draw per resample.

    Drawing each row's cell counts from a multinomial with the observed shares is
    the same as resampling that row's data points with replacement, at a cost that
    depends on the number of cells, not of data points.

    Parameters
    ----------
    counts
        Counts of shape ``(rows, ...)``, e.g. ``(1 + k, C, C)``.
    n_resamples
        Resamples per row.
    seed
        Seed; row ``r`` uses :func:`slice_rng` ``(seed, r)``.

    Returns
    -------
    np.ndarray
        float64 counts of shape ``(rows, n_resamples, ...)``; each resample of a
        row has the row's total.

    Examples
    --------
    >>> resampled = resample_counts(np.array([[[3, 1], [0, 4]]]), 5, seed=0)
    >>> resampled.shape, resampled.sum(axis=(2, 3)).tolist()
    ((1, 5, 2, 2), [[8.0, 8.0, 8.0, 8.0, 8.0]])
    """
    n_rows, cell_shape = counts.shape[0], counts.shape[1:]
    flat = counts.reshape(n_rows, -1)
    resampled = np.zeros((n_rows, n_resamples, flat.shape[1]), dtype=np.float64)
    for row, row_counts in enumerate(flat):
        total = int(row_counts.sum())
        if total:
            resampled[row] = slice_rng(seed, row).multinomial(
                total, row_counts / total, size=n_resamples
            )
    return resampled.reshape(n_rows, n_resamples, *cell_shape)


def _undefined_note(metric_name: str, row_counts: np.ndarray) -> str:
    if row_counts.sum() == 0:
        return f"{metric_name}: no rows"
    reasons = {
        "precision": "no positive predictions",
        "recall": "no positive gold labels",
        "f1": "no positive gold labels or predictions",
    }
    return f"{metric_name}: {reasons.get(metric_name, 'undefined with one class only')}"
