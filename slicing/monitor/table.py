"""The per-slice score table: one row for ``overall`` and one per slice.

Columns, in order: ``n`` (rows scored), ``share`` (``n`` over the overall ``n``);
per metric ``M``: ``M``, ``M_low``, ``M_high`` (interval bounds, when requested) and
``M_diff`` (slice minus overall); then ``status`` and ``note``. ``status`` is judged
on the first metric:

* ``"overall"`` for the overall row;
* ``"empty"`` when the slice has no rows, ``"too small"`` below ``min_support``
  (the number is shown but must not be trusted);
* ``"undefined"`` when the metric cannot be computed (the note says why);
* ``"worse"``/``"better"`` when the whole interval lies below/above the overall
  value, else ``"ok"``. This is a screening flag, not a test: a slice shares its
  rows with ``overall``.
"""

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from slicing.monitor.counts import MetricEstimate, estimate_count_metrics
from slicing.monitor.inputs import OVERALL
from slicing.monitor.metrics import CountMetric
from slicing.monitor.options import DEFAULT_OPTIONS, ScoreOptions

__all__ = [
    "STATUS_ORDER",
    "assemble_score_table",
    "format_slice_scores",
    "format_with_interval",
    "table_from_counts",
]

#: Order of the ``status`` values when a table is sorted (worst first).
STATUS_ORDER = ("overall", "worse", "ok", "better", "undefined", "too small", "empty")


def table_from_counts(
    counts: np.ndarray,
    slice_names: Sequence[str],
    options: ScoreOptions = DEFAULT_OPTIONS,
    row_estimates: Mapping[str, MetricEstimate] | None = None,
) -> pd.DataFrame:
    """The scoring kernel: the score table from per-slice confusion counts.

    Every path ends here: :func:`~slicing.monitor.scores.slice_scores` (counts of
    in-memory arrays), :func:`~slicing.monitor.dask_scores.dask_slice_scores`
    (counts summed over partitions) and
    :func:`~slicing.monitor.compare.compare_models` (each model's marginal of the
    joint counts). Equal counts and options give equal tables, whatever the path.

    Parameters
    ----------
    counts
        int counts of shape ``(1 + k, C, C)``, ``counts[0]`` overall,
        ``counts[1 + j, gold, pred]`` for slice ``j`` (see
        :func:`~slicing.monitor.counts.confusion_counts`).
    slice_names
        The ``k`` slice names.
    options
        Metrics, intervals, ``min_support`` and ``sort``.
    row_estimates
        Estimates of the metrics that need the rows (roc_auc, callables), computed
        by a caller that has them; the count metrics are computed here.

    Returns
    -------
    pd.DataFrame
        The score table (see the module docstring), columns in ``options.metrics``
        order.

    Raises
    ------
    ValueError
        If a metric needs the rows and ``row_estimates`` lacks it, or is
        binary-only while the counts have more than two classes.

    Examples
    --------
    >>> counts = np.array([[[40, 10], [5, 45]], [[8, 2], [4, 6]]])
    >>> table = table_from_counts(counts, ["short"], ScoreOptions(min_support=10))
    >>> table[["n", "accuracy", "accuracy_low", "status"]].round(3)
               n  accuracy  accuracy_low   status
    slice
    overall  100      0.85         0.767  overall
    short     20      0.70         0.481       ok
    """
    if counts.ndim != 3 or counts.shape[0] != 1 + len(slice_names):
        raise ValueError(
            f"counts must have shape (1 + k, C, C) with k = {len(slice_names)} "
            f"slices; got shape {counts.shape}"
        )
    row_estimates = row_estimates or {}
    options.require_count_metrics("table_from_counts", available=row_estimates)
    metrics = options.resolve_metrics(n_classes=counts.shape[1])
    estimates = estimate_count_metrics(
        counts, [m for m in metrics if isinstance(m, CountMetric)], options
    )
    estimates.update(row_estimates)
    return assemble_score_table(
        slice_names,
        counts.sum(axis=(1, 2)),
        {metric.name: estimates[metric.name] for metric in metrics},
        options.min_support,
        options.sort,
        options.ci,
    )


