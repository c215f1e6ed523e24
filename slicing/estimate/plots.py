"""Figures for estimates without labels: per slice, and over time beside labeled windows.

Like :mod:`slicing.monitor.plots`, each function builds a ``matplotlib`` ``Figure``
directly (no ``pyplot``, no global backend) and returns it; notebooks show it as a
picture (:class:`slicing.figures.DisplayFigure`).
"""

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from slicing.estimate.result import PerformanceEstimate
from slicing.figures import new_figure

__all__ = ["plot_estimates_over_time", "plot_performance_estimate"]


def _arms(table: pd.DataFrame, column: str) -> np.ndarray | None:
    if f"{column}_low" not in table or f"{column}_high" not in table:
        return None
    values = table[column].to_numpy(np.float64)
    arms = np.vstack(
        [
            values - table[f"{column}_low"].to_numpy(np.float64),
            table[f"{column}_high"].to_numpy(np.float64) - values,
        ]
    )
    return np.where(np.isnan(arms), 0.0, np.maximum(arms, 0.0))


def plot_performance_estimate(
    result: PerformanceEstimate,
    metric: str | None = None,
    truth: pd.Series | None = None,
) -> Figure:
    """Per slice: the source value and the target estimate, with intervals.

    Parameters
    ----------
    result
        From :func:`~slicing.estimate.estimator.estimate_performance`.
    metric
        Metric to draw (the first by default).
    truth
        Optional true target values by slice (``overall`` and slice names), drawn
        as black diamonds, e.g. when labels were held back to check the estimate.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from slicing.estimate.estimator import estimate_performance
    >>> source = pd.DataFrame({"short": [True] * 20 + [False] * 80})
    >>> target = pd.DataFrame({"short": [True] * 50 + [False] * 50})
    >>> result = estimate_performance(source, target, np.r_[np.zeros(10), np.ones(90)])
    >>> fig = plot_performance_estimate(result)
    >>> fig.axes[0].get_xlabel()
    'accuracy'
    """
    metric = metric or result.metrics[0]
    table = result.table
    positions = np.arange(len(table))[::-1]
    fig = new_figure((7.5, 1.6 + 0.42 * len(table)))
    ax = fig.add_subplot()
    for offset, column, label, color in (
        (0.15, f"source_{metric}", "labeled source (unweighted)", "0.55"),
        (-0.15, metric, "target estimate (reweighted)", "tab:blue"),
    ):
        ax.errorbar(
            table[column],
            positions + offset,
            xerr=_arms(table, column),
            fmt="o",
            color=color,
            capsize=3,
            label=label,
        )
    if truth is not None:
        known = truth.reindex(table.index)
        ax.plot(
            known.to_numpy(np.float64),
            positions - 0.15,
            "D",
            color="black",
            markersize=5,
            label="target truth (held back)",
        )
    labels = [
        f"{name}  (target {int(rows):,}, source {int(source):,})"
        for name, rows, source in zip(
            table.index, table["target_rows"], table["source_rows"], strict=True
        )
    ]
    ax.set_yticks(positions, labels)
    ax.set_xlabel(metric)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.1),
        ncols=3,
        fontsize="small",
        frameon=False,
    )
    ax.set_title(f"Estimated target {metric} per slice (no target labels)")
    return fig


def plot_estimates_over_time(table: pd.DataFrame, metric: str = "accuracy") -> Figure:
    """The estimate per window with its band, the source value, and labeled windows.

    Windows with labels show their labeled metric (with an interval for accuracy)
    and their number of labeled rows; the legend sits under the plot.

    Parameters
    ----------
    table
        From :func:`~slicing.estimate.windows.estimate_over_time`.
    metric
        The metric column to draw.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from slicing.estimate.windows import estimate_over_time
    >>> source = pd.DataFrame({"night": [True] * 20 + [False] * 80})
    >>> log = pd.DataFrame({
    ...     "time": pd.date_range("2024-01-01", periods=96, freq="h"),
    ...     "night": np.tile([True, False, False, False], 24)})
    >>> table = estimate_over_time(
    ...     source, log, np.r_[np.zeros(10), np.ones(90)], time_column="time",
    ...     n_resamples=20)
    >>> plot_estimates_over_time(table).axes[0].get_ylabel()
    'accuracy'
    """
    if metric not in table:
        raise ValueError(
            f"expected a table from estimate_over_time with column {metric!r}; got "
            f"columns {list(table.columns)}"
        )
    fig = new_figure((8, 3.6))
    ax = fig.add_subplot()
    x = table.index
    ax.plot(x, table[metric], "o-", color="tab:blue", label="estimate without labels")
    if f"{metric}_low" in table:
        ax.fill_between(
            x,
            table[f"{metric}_low"],
            table[f"{metric}_high"],
            color="tab:blue",
            alpha=0.2,
            label="95% interval",
        )
    ax.plot(x, table[f"source_{metric}"], "--", color="0.5", label="labeled source")
    labeled = f"labeled_{metric}"
    if labeled in table and table[labeled].notna().any():
        known = table[table[labeled].notna()]
        ax.errorbar(
            known.index,
            known[labeled],
            yerr=_arms(known, labeled),
            fmt="s",
            color="black",
            capsize=3,
            label="labeled rows of the window (n = how many)",
        )
        if "labeled_rows" in known:
            # Intervals from a handful of labels are wide: say how many there were.
            for when, value, rows in zip(
                known.index, known[labeled], known["labeled_rows"], strict=True
            ):
                ax.annotate(
                    f"n={int(rows):,}",
                    (when, value),
                    xytext=(5, -3),
                    textcoords="offset points",
                    fontsize="x-small",
                    va="top",
                )
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)
    # Below the axes, where it cannot hide a window's point or interval.
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=2,
        fontsize="small",
        frameon=False,
    )
    ax.set_title(f"{metric} over time: estimated from SFs, checked where labels exist")
    fig.autofmt_xdate()
    return fig
