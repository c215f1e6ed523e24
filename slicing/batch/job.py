"""The ``slicing apply`` batch job: SFs over Parquet/CSV with Dask, written atomically."""

import json
import os
import time
import warnings
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import dask
import pandas as pd

from slicing._dask import LOCAL_SCHEDULERS, compute_in_order
from slicing.apply.frame import check_frame_columns, slice_frame
from slicing.batch.errors import BatchInputError
from slicing.batch.io import (
    StagedOutput,
    read_input,
    write_atomically,
    write_json_atomically,
)
from slicing.errors import SFApplicationError
from slicing.sf.core import SlicingFunction

__all__ = ["ApplyJobSummary", "run_apply_job", "summary_path"]

PREFLIGHT_ROWS = 50


@dataclass
class ApplyJobSummary:
    """What an apply job did: rows, per-slice counts and shares, faults, time."""

    input: str
    output: str
    sfs: list[str]
    rows: int = 0
    partitions: int = 0
    resumed_partitions: int = 0
    seconds: float = 0.0
    slice_counts: dict[str, int] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=dict)

    @property
    def slice_shares(self) -> dict[str, float]:
        return {
            name: count / self.rows if self.rows else 0.0
            for name, count in self.slice_counts.items()
        }

    def to_dict(self) -> dict:
        payload = asdict(self)
        payload["slice_shares"] = self.slice_shares
        return payload

    def format_table(self) -> str:
        """Human-readable summary printed by the command line."""
        table = pd.DataFrame(
            {
                "rows in slice": pd.Series(self.slice_counts),
                "share": pd.Series(self.slice_shares).round(4),
                "faults": pd.Series(self.faults),
            }
        )
        resumed = (
            f" ({self.resumed_partitions} resumed)" if self.resumed_partitions else ""
        )
        return (
            f"{self.rows:,} rows in {self.partitions} partitions{resumed}, "
            f"{len(self.sfs)} SFs, {self.seconds:.1f} s -> {self.output}\n"
            f"{table.to_string()}\ntotal faults: {sum(self.faults.values())}"
        )


def summary_path(output: Path) -> Path:
    """Where the JSON summary of an output goes: ``OUTPUT.summary.json`` beside it."""
    return output.with_name(output.name + ".summary.json")


def _write_partition(
    frame: pd.DataFrame,
    sfs: list[SlicingFunction],
    partition: int,
    partition_path: str,
    stats_path: str,
    id_column: str | None,
    fault_tolerant: bool,
) -> dict:
    """Slice one partition and write it (Parquet, then its stats), each atomically."""
    indicators, faults = slice_frame(
        frame,
        sfs,
        fault_tolerant,
        row_offset=None,
        partition=partition,
        id_column=id_column,
    )
    names = [sf.name for sf in sfs]
    output = pd.DataFrame(indicators, columns=names)
    if id_column is not None:
        output.insert(0, id_column, frame[id_column].to_numpy())
    write_atomically(
        Path(partition_path),
        lambda temporary: output.to_parquet(temporary, index=False),
    )
    stats = {
        "partition": partition,
        "rows": len(frame),
        "slice_counts": dict(zip(names, indicators.sum(axis=0).tolist())),
        "faults": dict(zip(names, faults)),
    }
    write_json_atomically(Path(stats_path), stats)
    return stats


def _preflight(
    frame: Any, sfs: list[SlicingFunction], id_column: str | None, fault_tolerant: bool
) -> None:
    """Run the SFs on the first real rows: a missing column fails before the job starts."""
    check_frame_columns(frame._meta)
    if id_column is not None and id_column not in frame.columns:
        raise BatchInputError(
            f"--id-column {id_column!r} is not a column of the input; its columns are "
            f"{list(frame.columns)}"
        )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Insufficient elements for `head`")
        head = frame.head(PREFLIGHT_ROWS, npartitions=1, compute=True)
    if len(head) == 0:
        return
    try:
        slice_frame(head, sfs, fault_tolerant=False, id_column=id_column)
    except SFApplicationError as exc:
        if "no column" in str(exc):
            raise BatchInputError(
                f"the SFs need a column the input lacks: {exc}"
            ) from exc
        if not fault_tolerant:
            raise


