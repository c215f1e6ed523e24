"""Checks before a batch job starts: the SFs on the first real rows, and whether the
SFs can be sent to worker processes.

A missing column is recognised by its type (:class:`~slicing.errors.MissingColumnError`
for vectorized SFs, a probe data point for per-row SFs), never by matching message
text.
"""

import warnings
from typing import Any

from slicing.apply.frame import check_frame_columns, slice_frame
from slicing.batch.errors import BatchInputError
from slicing.errors import MissingColumnError, SFApplicationError
from slicing.points import MutableDataPoint
from slicing.sf.core import SlicingFunction

__all__ = ["check_picklable", "preflight"]

PREFLIGHT_ROWS = 50


class _AbsentKey(KeyError):
    def __init__(self, column: object) -> None:
        super().__init__(column)
        self.column = column


class _AbsentAttribute(AttributeError):
    def __init__(self, column: str) -> None:
        super().__init__(column)
        self.column = column


class _ColumnProbe(MutableDataPoint):
    """A data point whose missing columns raise errors that carry the column."""

    def __getitem__(self, key: str) -> Any:
        if key in self.__dict__:
            return self.__dict__[key]
        raise _AbsentKey(key)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise _AbsentAttribute(name)


def _absent_column(sf: SlicingFunction, row: dict) -> object | None:
    """The column a per-row SF asks for that ``row`` lacks, found by running it on a
    probe point (``None`` if it does not ask for one)."""
    try:
        sf(_ColumnProbe(**{str(k): v for k, v in row.items()}))
    except (_AbsentKey, _AbsentAttribute) as exc:
        return exc.column
    except Exception:  # noqa: BLE001 - any other failure is the SF's own
        return None
    return None


def preflight(
    frame: Any, sfs: list[SlicingFunction], id_column: str | None, fault_tolerant: bool
) -> None:
    """Run the SFs on the first real rows: a missing column fails before the job starts."""
    check_frame_columns(frame._meta)
    if id_column is not None and id_column not in frame.columns:
        raise BatchInputError(
            f"--id-column {id_column!r} is not a column of the input; its columns are "
            f"{list(frame.columns)}"
        )
    head = frame._meta
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Insufficient elements for `head`")
        # The first partition with rows (a 0-row file may come first).
        for partition in range(min(frame.npartitions, 8)):
            head = frame.partitions[partition].head(PREFLIGHT_ROWS, compute=True)
            if len(head):
                break
    if len(head) == 0:
        return
    try:
        slice_frame(head, sfs, False, id_column=id_column)
    except MissingColumnError as exc:
        raise BatchInputError(f"the SFs need a column the input lacks: {exc}") from exc
    except SFApplicationError as exc:
        first_row = head.iloc[0].to_dict()
        for sf in sfs:
            if sf.vectorized:
                continue
            column = _absent_column(sf, first_row)
            if column is not None:
                raise BatchInputError(
                    f"SF {sf.name!r} reads column {column!r}, which the input lacks; "
                    f"its columns are {list(head.columns)}"
                ) from exc
        if not fault_tolerant:
            raise


def check_picklable(sfs: list[SlicingFunction], scheduler: str | None) -> None:
    """SFs go to other processes except with the threads/synchronous schedulers."""
    if scheduler in ("threads", "synchronous", "sync", "single-threaded"):
        return
    import cloudpickle

    for sf in sfs:
        try:
            cloudpickle.dumps(sf)
        except Exception as exc:  # noqa: BLE001 - any pickling failure
            raise BatchInputError(
                f"SF {sf.name!r} cannot be sent to worker processes "
                f"({type(exc).__name__}: {exc}); it probably holds a lock, an open file "
                "or a connection. Create such objects inside the SF, or run in this "
                "process with --scheduler threads"
            ) from exc
