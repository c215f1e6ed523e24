"""Matplotlib figures for slice monitoring, safe on headless machines.

Each function builds a ``matplotlib.figure.Figure`` directly (no ``pyplot``, no global
backend change, no ``show()``) and returns it: save it with ``fig.savefig(path)``;
in a notebook it shows as a picture (:class:`slicing.figures.DisplayFigure`).
"""

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from slicing.figures import new_figure
from slicing.monitor.analysis import SFAnalysis
from slicing.monitor.inputs import OVERALL, SliceMatrixLike

__all__ = ["plot_slice_comparison", "plot_slice_overlap", "plot_slice_scores"]

STATUS_COLORS = {
    "worse": "tab:red",
    "better": "tab:green",
    "ok": "tab:blue",
    "undefined": "0.6",
    "too small": "0.6",
    "empty": "0.6",
}
#: Changes of a comparison that say the slice was not judged, shown beside its ``n``.
UNJUDGED = ("too small", "empty", "undefined")


def _figure_for_rows(names: Sequence[object], width: float = 7.0) -> Figure:
    """A figure tall enough for one row per name and wide enough for long names.

    The plotting area keeps about 4 inches whatever the length of the slice names
    (discovered slices such as ``n_chars>=112 & n_exclamations<1`` are long).
    """
    longest = max((len(str(name)) for name in names), default=0)
    width = max(width, 5.6 + 0.075 * longest)
    return new_figure((width, 1.4 + 0.35 * max(len(names), 1)))


def _table_metric(table: pd.DataFrame, metric: str | None) -> str:
    metrics = table.attrs.get("metrics") or []
    metric = metric or (metrics[0] if metrics else None)
    if metric is None or metric not in table or "status" not in table:
        raise ValueError(
            f"expected a score table from slice_scores with metric {metric!r}; got "
            f"columns {list(table.columns)}"
        )
    return metric


def _values_and_arms(
    table: pd.DataFrame, column: str
) -> tuple[np.ndarray, np.ndarray | None]:
    """Values of ``column`` and errorbar arms from ``column_low``/``column_high``."""
    values = table[column].to_numpy(dtype=np.float64)
    if f"{column}_low" not in table or f"{column}_high" not in table:
        return values, None
    low = table[f"{column}_low"].to_numpy(dtype=np.float64)
    high = table[f"{column}_high"].to_numpy(dtype=np.float64)
    arms = np.vstack([values - low, high - values])
    return values, np.where(np.isnan(arms), 0.0, np.maximum(arms, 0.0))


def plot_slice_scores(table: pd.DataFrame, metric: str | None = None) -> Figure:
    """Per-slice metric with its interval and support; overall as a reference line.

    Slices are drawn in the table's order (worst first when the table is sorted),
    coloured by ``status``: red worse than overall, green better, grey too small,
    empty or undefined.

    Parameters
    ----------
    table
        A score table from :func:`~slicing.monitor.scores.slice_scores`.
    metric
        Metric to plot; the table's first metric by default.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from slicing.matrix import make_slice_matrix
    >>> from slicing.monitor.scores import slice_scores
    >>> S = make_slice_matrix(np.arange(40)[:, None] < 10, ["first"])
    >>> table = slice_scores(np.tile([0, 1], 20), S, preds=np.zeros(40, int))
    >>> fig = plot_slice_scores(table)
    >>> fig.axes[0].get_xlabel()
    'accuracy'
    """
    metric = _table_metric(table, metric)
    slices = table.drop(index=OVERALL, errors="ignore")
    fig = _figure_for_rows(list(slices.index))
    ax = fig.add_subplot()
    positions = np.arange(len(slices))[::-1]
    values, arms = _values_and_arms(slices, metric)
    colors = [STATUS_COLORS.get(status, "tab:blue") for status in slices["status"]]
    for row, position in enumerate(positions):
        if np.isnan(values[row]):
            continue
        ax.errorbar(
            values[row],
            position,
            xerr=None if arms is None else arms[:, row : row + 1],
            fmt="o",
            color=colors[row],
            capsize=3,
        )
    if OVERALL in table.index:
        overall = float(table.at[OVERALL, metric])
        ax.axvline(overall, color="0.3", linestyle="--", linewidth=1, label=OVERALL)
        if f"{metric}_low" in table:
            ax.axvspan(
                table.at[OVERALL, f"{metric}_low"],
                table.at[OVERALL, f"{metric}_high"],
                color="0.85",
                zorder=0,
            )
        _legend_below(ax)
    ax.set_yticks(positions, labels=list(slices.index))
    ax.set_ylim(-0.7, len(slices) - 0.3)
    ax.set_xlabel(metric)
    labels = [
        f"n={n:,} ({share:.0%})"
        + ("" if status in ("ok", "worse", "better") else f", {status}")
        for n, share, status in zip(
            slices["n"], slices["share"].fillna(0), slices["status"], strict=True
        )
    ]
    _support_labels(ax, positions, labels)
    confidence = table.attrs.get("confidence")
    interval = (
        f" with {confidence:.0%} intervals" if arms is not None and confidence else ""
    )
    ax.set_title(f"{metric} per slice{interval}")
    return fig


