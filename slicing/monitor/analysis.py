"""SF analysis, like snorkel's ``LFAnalysis`` for slicing functions.

Coverage of each SF, pairwise overlaps (count and Jaccard), rows in no slice, slice
sizes per split, and agreement between each SF and a learned slice indicator (the
caller runs the model, e.g. ``SliceAwareClassifier.predict_slice_indicators``, and
passes its output: monitoring never calls a model).
"""

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from slicing.monitor.inputs import SliceMatrixLike, as_slice_indicators

__all__ = ["SFAnalysis", "slice_sizes_by_split"]


class SFAnalysis:
    """Summaries of a slice matrix: coverage, overlaps, uncovered rows, indicators.

    Parameters
    ----------
    S
        Slice matrix (ours or snorkel-style) or a DataFrame of bool slice columns.

    Examples
    --------
    >>> import numpy as np
    >>> from slicing.matrix import make_slice_matrix
    >>> S = make_slice_matrix(np.array([[1, 1], [1, 0], [0, 0], [0, 1]], dtype=bool),
    ...                       ["short", "has_link"])
    >>> analysis = SFAnalysis(S)
    >>> analysis.sf_summary()
              j  n  coverage  overlaps  max_jaccard most_overlapping
    short     0  2       0.5       0.5     0.333333         has_link
    has_link  1  2       0.5       0.5     0.333333            short
    >>> analysis.uncovered_count()
    1
    """

    def __init__(self, S: SliceMatrixLike) -> None:
        self.indicators, self.slice_names = as_slice_indicators(S)

    @property
    def n_rows(self) -> int:
        """Number of data points."""
        return int(self.indicators.shape[0])

    def overlap_counts(self) -> pd.DataFrame:
        """Rows in both slices, for every pair; the diagonal holds slice sizes."""
        as_counts = self.indicators.astype(np.float32)
        # float32 matmul is BLAS-fast and exact for counts below 2**24 per block.
        counts = np.zeros((len(self.slice_names),) * 2, dtype=np.int64)
        block = 1 << 22
        for start in range(0, self.n_rows, block):
            part = as_counts[start : start + block]
            counts += np.rint(part.T @ part).astype(np.int64)
        return pd.DataFrame(counts, index=self.slice_names, columns=self.slice_names)

    def jaccard(self) -> pd.DataFrame:
        """Jaccard index ``|A and B| / |A or B|`` for every pair (NaN if both empty)."""
        both = self.overlap_counts().to_numpy().astype(np.float64)
        sizes = np.diag(both)
        either = sizes[:, None] + sizes[None, :] - both
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.where(either > 0, both / either, np.nan)
        return pd.DataFrame(values, index=self.slice_names, columns=self.slice_names)

    def overlaps(self) -> pd.DataFrame:
        """One row per pair of slices that share rows, most overlapping first.

        Returns
        -------
        pd.DataFrame
            Columns ``slice_a``, ``slice_b``, ``n_both``, ``jaccard``.
        """
        counts = self.overlap_counts().to_numpy()
        jaccard = self.jaccard().to_numpy()
        first, second = np.triu_indices(len(self.slice_names), k=1)
        pairs = pd.DataFrame(
            {
                "slice_a": np.asarray(self.slice_names, dtype=object)[first],
                "slice_b": np.asarray(self.slice_names, dtype=object)[second],
                "n_both": counts[first, second],
                "jaccard": jaccard[first, second],
            }
        )
        pairs = pairs[pairs["n_both"] > 0]
        return pairs.sort_values(["jaccard", "n_both"], ascending=False).reset_index(
            drop=True
        )

    def uncovered_rows(self) -> np.ndarray:
        """Positions of the rows in no slice."""
        return np.flatnonzero(~self.indicators.any(axis=1))

    def uncovered_count(self) -> int:
        """Number of rows in no slice."""
        return int(self.n_rows - self.indicators.any(axis=1).sum())

    def sf_summary(self) -> pd.DataFrame:
        """One row per SF: its size, coverage and how much it overlaps the others.

        Returns
        -------
        pd.DataFrame
            Columns ``j`` (position in S), ``n`` (rows in the slice), ``coverage``
            (share of all rows), ``overlaps`` (share of its rows that are also in
            another slice) and, with two or more slices, ``max_jaccard`` and
            ``most_overlapping`` (the other slice reaching it; missing if it shares
            no rows).
        """
        sizes = self.indicators.sum(axis=0)
        in_many = self.indicators.sum(axis=1) > 1
        shared = (self.indicators & in_many[:, None]).sum(axis=0)
        jaccard = self.jaccard().to_numpy().copy()
        np.fill_diagonal(jaccard, np.nan)
        summary = pd.DataFrame(
            {
                "j": np.arange(len(self.slice_names)),
                "n": sizes,
                "coverage": sizes / self.n_rows if self.n_rows else np.nan,
                "overlaps": np.divide(
                    shared, sizes, out=np.full(sizes.shape, np.nan), where=sizes > 0
                ),
            },
            index=self.slice_names,
        )
        if len(self.slice_names) > 1:
            best = np.argmax(np.where(np.isnan(jaccard), -1.0, jaccard), axis=1)
            max_jaccard = jaccard[np.arange(len(best)), best]
            summary["max_jaccard"] = max_jaccard
            shares_rows = np.nan_to_num(max_jaccard) > 0
            summary["most_overlapping"] = np.where(
                shares_rows, np.asarray(self.slice_names, dtype=object)[best], None
            )
        return summary

    def indicator_agreement(
        self, learned: np.ndarray | pd.DataFrame, *, threshold: float = 0.5
    ) -> pd.DataFrame:
        """Compare each SF with a learned slice indicator, e.g. a slice-aware model's.

        Parameters
        ----------
        learned
            For every row and slice, the probability that the row is in the slice
            (or a 0/1 or bool prediction): an ``(n, k)`` array in SF order, or a
            DataFrame with one column per slice name (extra columns, such as a base
            slice, are ignored), e.g.
            ``SliceAwareClassifier.predict_slice_indicators(X)``.
        threshold
            Probability above which the indicator says "in the slice".

        Returns
        -------
        pd.DataFrame
            Per SF: ``agreement`` (share of rows where SF and thresholded indicator
            agree), ``precision`` and ``recall`` of the indicator against the SF,
            ``mean_prob_in`` and ``mean_prob_out`` (mean probability on rows the SF
            puts in / out of the slice).

        Raises
        ------
        TypeError
            If ``learned`` is neither an array nor a DataFrame.
        ValueError
            If its shape or columns do not match the slices, or a value is outside
            [0, 1] or NaN.

        Examples
        --------
        >>> import numpy as np
        >>> from slicing.matrix import make_slice_matrix
        >>> S = make_slice_matrix(np.array([[True], [True], [False], [False]]), ["a"])
        >>> SFAnalysis(S).indicator_agreement(np.array([[0.9], [0.2], [0.1], [0.6]]))
           agreement  precision  recall  mean_prob_in  mean_prob_out
        a        0.5        0.5     0.5          0.55           0.35
        """
        probabilities = self._learned_probabilities(learned)
        said_in = probabilities > threshold
        in_slice = self.indicators
        both = (said_in & in_slice).sum(axis=0).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            table = pd.DataFrame(
                {
                    "agreement": (said_in == in_slice).mean(axis=0),
                    "precision": both / said_in.sum(axis=0),
                    "recall": both / in_slice.sum(axis=0),
                    "mean_prob_in": (probabilities * in_slice).sum(axis=0)
                    / in_slice.sum(axis=0),
                    "mean_prob_out": (probabilities * ~in_slice).sum(axis=0)
                    / (~in_slice).sum(axis=0),
                },
                index=self.slice_names,
            )
        return table

    def _learned_probabilities(self, learned: np.ndarray | pd.DataFrame) -> np.ndarray:
        if isinstance(learned, pd.DataFrame):
            absent = [name for name in self.slice_names if name not in learned.columns]
            if absent:
                raise ValueError(
                    f"learned indicators lack slices {absent}; got columns "
                    f"{list(learned.columns)}"
                )
            learned = learned[self.slice_names].to_numpy()
        if not isinstance(learned, np.ndarray):
            raise TypeError(
                "learned must be an (n, k) array or a DataFrame with one column per "
                f"slice (run the model first); got {type(learned).__name__}"
            )
        expected = self.indicators.shape
        if learned.shape != expected:
            raise ValueError(
                f"learned indicators have shape {learned.shape}; expected {expected} "
                f"(rows x slices {self.slice_names})"
            )
        if not (np.issubdtype(learned.dtype, np.number) or learned.dtype == np.bool_):
            raise ValueError(
                f"learned indicators must be numeric or bool; got dtype {learned.dtype}"
            )
        probabilities = learned.astype(np.float64)
        if (
            np.isnan(probabilities).any()
            or (probabilities < 0).any()
            or (probabilities > 1).any()
        ):
            raise ValueError(
                "learned indicator probabilities must lie in [0, 1] without NaN"
            )
        return probabilities


