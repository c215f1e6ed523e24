"""Checks before a batch job starts: the SFs on the first real rows, and whether the
SFs can be sent to worker processes.

A missing column is recognised by its type (:class:`~slicing.errors.MissingColumnError`,
which the appliers raise for vectorized and per-row SFs alike), never by matching
message text.
"""

import warnings
from typing import Any

from slicing.apply.frame import check_frame_columns, slice_frame
from slicing.batch.errors import BatchInputError
from slicing.errors import MissingColumnError, SFApplicationError
from slicing.sf.core import SlicingFunction

__all__ = ["check_picklable", "preflight"]

PREFLIGHT_ROWS = 50


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
        if exc.sf_name is None:
            message = f"the SFs need a column the input lacks: {exc}"
        else:
            message = (
                f"SF {exc.sf_name!r} reads column {exc.column!r}, which the input "
                f"lacks; its columns are {list(head.columns)}"
            )
        raise BatchInputError(message) from exc
    except SFApplicationError:
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
