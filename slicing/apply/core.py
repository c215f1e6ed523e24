"""``SFApplier`` for sequences of data points; snorkel's module path for both appliers.

``PandasSFApplier`` is defined in :mod:`slicing.apply.pandas` and re-exported here,
where ``snorkel.slicing`` users import it from.
"""

import functools
from collections.abc import Sequence
from typing import Any, Literal, overload

import numpy as np
from tqdm.auto import tqdm

from slicing.apply.base import (
    CHUNK_ROWS,
    ApplierMetadata,
    ApplyResult,
    BaseSFApplier,
    FaultCounter,
    SliceBlock,
    run_point_sfs,
)
from slicing.apply.pandas import PandasSFApplier

__all__ = ["ApplierMetadata", "PandasSFApplier", "SFApplier"]


def _describe_point(start: int, row: int) -> str:
    return f"data point {start + row}"


class SFApplier(BaseSFApplier):
    """SF applier for a sequence of data points (objects, dicts, namedtuples, ...).

    Vectorized SFs are called point by point here (each point becomes a one-row
    DataFrame); use ``PandasSFApplier`` to run them column-wise.

    Parameters
    ----------
    sfs
        Slicing functions to apply; names must be unique. snorkel's keyword ``lfs=``
        is accepted too.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from slicing.sf.core import slicing_function
    >>> @slicing_function()
    ... def is_big(x):
    ...     return x.num > 42
    >>> S = SFApplier([is_big]).apply(
    ...     [SimpleNamespace(num=10), SimpleNamespace(num=100)], progress_bar=False
    ... )
    >>> S["is_big"]
    array([False,  True])
    """

    @overload
    def apply(
        self,
        data_points: Sequence[Any],
        progress_bar: bool = ...,
        fault_tolerant: bool = ...,
        return_meta: Literal[False] = ...,
    ) -> np.recarray: ...

    @overload
    def apply(
        self,
        data_points: Sequence[Any],
        progress_bar: bool = ...,
        fault_tolerant: bool = ...,
        *,
        return_meta: Literal[True],
    ) -> tuple[np.recarray, ApplierMetadata]: ...

    def apply(
        self,
        data_points: Sequence[Any],
        progress_bar: bool = True,
        fault_tolerant: bool = False,
        return_meta: bool = False,
    ) -> ApplyResult:
        """Apply the SFs to each data point; return the slice matrix.

        Parameters
        ----------
        data_points
            Sequence (or iterable) of data points, in the order of the result rows.
        progress_bar
            Show a tqdm progress bar.
        fault_tolerant
            Count an SF that raises as "not in slice" for that point (and count the
            fault) instead of stopping with :class:`SFApplicationError`.
        return_meta
            Also return :class:`ApplierMetadata` with per-SF fault counts.

        Returns
        -------
        np.recarray or (np.recarray, ApplierMetadata)
            Slice matrix with one bool field per SF, one row per data point.

        Raises
        ------
        ValueError
            No data points.
        SFApplicationError
            An SF raised (without ``fault_tolerant``).
        SFOutputError
            An SF returned something other than a bool.
        """
        points = data_points if hasattr(data_points, "__len__") else list(data_points)
        n_points = len(points)
        if n_points == 0:
            raise ValueError("no data points to slice: the sequence is empty")
        faults = FaultCounter(self._sf_names, fault_tolerant)
        indicators = np.empty((n_points, len(self._sfs)), dtype=np.bool_)
        positions = list(range(len(self._sfs)))
        with tqdm(total=n_points, unit="rows", disable=not progress_bar) as progress:
            for start in range(0, n_points, CHUNK_ROWS):
                chunk = points[start : start + CHUNK_ROWS]
                columns = run_point_sfs(
                    chunk,
                    self._sfs,
                    positions,
                    faults,
                    functools.partial(_describe_point, start),
                )
                for position, column in enumerate(columns):
                    indicators[start : start + len(chunk), position] = column
                progress.update(len(chunk))
        return self._finish(SliceBlock(indicators, faults.by_name()), return_meta)
