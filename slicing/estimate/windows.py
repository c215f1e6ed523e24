"""Monitoring over time: the estimate for each time window of an unlabeled prediction log.

One Dask pass over the log counts the SF patterns per window (and, where the log
has labels, the labeled rows' confusion counts per window); each window is then
a small estimate on counts, beside the labeled truth where there is one.
"""

import warnings
from typing import Any

import numpy as np
import pandas as pd

from slicing._dask import Scheduler, compute, tree_reduce
from slicing.estimate.estimator import estimate_performance
from slicing.estimate.inputs import count_source_rows
from slicing.estimate.metrics import COUNT_METRICS, MetricsArg
from slicing.estimate.patterns import (
    PatternCounts,
    decode_patterns,
    pattern_codes,
)
from slicing.intervals import wilson_interval

__all__ = ["estimate_over_time"]


def _window_counts(
    frame: pd.DataFrame,
    names: list[str],
    time_column: str,
    freq: str,
    label_column: str | None,
    pred_column: str | None,
    n_classes: int,
) -> tuple[pd.Series, pd.Series]:
    windows = pd.to_datetime(frame[time_column]).dt.floor(freq)
    codes = pattern_codes(frame[names].to_numpy(dtype=np.bool_))
    patterns = pd.Series(1, index=pd.MultiIndex.from_arrays([windows, codes]))
    patterns = patterns.groupby(level=[0, 1]).sum()
    labeled = pd.Series(dtype=np.int64)
    if label_column is not None:
        golds = pd.to_numeric(frame[label_column], errors="coerce")
        preds = pd.to_numeric(frame[pred_column], errors="coerce")
        usable = golds.notna() & preds.notna() & (golds >= 0) & (preds >= 0)
        cells = golds[usable].astype(np.int64) * n_classes + preds[usable].astype(
            np.int64
        )
        labeled = pd.Series(
            1, index=pd.MultiIndex.from_arrays([windows[usable], cells])
        )
        labeled = labeled.groupby(level=[0, 1]).sum()
    return patterns, labeled


def _add(parts: list[tuple[pd.Series, pd.Series]]) -> tuple[pd.Series, pd.Series]:
    def total(series: list[pd.Series]) -> pd.Series:
        series = [s for s in series if len(s)]
        return (
            pd.concat(series).groupby(level=[0, 1]).sum()
            if series
            else pd.Series(dtype=np.int64)
        )

    return total([p[0] for p in parts]), total([p[1] for p in parts])