def _open_scheduler(
    stack: ExitStack, scheduler: str | None, workers: int | None
) -> Any:
    if scheduler in LOCAL_SCHEDULERS:
        return scheduler
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return stack.enter_context(Client(scheduler, timeout="10s"))
        except (OSError, TimeoutError) as exc:
            raise BatchInputError(
                f"cannot connect to the Dask scheduler at {scheduler!r}: {exc}"
            ) from exc
    cluster = stack.enter_context(
        LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
    )
    return stack.enter_context(Client(cluster))


def run_apply_job(
    sfs: list[SlicingFunction],
    input_path: str,
    output_path: str,
    input_format: str | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    fault_tolerant: bool = False,
    id_column: str | None = None,
    partition_size: str | None = None,
    progress_bar: bool = True,
    resume: bool = False,
    overwrite: bool = False,
) -> ApplyJobSummary:
    """Apply SFs to Parquet/CSV input and write the slice matrix as Parquet, atomically.

    The output directory holds one ``part.NNNNN.parquet`` per input partition, in input
    order, with the id column (if given) and one bool column per SF. A JSON summary is
    written to ``OUTPUT.summary.json``.

    Parameters
    ----------
    sfs
        Checked slicing functions.
    input_path, output_path
        Input file/directory/glob; output directory (must not exist unless
        ``overwrite``).
    input_format
        ``"parquet"`` or ``"csv"``; inferred from file names by default.
    scheduler
        A scheduler address (``tcp://...``), a local scheduler name (``"threads"``,
        ``"processes"``, ``"synchronous"``), or ``None`` for a ``LocalCluster`` of
        ``workers`` processes.
    fault_tolerant
        Count rows where an SF raises (as "not in slice") instead of stopping.
    id_column
        Column copied to the output and named in error messages.
    partition_size
        Bytes per input partition (e.g. ``"64MB"``).
    progress_bar, resume, overwrite
        Show progress; reuse finished partitions of an interrupted run of the same
        job; replace an existing output.

    Raises
    ------
    BatchInputError
        Bad input (reported by the command line without a traceback).
    SFApplicationError
        An SF raised and ``fault_tolerant`` is off: names the SF, row and id.
    """
    started = time.perf_counter()
    frame = read_input(input_path, input_format, partition_size)
    _preflight(frame, sfs, id_column, fault_tolerant)
    output = Path(output_path)
    # Partitions as they will be computed: Dask's graph optimisation may combine
    # Parquet files, so count after it, not from ``frame.npartitions``.
    parts = frame.to_delayed()
    job: dict[str, Any] = {
        "input": os.path.abspath(input_path),
        "sfs": [sf.name for sf in sfs],
        "partitions": len(parts),
        "id_column": id_column,
        "fault_tolerant": fault_tolerant,
        "partition_size": partition_size,
    }
    staged = StagedOutput(output, job, overwrite=overwrite, resume=resume)
    finished = staged.finished() if resume else {}
    tasks = [
        dask.delayed(_write_partition, pure=False)(
            part,
            sfs,
            partition,
            str(staged.partition_path(partition)),
            str(staged.stats_path(partition)),
            id_column,
            fault_tolerant,
        )
        for partition, part in enumerate(parts)
        if partition not in finished
    ]
    with ExitStack() as stack:
        client = _open_scheduler(stack, scheduler, workers)
        new_stats = compute_in_order(tasks, client, progress_bar, None) if tasks else []
    all_stats: list[dict[str, Any]] = [*finished.values(), *new_stats]
    summary = ApplyJobSummary(
        input=input_path,
        output=str(output),
        sfs=job["sfs"],
        partitions=len(parts),
        resumed_partitions=len(finished),
    )
    summary.rows = sum(stats["rows"] for stats in all_stats)
    summary.slice_counts = {
        name: sum(s["slice_counts"][name] for s in all_stats) for name in summary.sfs
    }
    summary.faults = {
        name: sum(s["faults"][name] for s in all_stats) for name in summary.sfs
    }
    staged.commit()
    summary.seconds = time.perf_counter() - started
    write_json_atomically(summary_path(output), summary.to_dict())
    return summary


def load_summary(output: Path) -> dict:
    """Read the JSON summary written beside an output."""
    return json.loads(summary_path(output).read_text())
