"""What runs on Spark executors: Arrow record batches in, slice columns out.

``DataFrame.mapInArrow`` hands each Python worker an iterator over the Arrow record
batches of one partition. Each batch becomes a pandas frame for the one frame kernel
(:func:`slicing.apply.frame.slice_frame`), and its indicators go back as Arrow
columns: no per-row Python objects cross the JVM boundary, and Arrow stores a bool
in one bit.

Fault counts travel as data, not accumulators: with ``count_faults`` every output
batch carries its per-SF counts in a list column (``FAULTS_COLUMN``) on its first row,
null on the others. Summing that column is exact under task retries, because Spark
keeps the output of one successful attempt per partition.
"""

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from slicing.apply.base import SliceBlock
from slicing.apply.frame import slice_frame
from slicing.sf.core import SlicingFunction

__all__ = ["FAULTS_COLUMN", "BatchSlicer", "SliceFilter", "fault_totals"]

#: The list column holding a batch's per-SF fault counts (see the module docstring).
FAULTS_COLUMN = "__slicing_faults__"


def _partition_id() -> int | None:
    try:
        from pyspark import TaskContext
    except ImportError:  # called outside Spark (doctests, tests of the kernel)
        return None

    context = TaskContext.get()
    return None if context is None else context.partitionId()


def _batch_frame(batch: pa.RecordBatch, offset: int) -> Any:
    """The batch as pandas, indexed by row position within the partition."""
    import pandas as pd

    frame = batch.to_pandas()
    frame.index = pd.RangeIndex(offset, offset + batch.num_rows)
    return frame


class BatchSlicer:
    """The ``mapInArrow`` function of ``SparkSFApplier``: slice each record batch.

    A plain class (not a closure) so that it pickles by reference to this module and
    holds only the SFs and options.

    Parameters
    ----------
    sfs
        Checked SFs, in slice-column order.
    fault_tolerant
        Count exceptions as "not in slice" instead of raising.
    keep_columns
        Input columns copied to the output unchanged, before the slice columns.
    count_faults
        Add ``FAULTS_COLUMN`` (see the module docstring).
    id_column
        Column naming rows in error messages (instead of row positions).

    Examples
    --------
    >>> import pyarrow as pa
    >>> from slicing.sf.core import slicing_function
    >>> @slicing_function()
    ... def is_big(x):
    ...     return x.num > 42
    >>> batch = pa.RecordBatch.from_pydict({"id": [7, 8], "num": [1, 50]})
    >>> slicer = BatchSlicer([is_big], False, ["id"], count_faults=True)
    >>> [out.to_pydict() for out in slicer([batch])]
    [{'id': [7, 8], 'is_big': [False, True], '__slicing_faults__': [[0], None]}]
    """

    def __init__(
        self,
        sfs: Sequence[SlicingFunction],
        fault_tolerant: bool,
        keep_columns: Sequence[str] = (),
        *,
        count_faults: bool = False,
        id_column: str | None = None,
    ) -> None:
        self.sfs = list(sfs)
        self.fault_tolerant = fault_tolerant
        self.keep_columns = list(keep_columns)
        self.count_faults = count_faults
        self.id_column = id_column

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch, block in _slice_batches(
            batches, self.sfs, self.fault_tolerant, self.id_column
        ):
            arrays = [batch.column(name) for name in self.keep_columns]
            arrays += [pa.array(column) for column in block.indicators.T]
            names = self.keep_columns + [sf.name for sf in self.sfs]
            if self.count_faults:
                counts = [block.fault_counts[sf.name] for sf in self.sfs]
                arrays.append(_first_row_list(counts, batch.num_rows))
                names.append(FAULTS_COLUMN)
            yield pa.RecordBatch.from_arrays(arrays, names=names)


def _slice_batches(
    batches: Iterator[pa.RecordBatch],
    sfs: Sequence[SlicingFunction],
    fault_tolerant: bool,
    id_column: str | None = None,
) -> Iterator[tuple[pa.RecordBatch, SliceBlock]]:
    """Each batch of a partition with its ``SliceBlock``; rows are named in errors by
    their position in the partition (or ``id_column``)."""
    partition = _partition_id()
    offset = 0
    for batch in batches:
        block = slice_frame(
            _batch_frame(batch, offset),
            sfs,
            fault_tolerant,
            row_offset=offset,
            partition=partition,
            id_column=id_column,
        )
        offset += batch.num_rows
        yield batch, block


def _first_row_list(values: Sequence[int], n_rows: int) -> pa.Array:
    """A list<int64> column: ``values`` on the first row, null on the others."""
    if n_rows == 0:
        return pa.array([], type=pa.list_(pa.int64()))
    offsets = np.full(n_rows + 1, len(values), dtype=np.int32)
    offsets[0] = 0
    nulls = np.ones(n_rows, dtype=np.bool_)
    nulls[0] = False
    return pa.ListArray.from_arrays(
        pa.array(offsets), pa.array(values, type=pa.int64()), mask=pa.array(nulls)
    )


def fault_totals(column: pa.ChunkedArray, sf_names: Sequence[str]) -> dict[str, int]:
    """Sum a collected ``FAULTS_COLUMN`` into per-SF fault counts.

    Examples
    --------
    >>> column = pa.chunked_array([pa.array([[1, 0], None, [2, 5]])])
    >>> fault_totals(column, ["a", "b"])
    {'a': 3, 'b': 5}
    """
    values = column.combine_chunks().flatten().to_numpy(zero_copy_only=False)
    totals = values.reshape(-1, len(sf_names)).sum(axis=0)
    return {name: int(total) for name, total in zip(sf_names, totals)}


class SliceFilter:
    """The ``mapInArrow`` function of ``slice_dataframe``: keep the rows in the slice.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from slicing.sf.core import slicing_function
    >>> @slicing_function()
    ... def is_big(x):
    ...     return x.num > 42
    >>> batch = pa.RecordBatch.from_pydict({"num": [1, 50, 99]})
    >>> [out.to_pydict() for out in SliceFilter(is_big)([batch])]
    [{'num': [50, 99]}]
    """

    def __init__(self, sf: SlicingFunction) -> None:
        self.sf = sf

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch, block in _slice_batches(batches, [self.sf], False):
            yield batch.filter(pa.array(block.indicators[:, 0]))
