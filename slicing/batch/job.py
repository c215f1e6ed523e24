"""The ``slicing apply`` batch job: SFs over Parquet/CSV with Dask, written atomically.

Guarantees (each is a test in ``test/batch``): the input is never modified; an
output appears whole or not at all; a resumed run equals a fresh run.
"""

import json
import logging
import os
import time
import uuid
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import dask
import pandas as pd

from slicing._dask import LOCAL_SCHEDULERS, compute_in_order
from slicing.apply.frame import slice_frame
from slicing.batch.errors import BatchInputError, BatchOutputError
from slicing.batch.fingerprint import sf_fingerprint
from slicing.batch.io import (
    InputData,
    fingerprint_files,
    read_input,
    write_atomically,
    write_json_atomically,
)
from slicing.batch.preflight import check_picklable, preflight
from slicing.batch.staging import StagedOutput, check_output_location, is_disk_error
from slicing.sf.core import SlicingFunction

__all__ = ["ApplyJobSummary", "load_summary", "run_apply_job", "summary_path"]

logger = logging.getLogger("slicing.batch")


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


def load_summary(output: Path) -> dict:
    """Read the JSON summary written beside an output."""
    return json.loads(summary_path(output).read_text())


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
    sliced = slice_frame(
        frame,
        sfs,
        fault_tolerant,
        row_offset=None,
        partition=partition,
        id_column=id_column,
    )
    indicators = sliced.indicators
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
        "faults": dict(sliced.fault_counts),
    }
    write_json_atomically(Path(stats_path), stats)
    return stats


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
    # Workers log a task's failure with its traceback before the client re-raises it;
    # the command prints one clean message instead, so keep the workers quiet.
    cluster = stack.enter_context(
        LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            # Port 0: a free port, so a second cluster on the machine does not
            # make distributed warn that 8787 is taken (noise before our message).
            dashboard_address=":0",
            silence_logs=logging.CRITICAL,
        )
    )
    client = stack.enter_context(Client(cluster))
    client.register_plugin(_quiet_worker_plugin())
    return client


def _quiet_worker_plugin() -> Any:
    """A worker plugin: the job's workers (also those restarted after a crash) log
    nothing below CRITICAL, so that a failing SF prints one message, the client's."""
    from distributed import WorkerPlugin

    class QuietWorker(WorkerPlugin):
        name = "slicing-quiet-worker"

        def setup(self, worker: Any) -> None:
            logging.getLogger("distributed").setLevel(logging.CRITICAL)

    return QuietWorker()


def _job_manifest(
    data: InputData, sfs: list[SlicingFunction], partitions: int, options: dict
) -> dict[str, Any]:
    return {
        "files": [asdict(f) for f in data.files],
        "format": data.input_format,
        "sfs": [sf.name for sf in sfs],
        "sf_fingerprints": {sf.name: sf_fingerprint(sf) for sf in sfs},
        "partitions": partitions,
        **options,
    }