def plot_slice_comparison(comparison: pd.DataFrame) -> Figure:
    """Two models per slice, side by side with their intervals.

    Slices whose ``change`` is ``"better"`` or ``"worse"`` are starred; each slice's
    support (column ``n``, with "too small" where it was not judged) is written on
    the right.

    Parameters
    ----------
    comparison
        A table from :func:`~slicing.monitor.compare.compare_slice_scores` or
        :func:`~slicing.monitor.compare.compare_models`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from slicing.matrix import make_slice_matrix
    >>> from slicing.monitor.compare import compare_slice_scores
    >>> from slicing.monitor.scores import slice_scores
    >>> S = make_slice_matrix(np.arange(40)[:, None] < 10, ["first"])
    >>> golds = np.tile([0, 1], 20)
    >>> comparison = compare_slice_scores(
    ...     slice_scores(golds, S, preds=np.zeros(40, int)), slice_scores(golds, S, preds=golds))
    >>> fig = plot_slice_comparison(comparison)
    >>> [text.get_text() for text in fig.legends[0].get_texts()]
    ['baseline', 'candidate']
    >>> [tick.get_text() for tick in fig.axes[0].child_axes[0].get_yticklabels()]
    ['n=40', 'n=10, too small']
    """
    labels = comparison.attrs.get("labels")
    metric = comparison.attrs.get("metric", "score")
    if not labels or any(label not in comparison for label in labels):
        raise ValueError(
            "expected a table from compare_slice_scores (with attrs 'labels'); got "
            f"columns {list(comparison.columns)}"
        )
    fig = _figure_for_rows(list(comparison.index))
    ax = fig.add_subplot()
    positions = np.arange(len(comparison))[::-1].astype(np.float64)
    for offset, label, color in zip(
        (0.15, -0.15), labels, ("tab:gray", "tab:blue"), strict=True
    ):
        values, arms = _values_and_arms(comparison, label)
        defined = ~np.isnan(values)
        ax.errorbar(
            values[defined],
            positions[defined] + offset,
            xerr=None if arms is None else arms[:, defined],
            fmt="o",
            color=color,
            capsize=3,
            label=label,
        )
    names = [
        f"{name} *" if change in ("better", "worse") else name
        for name, change in zip(comparison.index, comparison["change"], strict=True)
    ]
    ax.set_yticks(positions, labels=names)
    ax.set_ylim(-0.7, len(comparison) - 0.3)
    if "n" in comparison:
        _support_labels(
            ax,
            positions,
            [
                f"n={n:,}" + (f", {change}" if change in UNJUDGED else "")
                for n, change in zip(comparison["n"], comparison["change"], strict=True)
            ],
        )
    ax.set_xlabel(metric)
    ax.set_title(f"{metric} per slice: {labels[1]} vs {labels[0]} (* = clear change)")
    _legend_below(ax)
    return fig


def _support_labels(ax: Any, positions: np.ndarray, labels: list[str]) -> None:
    """Each row's support (``n=...``) on the right, beside its points."""
    support_axis = ax.secondary_yaxis("right")
    support_axis.set_yticks(positions, labels=labels, fontsize="small")


def _legend_below(ax: Any) -> None:
    """The legend under the plot (outside the axes), where it never hides an interval."""
    handles, labels = ax.get_legend_handles_labels()
    ax.figure.legend(
        handles,
        labels,
        loc="outside lower center",
        ncol=max(1, len(handles)),
        fontsize="small",
        frameon=False,
    )


def plot_slice_overlap(
    S: SliceMatrixLike | SFAnalysis, value: str = "jaccard"
) -> Figure:
    """Heat map of pairwise slice overlaps.

    Parameters
    ----------
    S
        Slice matrix (or DataFrame of slice columns), or an :class:`SFAnalysis`.
    value
        ``"jaccard"`` (intersection over union) or ``"count"`` (rows in both).
        Diagonal cells are left uncoloured and labelled with the slice size.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from slicing.matrix import make_slice_matrix
    >>> S = make_slice_matrix(np.array([[1, 1], [1, 0], [0, 1]], dtype=bool), ["a", "b"])
    >>> plot_slice_overlap(S).axes[0].get_title()
    'Slice overlap (jaccard)'
    """
    if value not in ("jaccard", "count"):
        raise ValueError(f"value must be 'jaccard' or 'count'; got {value!r}")
    analysis = S if isinstance(S, SFAnalysis) else SFAnalysis(S)
    matrix = analysis.jaccard() if value == "jaccard" else analysis.overlap_counts()
    shown = matrix.to_numpy(dtype=np.float64).copy()
    sizes = np.diag(analysis.overlap_counts().to_numpy())
    # The diagonal (1 for Jaccard, the slice size for counts) would swamp the colour
    # scale; it is written as the slice size instead.
    np.fill_diagonal(shown, np.nan)
    n_slices = len(analysis.slice_names)
    side = 2.5 + 0.45 * n_slices
    fig = new_figure((side + 1.2, side))
    ax = fig.add_subplot()
    image = ax.imshow(shown, cmap="viridis")
    fig.colorbar(image, ax=ax, label=value)
    ax.set_xticks(
        np.arange(n_slices), labels=analysis.slice_names, rotation=45, ha="right"
    )
    ax.set_yticks(np.arange(n_slices), labels=analysis.slice_names)
    if n_slices <= 20:
        top = np.nanmax(shown) if np.isfinite(shown).any() else 0.0
        for row in range(n_slices):
            for column in range(n_slices):
                cell = shown[row, column]
                if row == column:
                    text, color = f"n={sizes[row]:,}", "black"
                elif np.isnan(cell):
                    text, color = "-", "black"
                else:
                    text = f"{cell:.2f}" if value == "jaccard" else f"{int(cell):,}"
                    color = "black" if cell > 0.6 * top else "white"
                ax.text(
                    column,
                    row,
                    text,
                    ha="center",
                    va="center",
                    fontsize="x-small",
                    color=color,
                )
    ax.set_title(f"Slice overlap ({value})")
    return fig