def slice_sizes_by_split(
    splits: Mapping[str, SliceMatrixLike], min_size: int = 30
) -> pd.DataFrame:
    """Slice sizes in each split, warning about slices too small to evaluate.

    Parameters
    ----------
    splits
        Split name (``"train"``, ``"valid"``, ``"test"``...) to that split's slice
        matrix; all must have the same slices.
    min_size
        A slice with fewer rows in a split is too small to score there: a
        ``UserWarning`` names every such (slice, split).

    Returns
    -------
    pd.DataFrame
        Slices as rows, splits as columns, row counts as values; plus a
        ``"rows"`` row with each split's size.

    Examples
    --------
    >>> import numpy as np
    >>> from slicing.matrix import make_slice_matrix
    >>> train = make_slice_matrix(np.array([[True], [True], [False]]), ["a"])
    >>> test = make_slice_matrix(np.array([[True], [False]]), ["a"])
    >>> slice_sizes_by_split({"train": train, "test": test}, min_size=1)
          train  test
    a         2     1
    rows      3     2
    """
    if not splits:
        raise ValueError("splits is empty; expected a mapping of split name to S")
    columns = {}
    expected_names: list[str] | None = None
    for split, S in splits.items():
        indicators, names = as_slice_indicators(S)
        if expected_names is None:
            expected_names = names
        elif names != expected_names:
            raise ValueError(
                f"split {split!r} has slices {names}; expected {expected_names} "
                "like the first split"
            )
        columns[split] = [*indicators.sum(axis=0).tolist(), indicators.shape[0]]
    assert expected_names is not None
    sizes = pd.DataFrame(columns, index=[*expected_names, "rows"])
    small = [
        f"{name} in {split} ({sizes.at[name, split]})"
        for name in expected_names
        for split in sizes.columns
        if sizes.at[name, split] < min_size
    ]
    if small:
        listed = ", ".join(small)
        warnings.warn(
            f"slices with fewer than {min_size} rows are too small to evaluate: {listed}",
            stacklevel=2,
        )
    return sizes
