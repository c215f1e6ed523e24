"""Compare two models slice by slice: both scores, the difference, interval overlap."""

import warnings

import numpy as np
import pandas as pd

from slicing.monitor.inputs import OVERALL

__all__ = ["classify_change", "compare_slice_scores"]


def compare_slice_scores(
    baseline: pd.DataFrame,
    candidate: pd.DataFrame,
    metric: str | None = None,
    labels: tuple[str, str] = ("baseline", "candidate"),
) -> pd.DataFrame:
    """Put two score tables side by side for one metric, e.g. vanilla vs slice-aware.

    Works on any two tables (even from different data or the Dask path). Disjoint
    intervals are a conservative test; when both models' predictions on the same
    rows are at hand, :func:`~slicing.monitor.paired.compare_models` gives a paired
    interval for the difference, which detects smaller changes.

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