def estimate_over_time(
    source: Any,
    log: Any,
    correct: Any = None,
    *,
    time_column: str,
    freq: str = "1D",
    golds: Any = None,
    preds: Any = None,
    probs: Any = None,
    label_column: str | None = None,
    pred_column: str | None = None,
    metrics: MetricsArg = "accuracy",
    pairs: Any = None,
    l2: float = 0.0,
    ci: float | None = 0.95,
    n_resamples: int = 200,
    seed: int = 0,
    scheduler: Scheduler = None,
) -> pd.DataFrame:
    """Estimate performance per time window of a Dask prediction log, without labels.

    Parameters
    ----------
    source
        SF outputs on the labeled source rows (slice matrix or bool DataFrame).
    log
        Dask (or pandas) DataFrame of the prediction log: ``time_column`` and one
        bool column per SF of ``source``; optionally ``label_column`` (gold labels,
        NaN or -1 where unknown) and ``pred_column`` (the model's predictions).
    correct, golds, preds, probs, metrics, pairs, l2, ci, n_resamples, seed
        As in :func:`~slicing.estimate.estimator.estimate_performance`.
    time_column
        Timestamps of the log rows.
    freq
        Window length, a pandas frequency (``"1D"``, ``"1h"``, ``"7D"``).
    label_column, pred_column
        Where some log rows have labels: their gold label and prediction columns;
        the windows' labeled metric is reported beside the estimate.
    scheduler
        Dask scheduler.

    Returns
    -------
    pd.DataFrame
        One row per window (index ``window``): ``target_rows``, the estimate
        ``m`` with ``m_low``/``m_high``, ``source_m``, ``effective_sample_size``,
        ``unsupported_target_rows``; with labels, ``labeled_rows`` and
        ``labeled_m`` (plus ``labeled_m_low``/``_high`` for accuracy, Wilson).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> source = pd.DataFrame({"night": [True] * 20 + [False] * 80})
    >>> correct = np.r_[np.zeros(10), np.ones(90)]
    >>> log = pd.DataFrame({
    ...     "time": pd.date_range("2024-01-01", periods=200, freq="h"),
    ...     "night": np.tile([True, False, False, False], 50)})
    >>> table = estimate_over_time(source, log, correct, time_column="time", n_resamples=50)
    >>> table["accuracy"].round(3).tolist()[:2]
    [0.875, 0.875]
    """
    _, source_counts, outcomes = count_source_rows(
        source, correct, golds, preds, probs, metrics
    )
    names = list(source_counts.slice_names)
    needed = [time_column, *names] + [c for c in (label_column, pred_column) if c]
    missing = [column for column in needed if column not in log.columns]
    if missing:
        raise ValueError(
            f"the log has no columns {missing}; it has {list(log.columns)}; expected "
            f"{time_column!r} and one bool column per SF"
        )
    if (label_column is None) != (pred_column is None):
        raise ValueError("pass label_column and pred_column together, or neither")
    arguments = (
        names,
        time_column,
        freq,
        label_column,
        pred_column,
        outcomes.n_classes,
    )
    if hasattr(log, "to_delayed"):
        import dask

        parts = [
            dask.delayed(_window_counts)(part, *arguments) for part in log.to_delayed()
        ]
        (counted,) = compute([tree_reduce(parts, _add)], scheduler)
    else:
        counted = _window_counts(log, *arguments)
    patterns, labeled = counted
    rows = []
    metric_name = outcomes.metrics[0].name
    for window, window_counts in patterns.groupby(level=0):
        codes = window_counts.index.get_level_values(1).to_numpy(np.int64)
        target = PatternCounts(
            decode_patterns(codes, len(names)), window_counts.to_numpy(np.int64), names
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # summarised in the table's columns
            result = estimate_performance(
                source_counts,
                target,
                metrics=metrics,
                pairs=pairs,
                l2=l2,
                ci=ci,
                n_resamples=n_resamples,
                seed=seed,
            )
        row = (
            result.table.loc["overall"].drop(["target_share", "source_rows"]).to_dict()
        )
        row.update(
            window=window,
            effective_sample_size=result.effective_sample_size,
            unsupported_target_rows=result.unsupported_target_rows,
        )
        if label_column is not None:
            row.update(
                _labeled_row(labeled, window, outcomes.n_classes, result, metric_name)
            )
        rows.append(row)
    return pd.DataFrame(rows).set_index("window")


def _labeled_row(
    labeled: pd.Series, window: Any, n_classes: int, result: Any, metric_name: str
) -> dict[str, float]:
    confusion = np.zeros(n_classes * n_classes)
    if len(labeled) and window in labeled.index.get_level_values(0):
        cells = labeled.loc[window]
        confusion[cells.index.to_numpy(np.int64)] = cells.to_numpy()
    confusion = confusion.reshape(n_classes, n_classes)
    n_labeled = int(confusion.sum())
    row: dict[str, float] = {"labeled_rows": n_labeled}
    metric = COUNT_METRICS[metric_name]
    row[f"labeled_{metric_name}"] = (
        float(metric.from_counts(confusion)) if n_labeled else np.nan
    )
    if metric_name == "accuracy":
        low, high = wilson_interval(
            np.array([np.trace(confusion)]), np.array([n_labeled])
        )
        row["labeled_accuracy_low"], row["labeled_accuracy_high"] = (
            float(low[0]),
            float(high[0]),
        )
    return row
