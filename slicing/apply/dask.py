"""SF appliers on Dask: a Dask DataFrame, or a pandas DataFrame split across processes.

Each partition is sliced by the same code as ``PandasSFApplier`` and sends back a
compact ``(rows, k)`` bool block plus its fault counts; blocks are concatenated in
partition order, so row ``i`` of the slice matrix is row ``i`` of the input whatever
the partitioning. SFs never run on Dask's placeholder ("meta") rows: ``apply`` goes
through ``to_delayed`` and ``slice_columns`` passes an explicit ``meta``.

Schedulers: ``"threads"``, ``"processes"``, ``"synchronous"`` or a
``dask.distributed.Client``. With ``"processes"`` on Linux, worker processes are
forked (unless ``multiprocessing.context`` is set in the Dask config), so scripts
work without an ``if __name__ == "__main__":`` guard. Elsewhere, and for a
``distributed.LocalCluster`` (whose workers are spawned), Python must re-import the
calling script in each worker, which needs that guard: the guard is what stops the
script from starting the cluster again inside every worker.
"""

from collections.abc import Sequence
from typing import Any, Literal, overload

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd

from slicing._dask import Scheduler, compute_in_order, is_client
from slicing.apply.base import ApplierMetadata, ApplyResult, BaseSFApplier, FaultCounter
from slicing.apply.frame import check_frame_columns, slice_frame
from slicing.sf.core import SlicingFunction

__all__ = ["DaskSFApplier", "PandasParallelSFApplier"]

Block = tuple[np.ndarray, list[int]]


def _slice_block(
    frame: pd.DataFrame,
    sfs: Sequence[SlicingFunction],
    fault_tolerant: bool,
    row_offset: int | None,
    partition: int,
) -> Block:
    return slice_frame(
        frame, sfs, fault_tolerant, row_offset=row_offset, partition=partition
    )


def _partition_columns(
    frame: pd.DataFrame,
    sfs: Sequence[SlicingFunction],
    fault_tolerant: bool,
    keep_columns: Sequence[str],
) -> pd.DataFrame:
    indicators, _ = slice_frame(frame, sfs, fault_tolerant, row_offset=None)
    slices = pd.DataFrame(
        indicators, columns=[sf.name for sf in sfs], index=frame.index
    )
    if not keep_columns:
        return slices
    return pd.concat([frame[list(keep_columns)], slices], axis=1)


def _check_dask_frame(df: Any) -> dd.DataFrame:
    if not isinstance(df, dd.DataFrame):
        raise TypeError(f"expected a Dask DataFrame; got {type(df).__name__}")
    check_frame_columns(df._meta)
    return df


