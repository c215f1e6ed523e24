"""Text for the demo: the comparison table with its intervals, and what it shows."""

import pandas as pd

from slicing.monitor.table import format_with_interval

__all__ = ["describe_changes", "format_comparison"]


def format_comparison(comparison: pd.DataFrame) -> str:
    """Both models per slice, ``value [low, high]``, the difference and the verdict.

    Parameters
    ----------
    comparison
        A table from :func:`~slicing.monitor.compare.compare_models`.

    Returns
    -------
    str

    Examples
    --------
    >>> import numpy as np
    >>> from slicing.matrix import make_slice_matrix
    >>> from slicing.monitor.compare import compare_models
    >>> S = make_slice_matrix(np.arange(60)[:, None] < 30, ["first"])
    >>> golds = np.tile([0, 1], 30)
    >>> table = compare_models(golds, S, np.zeros(60, int), golds, n_resamples=100)
    >>> print(format_comparison(table))  # doctest: +NORMALIZE_WHITESPACE
              n              baseline             candidate     candidate - baseline  change
    overall  60  0.500 [0.377, 0.623]  1.000 [0.940, 1.000]  +0.500 [+0.367, +0.625]  better
    first    30  0.500 [0.332, 0.668]  1.000 [0.886, 1.000]  +0.500 [+0.333, +0.700]  better
    """
    baseline, candidate = comparison.attrs["labels"]
    shown = pd.DataFrame(index=comparison.index.rename(None))
    shown["n"] = comparison["n"]
    for label in (baseline, candidate):
        shown[label] = [
            format_with_interval(*values)
            for values in comparison[
                [label, f"{label}_low", f"{label}_high"]
            ].to_numpy()
        ]
    shown[f"{candidate} - {baseline}"] = [
        format_with_interval(diff, low, high, sign=True)
        for diff, low, high in comparison[["diff", "diff_low", "diff_high"]].to_numpy()
    ]
    shown["change"] = comparison["change"]
    return shown.to_string()


def describe_changes(comparison: pd.DataFrame) -> list[str]:
    """Sentences saying which slices changed clearly, and which could not be judged.

    Parameters
    ----------
    comparison
        A table from :func:`~slicing.monitor.compare.compare_models`.

    Returns
    -------
    list[str]
        One sentence per kind of change present (better, worse, unclear, too small).

    Examples
    --------
    >>> table = pd.DataFrame({"change": ["unclear", "too small"]}, index=["overall", "a"])
    >>> table.attrs.update(labels=("plain", "slice_aware"), metric="f1")
    >>> for line in describe_changes(table):
    ...     print(line)
    No clear change (the paired interval of the difference contains 0): overall.
    Too few test rows to judge: a.
    """
    baseline, candidate = comparison.attrs["labels"]
    metric = comparison.attrs.get("metric", "the metric")
    by_change = comparison.groupby("change", sort=False).groups
    sentences = {
        "better": f"{candidate} has a clearly higher {metric} than {baseline} on",
        "worse": f"{candidate} has a clearly lower {metric} than {baseline} on",
        "unclear": (
            "No clear change (the paired interval of the difference contains 0)"
        ),
        "too small": "Too few test rows to judge",
        "undefined": f"{metric} undefined (no positive rows or predictions)",
    }
    return [
        f"{opening}: {', '.join(map(str, by_change[change]))}."
        for change, opening in sentences.items()
        if change in by_change
    ]
