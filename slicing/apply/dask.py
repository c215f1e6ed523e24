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

The process and ``distributed`` schedulers pickle every SF (with cloudpickle) to
send it to the workers; an SF that cannot be pickled (one closing over a lock, an
open connection or a file handle) is refused before anything is submitted, with an
error naming it.

Both appliers keep the positional order of snorkel's ``DaskLFApplier.apply(df,
scheduler, fault_tolerant)`` and ``PandasParallelLFApplier.apply(df, n_parallel,
scheduler, fault_tolerant)``; options snorkel does not have are keyword-only.
"""

from collections.abc import Sequence
from typing import Any, Literal, overload

import cloudpickle
import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd

from slicing._dask import Scheduler, compute_in_order, is_client
from slicing.apply.base import ApplierMetadata, ApplyResult, BaseSFApplier, SliceBlock
from slicing.apply.frame import check_frame_columns, slice_frame
from slicing.sf.core import SlicingFunction

__all__ = ["BaseDaskSFApplier", "DaskSFApplier", "PandasParallelSFApplier"]

#: Scheduler names whose workers are other processes, which receive the SFs pickled
#: (a ``distributed.Client`` too); "threads" and "synchronous" never pickle them.
PICKLING_SCHEDULERS = ("processes", "multiprocessing", "distributed")


def _slice_block(
    frame: pd.DataFrame,
    sfs: Sequence[SlicingFunction],
    fault_tolerant: bool,
    row_offset: int | None,
    partition: int,
) -> SliceBlock:
    return slice_frame(
        frame, sfs, fault_tolerant, row_offset=row_offset, partition=partition
    )


def _partition_columns(
    frame: pd.DataFrame,
    sfs: Sequence[SlicingFunction],
    fault_tolerant: bool,
    keep_columns: Sequence[str],
) -> pd.DataFrame:
    block = slice_frame(frame, sfs, fault_tolerant, row_offset=None)
    slices = pd.DataFrame(
        block.indicators, columns=[sf.name for sf in sfs], index=frame.index
    )
    if not keep_columns:
        return slices
    return pd.concat([frame[list(keep_columns)], slices], axis=1)


def _check_dask_frame(df: Any) -> dd.DataFrame:
    if not isinstance(df, dd.DataFrame):
        raise TypeError(f"expected a Dask DataFrame; got {type(df).__name__}")
    check_frame_columns(df._meta)
    return df


def check_sfs_picklable(sfs: Sequence[SlicingFunction], scheduler: Scheduler) -> None:
    """Refuse SFs that ``scheduler`` would have to pickle but cannot.

    Process and ``distributed`` workers receive the SFs pickled with cloudpickle;
    without this check an unpicklable SF fails deep inside Dask with a message that
    names neither the SF nor a way out (``cannot pickle '_thread.lock' object``,
    ``Could not serialize object of type _HLGExprSequence``).

    Raises
    ------
    TypeError
        Naming the first SF that cannot be pickled and why, and suggesting
        ``scheduler="threads"``.

    Examples
    --------
    >>> import threading
    >>> from slicing.sf.core import SlicingFunction
    >>> lock = threading.Lock()
    >>> locked = SlicingFunction("locked", lambda x: lock.locked())
    >>> check_sfs_picklable([locked], "threads")  # never pickled: fine
    >>> check_sfs_picklable([locked], "processes")
    Traceback (most recent call last):
    ...
    TypeError: SF 'locked' cannot be pickled (TypeError: cannot pickle '_thread.lock' object), so it cannot be sent to the worker processes of scheduler 'processes'; use scheduler="threads" (or "synchronous"), or create the unpicklable object (lock, connection, open file, ...) inside the SF instead of closing over it
    """
    if not (is_client(scheduler) or scheduler in PICKLING_SCHEDULERS):
        return
    where = (
        "a dask.distributed cluster"
        if is_client(scheduler)
        else f"scheduler {scheduler!r}"
    )
    for sf in sfs:
        try:
            cloudpickle.dumps(sf)
        except Exception as exc:  # noqa: BLE001 - any pickling failure is reported
            raise TypeError(
                f"SF '{sf.name}' cannot be pickled ({type(exc).__name__}: {exc}), so "
                f"it cannot be sent to the worker processes of {where}; use "
                'scheduler="threads" (or "synchronous"), or create the unpicklable '
                "object (lock, connection, open file, ...) inside the SF instead of "
                "closing over it"
            ) from exc


class BaseDaskSFApplier(BaseSFApplier):
    """Shared base of the appliers that compute blocks of rows as Dask tasks.

    Subclasses cut their input into blocks and call :meth:`_compute_blocks`, which
    checks the SFs can reach the workers, computes the blocks in order and returns
    the slice matrix.
    """

    def _compute_blocks(
        self,
        tasks: list[Any],
        scheduler: Scheduler,
        progress_bar: bool,
        return_meta: bool,
        num_workers: int | None,
    ) -> ApplyResult:
        blocks = compute_in_order(tasks, scheduler, progress_bar, num_workers)
        block = SliceBlock.concat(blocks, self._sf_names)
        if len(block.indicators) == 0:
            raise ValueError("the DataFrame is empty: there are no rows to slice")
        return self._finish(block, return_meta)


class DaskSFApplier(BaseDaskSFApplier):
    """SF applier for a Dask DataFrame (local schedulers or a ``distributed`` cluster).

    Parameters
    ----------
    sfs
        Slicing functions to apply; names must be unique. snorkel's keyword ``lfs=``
        is accepted too.

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
        fault_tolerant: bool = ...,
        *,
        progress_bar: bool = ...,
        return_meta: Literal[False] = ...,
        num_workers: int | None = ...,
    ) -> np.recarray: ...

    @overload
    def apply(
        self,
        df: dd.DataFrame,
        scheduler: Scheduler = ...,
        fault_tolerant: bool = ...,
        *,
        progress_bar: bool = ...,
        return_meta: Literal[True],
        num_workers: int | None = ...,
    ) -> tuple[np.recarray, ApplierMetadata]: ...

    def apply(
        self,
        df: dd.DataFrame,
        scheduler: Scheduler = "processes",
        fault_tolerant: bool = False,
        *,
        progress_bar: bool = True,
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
        fault_tolerant
            Count exceptions as "not in slice" and report per-SF fault counts.
        progress_bar
            Show a tqdm progress bar.
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
        TypeError
            An SF cannot be pickled for process or ``distributed`` workers (see
            :func:`check_sfs_picklable`), or the scheduler is not one of the above.
        SFApplicationError
            An SF raised: names the SF, the partition, the row and its index label.
        """
        df = _check_dask_frame(df)
        check_sfs_picklable(self._sfs, scheduler)
        tasks = [
            dask.delayed(_slice_block, pure=False)(
                part, self._sfs, fault_tolerant, None, i
            )
            for i, part in enumerate(df.to_delayed())
        ]
        return self._compute_blocks(
            tasks, scheduler, progress_bar, return_meta, num_workers
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
        Whether the SFs can be pickled is only known when the result is computed.

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


class PandasParallelSFApplier(BaseDaskSFApplier):
    """Apply SFs to a pandas DataFrame in parallel, splitting it into row blocks.

    The frame is cut by position (never re-sorted by index), so row ``i`` of the
    result is ``df.iloc[i]``.

    Parameters
    ----------
    sfs
        Slicing functions to apply; names must be unique. snorkel's keyword ``lfs=``
        is accepted too.
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

    def __init__(
        self,
        sfs: Sequence[SlicingFunction] | None = None,
        n_parallel: int = 2,
        *,
        lfs: Sequence[SlicingFunction] | None = None,
    ) -> None:
        super().__init__(sfs, lfs=lfs)
        self.n_parallel = self._check_n_parallel(n_parallel)

    @staticmethod
    def _check_n_parallel(n_parallel: int) -> int:
        if not isinstance(n_parallel, int) or n_parallel < 1:
            raise ValueError(f"n_parallel must be a positive int; got {n_parallel!r}")
        return n_parallel

    @overload
    def apply(
        self,
        df: pd.DataFrame,
        n_parallel: int | None = ...,
        scheduler: Scheduler = ...,
        fault_tolerant: bool = ...,
        *,
        progress_bar: bool = ...,
        return_meta: Literal[False] = ...,
    ) -> np.recarray: ...

    @overload
    def apply(
        self,
        df: pd.DataFrame,
        n_parallel: int | None = ...,
        scheduler: Scheduler = ...,
        fault_tolerant: bool = ...,
        *,
        progress_bar: bool = ...,
        return_meta: Literal[True],
    ) -> tuple[np.recarray, ApplierMetadata]: ...

    def apply(
        self,
        df: pd.DataFrame,
        n_parallel: int | None = None,
        scheduler: Scheduler = "processes",
        fault_tolerant: bool = False,
        *,
        progress_bar: bool = True,
        return_meta: bool = False,
    ) -> ApplyResult:
        """Apply the SFs to ``df`` with ``n_parallel`` workers; return the slice matrix.

        Parameters
        ----------
        df
            pandas DataFrame; row ``i`` of the result is ``df.iloc[i]``.
        n_parallel
            Number of workers (default: the constructor's ``n_parallel``, 2 unless
            set). The frame is cut into a few blocks per worker so the progress bar
            moves.
        scheduler, fault_tolerant, progress_bar, return_meta
            As in :meth:`DaskSFApplier.apply`.

        Raises
        ------
        ValueError
            An empty frame, duplicate column names or a bad ``n_parallel``.
        TypeError
            An SF cannot be pickled for process or ``distributed`` workers.
        SFApplicationError
            An SF raised: names the SF and the row's position and index label.
        """
        check_frame_columns(df)
        if len(df) == 0:
            raise ValueError("the DataFrame is empty: there are no rows to slice")
        workers = self._check_n_parallel(
            n_parallel if n_parallel is not None else self.n_parallel
        )
        check_sfs_picklable(self._sfs, scheduler)
        n_blocks = min(len(df), workers * 4 if progress_bar else workers)
        bounds = np.linspace(0, len(df), n_blocks + 1).astype(int)
        tasks = [
            dask.delayed(_slice_block, pure=False)(
                df.iloc[start:stop], self._sfs, fault_tolerant, int(start), i
            )
            for i, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:]))
        ]
        num_workers = None if is_client(scheduler) else workers
        return self._compute_blocks(
            tasks, scheduler, progress_bar, return_meta, num_workers
        )