class DaskSFApplier(BaseSFApplier):
    """SF applier for a Dask DataFrame (local schedulers or a ``distributed`` cluster).

    Parameters
    ----------
    sfs
        Slicing functions to apply; names must be unique.

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import pandas as pd
    >>> from slicing.sf.core import slicing_function
    >>> @slicing_function()
    ... def is_big(x):
    ...     return x.num > 42
    >>> ddf = dd.from_pandas(pd.DataFrame({"num": [1, 50, 99, 3]}), npartitions=2)
    >>> S = DaskSFApplier([is_big]).apply(ddf, scheduler="threads", progress_bar=False)
    >>> S["is_big"]
    array([False,  True,  True, False])
    """

    @overload
    def apply(
        self,
        df: dd.DataFrame,
        scheduler: Scheduler = ...,
        progress_bar: bool = ...,
        fault_tolerant: bool = ...,
        return_meta: Literal[False] = ...,
        num_workers: int | None = ...,
    ) -> np.recarray: ...

    @overload
    def apply(
        self,
        df: dd.DataFrame,
        scheduler: Scheduler = ...,
        progress_bar: bool = ...,
        fault_tolerant: bool = ...,
        *,
        return_meta: Literal[True],
        num_workers: int | None = ...,
    ) -> tuple[np.recarray, ApplierMetadata]: ...

    def apply(
        self,
        df: dd.DataFrame,
        scheduler: Scheduler = "processes",
        progress_bar: bool = True,
        fault_tolerant: bool = False,
        return_meta: bool = False,
        num_workers: int | None = None,
    ) -> ApplyResult:
        """Apply the SFs to every row of a Dask DataFrame; return the slice matrix.

        Parameters
        ----------
        df
            Dask DataFrame; rows come back in partition order, then row order.
        scheduler
            ``"processes"`` (default, as in snorkel), ``"threads"``,
            ``"synchronous"``, or a ``dask.distributed.Client``.
        progress_bar
            Show a tqdm progress bar.
        fault_tolerant
            Count exceptions as "not in slice" and report per-SF fault counts.
        return_meta
            Also return :class:`ApplierMetadata` with per-SF fault counts.
        num_workers
            Worker count for the local ``"processes"``/``"threads"`` schedulers.

        Returns
        -------
        np.recarray or (np.recarray, ApplierMetadata)

        Raises
        ------
        ValueError
            The frame has no rows.
        SFApplicationError
            An SF raised: names the SF, the partition, the row and its index label.
        """
        df = _check_dask_frame(df)
        tasks = [
            dask.delayed(_slice_block, pure=False)(
                part, self._sfs, fault_tolerant, None, i
            )
            for i, part in enumerate(df.to_delayed())
        ]
        return self._gather(
            tasks, scheduler, progress_bar, fault_tolerant, return_meta, num_workers
        )

    def slice_columns(
        self,
        df: dd.DataFrame,
        fault_tolerant: bool = False,
        keep_columns: Sequence[str] = (),
    ) -> dd.DataFrame:
        """Lazily slice a Dask DataFrame: one bool column per SF, aligned with ``df``.

        Built with ``map_partitions`` and an explicit ``meta``, so nothing runs until
        you compute or write it (e.g. ``.to_parquet(...)``), and SFs never see
        placeholder rows. Fault counts are only available from :meth:`apply`.

        ``keep_columns`` (e.g. an id, the label, the prediction) are carried into the
        result from the same partitions. Prefer this to assigning columns of ``df``
        afterwards: Dask may partition two differently projected reads of the same
        Parquet data differently, and such an assignment then fails.

        Examples
        --------
        >>> import dask.dataframe as dd
        >>> import pandas as pd
        >>> from slicing.sf.core import slicing_function
        >>> @slicing_function()
        ... def is_big(x):
        ...     return x.num > 42
        >>> ddf = dd.from_pandas(pd.DataFrame({"num": [1, 50]}), npartitions=1)
        >>> DaskSFApplier([is_big]).slice_columns(ddf).compute(scheduler="sync")
           is_big
        0   False
        1    True
        """
        df = _check_dask_frame(df)
        keep_columns = list(keep_columns)
        missing = [column for column in keep_columns if column not in df.columns]
        if missing:
            raise KeyError(f"keep_columns {missing} are not columns of the DataFrame")
        clashing = [column for column in keep_columns if column in self._sf_names]
        if clashing:
            raise ValueError(f"keep_columns {clashing} clash with SF names")
        meta = _partition_columns(df._meta, [], fault_tolerant, keep_columns)
        for name in self._sf_names:
            meta[name] = pd.Series(dtype=np.bool_)
        return df.map_partitions(
            _partition_columns,
            self._sfs,
            fault_tolerant,
            keep_columns,
            meta=meta,
            align_dataframes=False,
        )

    def _gather(
        self,
        tasks: list[Any],
        scheduler: Scheduler,
        progress_bar: bool,
        fault_tolerant: bool,
        return_meta: bool,
        num_workers: int | None,
    ) -> ApplyResult:
        blocks = compute_in_order(tasks, scheduler, progress_bar, num_workers)
        faults = FaultCounter(self._sf_names, fault_tolerant)
        for _, block_faults in blocks:
            faults.add(block_faults)
        indicators = np.concatenate([block for block, _ in blocks]) if blocks else None
        if indicators is None or len(indicators) == 0:
            raise ValueError("the DataFrame is empty: there are no rows to slice")
        return self._finish(indicators, faults, return_meta)


