"""Heat map of an LF x slice table (matplotlib, imported when a plot is drawn).

Drawn without ``pyplot`` (no global figure list, no backend change); the returned
axes show their figure as a picture in a notebook (:mod:`slicing.figures`).
"""

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["plot_lf_slice_heatmap"]

#: Columns of ``lf_slice_summary`` that are accuracies (shown on a 0.5-centred scale).
ACCURACY_COLUMNS = ("accuracy", "triplet_accuracy", "model_accuracy")


def plot_lf_slice_heatmap(
    summary: pd.DataFrame,
    value: str = "accuracy",
    *,
    relative_to_overall: bool = False,
    min_votes: int = 0,
    annotate: bool = True,
    ax: Any = None,
) -> Any:
    """Draw one column of ``LFSliceAnalysis.lf_slice_summary`` as an LF x slice heat map.

    Parameters
    ----------
    summary
        The tidy table (index ``lf``, ``slice``; ``overall`` is drawn first).
    value
        The column to draw: ``accuracy`` (gold), ``model_accuracy``,
        ``triplet_accuracy``, ``coverage``, ``overlaps``, ``conflicts``, ...
    relative_to_overall
        Draw each cell minus the LF's ``overall`` value (red: the LF is worse in the
        slice than on the whole data set).
    min_votes
        Cells where the LF casts fewer votes are left blank (grey) as too small to read.
    annotate
        Write the value in each cell.
    ax
        Matplotlib axes; by default new axes on a new figure, which a notebook
        displays when they are a cell's last expression (no ``pyplot`` needed).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on (``ax.figure`` is the figure, for ``savefig``).

    Examples
    --------
    >>> import numpy as np
    >>> from slicing.labeling.analysis import LFSliceAnalysis
    >>> from slicing.matrix import make_slice_matrix
    >>> S = make_slice_matrix(np.array([[True], [False]] * 5), ["short"])
    >>> summary = LFSliceAnalysis(np.array([[1, 0], [1, -1]] * 5), S).lf_slice_summary()
    >>> plot_lf_slice_heatmap(summary, "coverage").get_title()
    'coverage by LF and slice'
    """
    from matplotlib import colormaps

    from slicing.figures import DisplayAxes, new_figure

    if value not in summary.columns:
        raise ValueError(
            f"value must be a column of the summary; got {value!r}, expected one of "
            f"{list(summary.columns)}"
        )
    lf_names = list(dict.fromkeys(summary.index.get_level_values("lf")))
    slice_names = list(dict.fromkeys(summary.index.get_level_values("slice")))
    table = summary[value].unstack("slice").loc[lf_names, slice_names].astype(float)
    votes = summary["votes"].unstack("slice").loc[lf_names, slice_names]
    if relative_to_overall:
        table = table.sub(table["overall"], axis=0)
    cells = table.to_numpy().copy()
    cells[votes.to_numpy() < min_votes] = np.nan
    if relative_to_overall:
        limit = max(float(np.nanmax(np.abs(cells), initial=0.0)), 0.05)
        cmap_name, vmin, vmax = "RdBu", -limit, limit
    elif value in ACCURACY_COLUMNS:
        floor = 0.5 if summary[value].min() >= 0.5 else 0.0
        cmap_name, vmin, vmax = "RdYlGn", floor, 1.0
    else:
        top = max(float(np.nanmax(cells, initial=0.0)), 1e-9)
        cmap_name, vmin, vmax = "Blues", 0.0, top
    if ax is None:
        figure = new_figure((1.2 + 1.1 * len(slice_names), 0.8 + 0.45 * len(lf_names)))
        ax = figure.add_subplot(axes_class=DisplayAxes)
    masked = np.ma.masked_invalid(cells)
    cmap = colormaps[cmap_name].with_extremes(bad="#d9d9d9")
    image = ax.imshow(masked, cmap=cmap, aspect="auto", vmin=vmin, vmax=vmax)
    ax.figure.colorbar(image, ax=ax, shrink=0.8)
    ax.set_xticks(range(len(slice_names)), slice_names, rotation=30, ha="right")
    ax.set_yticks(range(len(lf_names)), lf_names)
    ax.set_xlabel("slice")
    ax.set_ylabel("LF")
    if annotate:
        for (row, col), cell in np.ndenumerate(cells):
            if np.isnan(cell):
                continue
            red, green, blue, _ = image.cmap(image.norm(cell))
            dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
            text = f"{cell:+.2f}" if relative_to_overall else f"{cell:.2f}"
            text = "0.00" if text in ("+0.00", "-0.00") else text
            ax.text(
                col,
                row,
                text,
                ha="center",
                va="center",
                fontsize=8,
                color="white" if dark else "black",
            )
    ax.axvline(0.5, color="black", linewidth=1.5)  # overall | slices
    suffix = " minus overall" if relative_to_overall else ""
    ax.set_title(f"{value}{suffix} by LF and slice")
    return ax