def assemble_score_table(
    slice_names: Sequence[str],
    support: np.ndarray,
    estimates: Mapping[str, MetricEstimate],
    min_support: int = 30,
    sort: bool = True,
    confidence: float | None = None,
) -> pd.DataFrame:
    """Build the score table from per-row supports and metric estimates.

    Parameters
    ----------
    slice_names
        The ``k`` slice names; row 0 of every array is ``overall``.
    support
        Rows scored per table row, shape ``(1 + k,)``.
    estimates
        Metric name to :class:`~slicing.monitor.counts.MetricEstimate`, in column
        order; the first one decides ``status`` and the sort.
    min_support
        Slices with fewer rows are marked ``"too small"``.
    sort
        Sort slices worst first (by ``status``, then by the first metric);
        ``overall`` always comes first. ``False`` keeps the SF order.
    confidence
        Level of the intervals, recorded in ``table.attrs["confidence"]``.

    Returns
    -------
    pd.DataFrame
        Indexed by slice name (index name ``"slice"``).
    """
    support = np.asarray(support, dtype=np.int64)
    columns: dict[str, object] = {
        "n": support,
        "share": support / support[0] if support[0] else np.full(support.shape, np.nan),
    }
    notes: list[list[str]] = [[] for _ in support]
    for name, estimate in estimates.items():
        columns[name] = estimate.values
        if estimate.low is not None and estimate.high is not None:
            columns[f"{name}_low"] = estimate.low
            columns[f"{name}_high"] = estimate.high
        columns[f"{name}_diff"] = estimate.values - estimate.values[0]
        for row, note in enumerate(estimate.notes):
            if note:
                notes[row].append(note)
    primary = next(iter(estimates.values()))
    columns["status"] = _status(support, primary, min_support)
    columns["note"] = [
        "no rows" if count == 0 else "; ".join(row_notes)
        for count, row_notes in zip(support, notes, strict=True)
    ]
    index = pd.Index([OVERALL, *slice_names], name="slice")
    table = pd.DataFrame(columns, index=index)
    if sort:
        rank = table["status"].map({status: i for i, status in enumerate(STATUS_ORDER)})
        sort_key = pd.DataFrame(
            {"rank": rank, "value": primary.values, "position": np.arange(len(table))},
            index=table.index,
        )
        order = sort_key.sort_values(["rank", "value", "position"]).index
        table = table.loc[order]
    table.attrs["min_support"] = min_support
    table.attrs["metrics"] = list(estimates)
    table.attrs["confidence"] = confidence
    return table


def _status(
    support: np.ndarray, primary: MetricEstimate, min_support: int
) -> list[str]:
    statuses = ["overall"]
    overall_value = primary.values[0]
    for row in range(1, support.size):
        value = primary.values[row]
        if support[row] == 0:
            statuses.append("empty")
        elif support[row] < min_support:
            statuses.append("too small")
        elif np.isnan(value):
            statuses.append("undefined")
        elif primary.high is not None and primary.high[row] < overall_value:
            statuses.append("worse")
        elif primary.low is not None and primary.low[row] > overall_value:
            statuses.append("better")
        else:
            statuses.append("ok")
    return statuses


def format_slice_scores(
    table: pd.DataFrame, digits: int = 3, metrics: Sequence[str] | None = None
) -> str:
    """Render a score table for humans: ``value [low, high]`` per metric.

    Parameters
    ----------
    table
        A table from :func:`slicing.monitor.scores.slice_scores` (or the Dask path).
    digits
        Decimal places.
    metrics
        Metrics to show; all of the table's metrics by default.

    Returns
    -------
    str

    Examples
    --------
    >>> import numpy as np
    >>> from slicing.monitor.counts import MetricEstimate
    >>> estimate = MetricEstimate(np.array([0.9, 0.5]), None, None, ["", ""])
    >>> table = assemble_score_table(["short"], np.array([100, 4]), {"accuracy": estimate})
    >>> print(format_slice_scores(table))
               n share accuracy    diff     status
    overall  100  1.00    0.900  +0.000    overall
    short      4  0.04    0.500  -0.400  too small
    """
    metric_names = list(metrics) if metrics is not None else table.attrs.get("metrics")
    if not metric_names:
        raise ValueError("the table names no metrics; pass metrics=[...]")
    shown = pd.DataFrame(index=table.index.rename(None))
    shown["n"] = table["n"]
    shown["share"] = table["share"].map(lambda share: _number(share, 2))
    for name in metric_names:
        if f"{name}_low" in table:
            shown[name] = [
                format_with_interval(value, low, high, digits)
                for value, low, high in zip(
                    table[name],
                    table[f"{name}_low"],
                    table[f"{name}_high"],
                    strict=True,
                )
            ]
        else:
            shown[name] = table[name].map(lambda value: _number(value, digits))
        diff_column = "diff" if len(metric_names) == 1 else f"{name}_diff"
        shown[diff_column] = table[f"{name}_diff"].map(
            lambda value: _number(value, digits, sign=True)
        )
    shown["status"] = table["status"]
    if table["note"].astype(bool).any():
        shown["note"] = table["note"]
    return shown.to_string()


def format_with_interval(
    value: float, low: float, high: float, digits: int = 3, sign: bool = False
) -> str:
    """``value [low, high]`` for a table cell; ``-`` when undefined, no brackets
    without an interval.

    Examples
    --------
    >>> format_with_interval(0.5, 0.25, 0.75)
    '0.500 [0.250, 0.750]'
    >>> format_with_interval(0.1, -0.05, 0.2, digits=2, sign=True)
    '+0.10 [-0.05, +0.20]'
    >>> format_with_interval(float("nan"), 0.1, 0.2), format_with_interval(0.5, float("nan"), 1.0)
    ('-', '0.500')
    """
    if np.isnan(value):
        return "-"
    if np.isnan(low) or np.isnan(high):
        return _number(value, digits, sign)
    numbers = (_number(number, digits, sign) for number in (value, low, high))
    return "{} [{}, {}]".format(*numbers)


def _number(value: float, digits: int, sign: bool = False) -> str:
    if np.isnan(value):
        return "-"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"