class PandasParallelSFApplier(DaskSFApplier):
    """Apply SFs to a pandas DataFrame in parallel, splitting it into row blocks.

    The frame is cut by position (never re-sorted by index), so row ``i`` of the
    result is ``df.iloc[i]``.

    Parameters
    ----------
    sfs
        Slicing functions to apply; names must be unique.
    n_parallel
        Default number of parallel blocks/workers (``apply`` can override it).

    Examples
    --------
    >>> import pandas as pd
    >>> from slicing.sf.core import slicing_function
    >>> @slicing_function()
    ... def is_big(x):
    ...     return x.num > 42
    >>> applier = PandasParallelSFApplier([is_big])
    >>> applier.apply(
    ...     pd.DataFrame({"num": [99, 1, 50]}), scheduler="threads", progress_bar=False
    ... )["is_big"]
    array([ True, False,  True])
    """

    def __init__(self, sfs: Sequence[SlicingFunction], n_parallel: int = 2) -> None:
        super().__init__(sfs)
        self.n_parallel = self._check_n_parallel(n_parallel)

    @staticmethod
    def _check_n_parallel(n_parallel: int) -> int:
        if not isinstance(n_parallel, int) or n_parallel < 1:
            raise ValueError(f"n_parallel must be a positive int; got {n_parallel!r}")
        return n_parallel

    @overload  # type: ignore[override]
    def apply(
        self,
        df: pd.DataFrame,
        n_parallel: int | None = ...,
        scheduler: Scheduler = ...,
        progress_bar: bool = ...,
        fault_tolerant: bool = ...,
        return_meta: Literal[False] = ...,
    ) -> np.recarray: ...

    @overload
    def apply(
        self,
        df: pd.DataFrame,
        n_parallel: int | None = ...,
        scheduler: Scheduler = ...,
        progress_bar: bool = ...,
        fault_tolerant: bool = ...,
        *,
        return_meta: Literal[True],
    ) -> tuple[np.recarray, ApplierMetadata]: ...

    def apply(
        self,
        df: pd.DataFrame,
        n_parallel: int | None = None,
        scheduler: Scheduler = "processes",
        progress_bar: bool = True,
        fault_tolerant: bool = False,
        return_meta: bool = False,
    ) -> ApplyResult:
        """Apply the SFs to ``df`` with ``n_parallel`` workers; return the slice matrix.

        Parameters
        ----------
        df
            pandas DataFrame; row ``i`` of the result is ``df.iloc[i]``.
        n_parallel
            Number of workers (default: the constructor's ``n_parallel``). The frame
            is cut into a few blocks per worker so the progress bar moves.
        scheduler, progress_bar, fault_tolerant, return_meta
            As in :meth:`DaskSFApplier.apply`.
        """
        check_frame_columns(df)
        if len(df) == 0:
            raise ValueError("the DataFrame is empty: there are no rows to slice")
        workers = self._check_n_parallel(
            n_parallel if n_parallel is not None else self.n_parallel
        )
        n_blocks = min(len(df), workers * 4 if progress_bar else workers)
        bounds = np.linspace(0, len(df), n_blocks + 1).astype(int)
        tasks = [
            dask.delayed(_slice_block, pure=False)(
                df.iloc[start:stop], self._sfs, fault_tolerant, int(start), i
            )
            for i, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:]))
        ]
        num_workers = None if is_client(scheduler) else workers
        return self._gather(
            tasks, scheduler, progress_bar, fault_tolerant, return_meta, num_workers
        )