def run_apply_job(
    sfs: list[SlicingFunction],
    input_path: str,
    output_path: str,
    *,
    input_format: str | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    fault_tolerant: bool = False,
    id_column: str | None = None,
    partition_size: str | None = None,
    progress_bar: bool = True,
    resume: bool = False,
    overwrite: bool = False,
    engine: str = "dask",
    spark_master: str | None = None,
) -> ApplyJobSummary:
    """Apply SFs to Parquet/CSV input and write the slice matrix as Parquet, atomically.

    The output directory holds one ``part.NNNNN.parquet`` per input partition, in input
    order, with the id column (if given) and one bool column per SF, plus
    ``_manifest.json`` and ``_summary.json``; a copy of the summary is written to
    ``OUTPUT.summary.json``.

    Parameters
    ----------
    sfs
        Checked slicing functions (see :func:`slicing.batch.load_sfs`).
    input_path, output_path
        Input file/directory/glob; output directory (must not exist unless
        ``overwrite``, must not be or hold or lie inside an input).
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
        job (same input files, SF code and options); replace an existing output of
        this command.
    engine, spark_master
        ``"dask"``, or ``"spark"`` to run the same partition tasks as Spark tasks
        (:mod:`slicing.batch.spark_job`) on ``spark_master`` (``local[workers]`` by
        default; ``sc://...`` for Spark Connect); the output is the same.

    Raises
    ------
    BatchInputError
        Bad input, an output that would destroy input, another run holding the
        output's lock, a resume of a different job.
    BatchOutputError
        The output could not be written (read-only, full disk, a staging directory
        that does not add up); staged partitions are kept for ``--resume``.
    SFApplicationError
        An SF raised and ``fault_tolerant`` is off: names the SF, row and id.
    """
    started = time.perf_counter()
    check_picklable(sfs, scheduler)
    data = read_input(
        input_path, input_format=input_format, partition_size=partition_size
    )
    output = Path(output_path)
    check_output_location(output, input_path, data.files)
    parts = data.frame.to_delayed()
    job = _job_manifest(
        data,
        sfs,
        len(parts),
        {
            "id_column": id_column,
            "fault_tolerant": fault_tolerant,
            "partition_size": partition_size,
        },
    )
    staged = StagedOutput(output, job, overwrite=overwrite, resume=resume)
    try:
        with staged:  # the lock first: a second run is refused before any work
            preflight(data.frame, sfs, id_column, fault_tolerant)
            staged.prepare()
            summary = _run_staged(
                staged,
                parts,
                sfs,
                data,
                scheduler,
                workers,
                progress_bar,
                _spark_master(engine, spark_master),
            )
            summary.input, summary.output = input_path, str(output)
            summary.seconds = time.perf_counter() - started
            staged.commit(summary.to_dict())
    except OSError as exc:
        if not is_disk_error(exc):
            raise
        kept = (
            f"; the partitions already staged in {str(staged.partial)!r} are kept: "
            "make room and rerun with --resume"
            if staged.partial.is_dir()
            else ""
        )
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise BatchOutputError(
            f"cannot write in {str(output.parent)!r} ({reason}); the output was not "
            f"written{kept}"
        ) from exc
    try:
        write_json_atomically(summary_path(output), summary.to_dict())
    except OSError as exc:  # the output itself is complete
        logger.warning("could not write %s: %s", summary_path(output), exc.strerror)
    return summary


def _spark_master(engine: str, spark_master: str | None) -> str | None:
    """``None`` for the Dask engine, else the Spark master ("" for the default)."""
    if engine not in ("dask", "spark"):
        raise BatchInputError(f"unknown engine {engine!r}; use dask or spark")
    return (spark_master or "") if engine == "spark" else None


def _run_staged(
    staged: StagedOutput,
    parts: list,
    sfs: list[SlicingFunction],
    data: InputData,
    scheduler: str | None,
    workers: int | None,
    progress_bar: bool,
    spark_master: str | None = None,
) -> ApplyJobSummary:
    finished = staged.finished() if staged.resume else {}
    if staged.damaged:
        logger.warning(
            "recomputing staged partitions %s: their files were damaged or incomplete",
            staged.damaged,
        )
    job = staged.job
    # Dask's local scheduler takes tied, independent tasks last key first: keys that
    # count down make a local run write partitions in input order (an interrupted run
    # leaves a prefix, easy to reason about). A heuristic; correctness does not
    # depend on the order.
    run = uuid.uuid4().hex
    tasks = [
        dask.delayed(_write_partition, pure=False)(
            part,
            sfs,
            partition,
            str(staged.partition_path(partition)),
            str(staged.stats_path(partition)),
            job["id_column"],
            job["fault_tolerant"],
            dask_key_name=f"slicing-partition-{run}-{len(parts) - partition:06d}",
        )
        for partition, part in enumerate(parts)
        if partition not in finished
    ]
    if spark_master is not None:
        from slicing.batch.spark_job import compute_on_spark

        new_stats = compute_on_spark(tasks, spark_master or None, workers)
    else:
        with ExitStack() as stack:
            client = _open_scheduler(stack, scheduler, workers)
            new_stats = (
                compute_in_order(tasks, client, progress_bar, None) if tasks else []
            )
    now = fingerprint_files([f.path for f in data.files], data.input_format)
    for before, after in zip(data.files, now, strict=True):
        if before != after:
            raise BatchInputError(
                f"input file {before.path!r} changed while the job ran "
                f"({', '.join(before.changes(after))}); the output was not written. "
                "Rerun without --resume once the input is stable"
            )
    all_stats: list[dict[str, Any]] = [*finished.values(), *new_stats]
    names = job["sfs"]
    return ApplyJobSummary(
        input="",
        output="",
        sfs=names,
        partitions=len(parts),
        resumed_partitions=len(finished),
        rows=sum(stats["rows"] for stats in all_stats),
        slice_counts={n: sum(s["slice_counts"][n] for s in all_stats) for n in names},
        faults={n: sum(s["faults"][n] for s in all_stats) for n in names},
    )
