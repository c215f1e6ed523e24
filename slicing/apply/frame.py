"""Apply SFs to one pandas DataFrame (a whole frame, a chunk or a Dask partition).

Per-point SFs see lightweight rows (``slicing.points``), built column-wise from
Python lists rather than one ``pd.Series`` per row; vectorized SFs are called once
per chunk. Shared by the pandas, parallel and Dask appliers.
"""

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from slicing.apply.base import CHUNK_ROWS, FaultCounter, SliceBlock, run_point_sfs
from slicing.errors import (
    MissingColumnError,
    SFApplicationError,
    SFOutputError,
    format_label,
)
from slicing.points import MutableDataPoint, row_type
from slicing.sf.core import SlicingFunction

__all__ = ["check_frame_columns", "slice_frame"]


def check_frame_columns(frame: pd.DataFrame) -> None:
    """Refuse frames whose rows cannot be turned into data points unambiguously."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame; got {type(frame).__name__}")
    if frame.columns.has_duplicates:
        repeated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise ValueError(
            f"the DataFrame has duplicate column names {repeated}: SFs could not tell "
            "them apart"
        )


def slice_frame(
    frame: pd.DataFrame,
    sfs: Sequence[SlicingFunction],
    fault_tolerant: bool,
    *,
    row_offset: int | None = 0,
    partition: int | None = None,
    on_chunk: Callable[[int], None] | None = None,
    id_column: str | None = None,
) -> SliceBlock:
    """Apply SFs to ``frame``: the ``(n, k)`` bool indicators and per-SF fault counts.

    Parameters
    ----------
    frame
        The rows to slice, in output order.
    sfs
        Checked SFs (see ``check_sfs``).
    fault_tolerant
        Count exceptions as "not in slice" instead of raising.
    row_offset
        Position of ``frame``'s first row in the whole dataset, for error messages;
        ``None`` when unknown (Dask partitions).
    partition
        Partition number, for error messages.
    id_column
        Column holding row ids, named in error messages instead of index labels.
    on_chunk
        Called with the number of rows after each chunk (progress bars).

    Returns
    -------
    SliceBlock
        ``indicators`` in the order of ``frame``'s rows and ``sfs``;
        ``fault_counts`` by SF name.

    Raises
    ------
    SFApplicationError
        An SF raised (without ``fault_tolerant``): names the SF and the row.
    SFOutputError
        An SF returned something other than a bool.

    Examples
    --------
    >>> from slicing.sf.core import slicing_function
    >>> @slicing_function()
    ... def is_big(x):
    ...     return x.num > 42
    >>> block = slice_frame(pd.DataFrame({"num": [1, 50]}), [is_big], False)
    >>> block.indicators.tolist(), block.fault_counts
    ([[False], [True]], {'is_big': 0})
    """
    n_rows = len(frame)
    faults = FaultCounter([sf.name for sf in sfs], fault_tolerant)
    indicators = np.empty((n_rows, len(sfs)), dtype=np.bool_)
    columns = tuple(frame.columns)
    vectorized = [(pos, sf) for pos, sf in enumerate(sfs) if sf.vectorized]
    fast = [
        (pos, sf)
        for pos, sf in enumerate(sfs)
        if not sf.vectorized and not sf.needs_mutable_points
    ]
    mutable = [
        (pos, sf)
        for pos, sf in enumerate(sfs)
        if not sf.vectorized and sf.needs_mutable_points
    ]
    for start in range(0, n_rows, CHUNK_ROWS):
        chunk = frame.iloc[start : start + CHUNK_ROWS]
        describe_row = _row_describer(
            chunk.index if id_column is None else pd.Index(chunk[id_column]),
            start,
            row_offset,
            partition,
            "index label" if id_column is None else id_column,
        )
        if fast or mutable:
            values = [chunk[column].tolist() for column in columns]
        if fast:
            make_row = row_type(columns)._make
            _run_group(
                fast,
                (make_row(v) for v in zip(*values)),
                indicators,
                start,
                faults,
                describe_row,
            )
        if mutable:
            rows = (MutableDataPoint(**dict(zip(columns, v))) for v in zip(*values))
            _run_group(mutable, rows, indicators, start, faults, describe_row)
        for position, sf in vectorized:
            indicators[start : start + len(chunk), position] = _run_vectorized(
                sf, position, chunk, faults, describe_row
            )
        if on_chunk is not None:
            on_chunk(len(chunk))
    return SliceBlock(indicators, faults.by_name())


def _run_group(
    group: list[tuple[int, SlicingFunction]],
    rows: Any,
    indicators: np.ndarray,
    start: int,
    faults: FaultCounter,
    describe_row: Callable[[int], str],
) -> None:
    positions = [position for position, _ in group]
    sfs = [sf for _, sf in group]
    for position, column in zip(
        positions, run_point_sfs(rows, sfs, positions, faults, describe_row)
    ):
        indicators[start : start + len(column), position] = column


def _run_vectorized(
    sf: SlicingFunction,
    position: int,
    chunk: pd.DataFrame,
    faults: FaultCounter,
    describe_row: Callable[[int], str],
) -> np.ndarray:
    try:
        return sf.apply_to_frame(chunk)
    except SFOutputError:
        raise
    except Exception as exc:  # noqa: BLE001 - re-raised with context, or isolated
        if not faults.fault_tolerant:
            message = (
                f"vectorized SF '{sf.name}' raised {type(exc).__name__} on the chunk "
                f"starting at {describe_row(0)}: {exc}"
            )
            column = _missing_column(exc, chunk.columns)
            if column is not None:
                raise MissingColumnError(
                    f"{message} (the DataFrame has no column {column!r}; its columns "
                    f"are {list(chunk.columns)})",
                    column=column,
                    sf_name=sf.name,
                ) from exc
            raise SFApplicationError(message) from exc
    # Fault tolerant: find the rows that fail by calling the SF row by row.
    column = np.zeros(len(chunk), dtype=np.bool_)
    for row in range(len(chunk)):
        try:
            column[row] = sf.apply_to_frame(chunk.iloc[row : row + 1])[0]
        except SFOutputError:
            raise
        except Exception as exc:  # noqa: BLE001 - counted
            faults.handle(exc, position, describe_row(row))
    return column


def _missing_column(exc: Exception, columns: pd.Index) -> Any:
    """The column ``exc`` (a KeyError or AttributeError) asked for, if not in ``columns``."""
    if isinstance(exc, (KeyError, AttributeError)):
        key = (
            exc.args[0]
            if isinstance(exc, KeyError) and exc.args
            else getattr(exc, "name", None)
        )
        if key is not None and key not in columns:
            return key
    return None


def _row_describer(
    labels: pd.Index,
    start: int,
    row_offset: int | None,
    partition: int | None,
    label_name: str,
) -> Callable[[int], str]:
    def describe_row(row: int) -> str:
        label = f"{label_name} {format_label(labels[row])}"
        if row_offset is None:
            return f"row {start + row} of partition {partition} ({label})"
        where = f" of partition {partition}" if partition is not None else ""
        return f"row {row_offset + start + row}{where} ({label})"

    return describe_row
