"""``LFSliceAnalysis``: snorkel's ``LFAnalysis`` statistics, per LF and per slice.

One tidy row per (LF, slice), the whole data set first as the slice ``overall``: how
much of the slice the LF covers, overlaps and conflicts (snorkel's definitions,
restricted to the slice's rows), its empirical accuracy with a Wilson interval where
gold labels exist, and two estimates that need no gold labels: the closed-form triplet
estimate inside the slice (:mod:`slicing.labeling.triplets`) and, given a fitted
:class:`~slicing.labeling.model.SliceAwareLabelModel`, the model's accuracy.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from slicing.intervals import wilson_interval
from slicing.labeling.inputs import (
    ABSTAIN,
    check_cardinality,
    check_golds,
    check_label_matrix,
    slice_indicators,
)
from slicing.labeling.model import SliceAwareLabelModel
from slicing.labeling.triplets import triplet_accuracies

__all__ = ["OVERALL", "LFSliceAnalysis"]

#: Name of the whole-data row group, as in the monitoring tables.
OVERALL = "overall"


class LFSliceAnalysis:
    """Coverage, overlaps, conflicts and accuracy of every LF inside every slice.

    Parameters
    ----------
    L
        LF matrix ``(n, m)`` in snorkel's layout (``-1`` abstain).
    S
        Slice matrix or bool DataFrame with ``n`` rows (SFs applied to the same data
        points, in the same order).
    lfs
        The LFs (for their names) or their names; ``lf_0``, ``lf_1``, ... by default.
    cardinality
        Number of classes; by default the largest vote in ``L`` plus one (at least 2).

    Examples
    --------
    >>> import numpy as np
    >>> from slicing.matrix import make_slice_matrix
    >>> L = np.array([[1, 1], [1, 0], [-1, 0], [0, -1]])
    >>> S = make_slice_matrix(np.array([[True], [True], [False], [False]]), ["short"])
    >>> table = LFSliceAnalysis(L, S, lfs=["a", "b"]).lf_slice_summary(Y=[1, 1, 0, 0])
    >>> table.loc["a", ["rows", "votes", "conflicts", "accuracy"]]
             rows  votes  conflicts  accuracy
    slice
    overall     4      3       0.25       1.0
    short       2      2       0.50       1.0
    >>> float(table.loc[("b", "overall"), "accuracy"])
    0.666...
    """

    def __init__(
        self,
        L: np.ndarray,
        S: Any,
        *,
        lfs: Sequence[Any] | None = None,
        cardinality: int | None = None,
    ) -> None:
        self.L = check_label_matrix(L)
        if cardinality is None:
            cardinality = max(2, int(self.L.max()) + 1)
        self.cardinality = check_cardinality(cardinality)
        self.L = check_label_matrix(self.L, self.cardinality)
        indicators, self.slice_names = slice_indicators(S, self.L.shape[0])
        self.S = S
        self.groups = np.column_stack([np.ones(len(self.L), dtype=bool), indicators])
        self.group_names = [OVERALL, *self.slice_names]
        n_lfs = self.L.shape[1]
        if lfs is None:
            self.lf_names = [f"lf_{i}" for i in range(n_lfs)]
        else:
            self.lf_names = [getattr(lf, "name", lf) for lf in lfs]
            if len(self.lf_names) != n_lfs:
                raise ValueError(
                    f"got {len(self.lf_names)} LFs but L has {n_lfs} LF columns"
                )

    def _per_group(self, cells: np.ndarray) -> np.ndarray:
        """Sum an ``(n, m)`` array over each group's rows: ``(g, m)``."""
        return self.groups.T.astype(np.float64) @ cells.astype(np.float64)

    def lf_slice_summary(
        self,
        Y: np.ndarray | None = None,
        *,
        label_model: SliceAwareLabelModel | None = None,
        confidence: float = 0.95,
        min_co_votes: int = 10,
    ) -> pd.DataFrame:
        """One row per (LF, slice), ``overall`` first, indexed by ``lf`` and ``slice``.

        Parameters
        ----------
        Y
            Gold labels (``-1`` where unknown); adds ``gold_votes``, ``correct``,
            ``accuracy`` and its Wilson interval ``accuracy_low``/``accuracy_high``.
        label_model
            A :class:`SliceAwareLabelModel` fitted with these LFs and SFs; adds
            ``model_accuracy``, its mean accuracy over the LF's votes in the slice.
        confidence
            Level of the Wilson intervals.
        min_co_votes
            Pairs of LFs co-voting on fewer rows of a slice are left out of the
            triplet estimate.

        Returns
        -------
        pd.DataFrame
            Columns: ``rows`` (in the slice), ``votes``, ``coverage`` (share of the
            slice's rows the LF votes on), ``overlaps`` (share where it and another LF
            vote), ``conflicts`` (share where another LF votes differently),
            ``classes_voted``, ``triplet_accuracy`` (NaN where not estimable, e.g. an
            LF voting one class only), then the gold and model columns when asked.
        """
        L, voted = self.L, self.L != ABSTAIN
        votes_per_class = np.stack(
            [(L == label).sum(axis=1) for label in range(self.cardinality)], axis=1
        )
        n_voting = voted.sum(axis=1, keepdims=True)
        own_class = np.take_along_axis(votes_per_class, np.clip(L, 0, None), axis=1)
        overlap = voted & (n_voting > 1)
        conflict = voted & (n_voting - own_class > 0)
        rows = self.groups.sum(axis=0).astype(np.int64)[:, None]
        votes = self._per_group(voted)
        with np.errstate(divide="ignore", invalid="ignore"):
            columns = {
                "rows": np.broadcast_to(rows, votes.shape),
                "votes": votes.astype(np.int64),
                "coverage": votes / rows,
                "overlaps": self._per_group(overlap) / rows,
                "conflicts": self._per_group(conflict) / rows,
            }
        columns["classes_voted"] = np.stack(
            [self._per_group(L == label) > 0 for label in range(self.cardinality)]
        ).sum(axis=0)
        if Y is not None:
            golds = check_golds(Y, len(L), self.cardinality)
            gold_votes = self._per_group(voted & (golds != ABSTAIN)[:, None])
            correct = self._per_group(voted & (L == golds[:, None]))
            low, high = wilson_interval(correct, gold_votes, confidence)
            with np.errstate(divide="ignore", invalid="ignore"):
                accuracy = np.where(gold_votes > 0, correct / gold_votes, np.nan)
            columns |= {
                "gold_votes": gold_votes.astype(np.int64),
                "correct": correct.astype(np.int64),
                "accuracy": accuracy,
                "accuracy_low": low,
                "accuracy_high": high,
            }
        columns["triplet_accuracy"] = triplet_accuracies(
            L, self.groups, self.cardinality, min_co_votes=min_co_votes
        )
        if label_model is not None:
            fitted = label_model.lf_slice_accuracies(L, self.S)
            columns["model_accuracy"] = fitted.to_numpy().T
        index = pd.MultiIndex.from_product(
            [self.lf_names, self.group_names], names=["lf", "slice"]
        )
        # Every column is (groups, LFs); the table runs LF-major, slices inside.
        return pd.DataFrame(
            {name: np.asarray(values).T.ravel() for name, values in columns.items()},
            index=index,
        )

    def lf_slice_matrix(
        self, value: str = "coverage", **summary_options: Any
    ) -> pd.DataFrame:
        """One column of :meth:`lf_slice_summary` as an LF x slice table (the heat map's data).

        Examples
        --------
        >>> import numpy as np
        >>> from slicing.matrix import make_slice_matrix
        >>> S = make_slice_matrix(np.array([[True], [False]]), ["short"])
        >>> LFSliceAnalysis(np.array([[1], [-1]]), S).lf_slice_matrix("coverage")
        slice  overall  short
        lf
        lf_0       0.5    1.0
        """
        summary = self.lf_slice_summary(**summary_options)
        if value not in summary.columns:
            raise ValueError(
                f"value must be a column of lf_slice_summary; got {value!r}, "
                f"expected one of {list(summary.columns)}"
            )
        table = summary[value].unstack("slice")
        return table.loc[self.lf_names, self.group_names]
