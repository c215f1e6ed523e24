"""Reading a batch job's input and staging its output so it appears atomically.

Output layout: a directory of Parquet files ``part.00000.parquet``, ... (one per input
partition, in input order), written first into a hidden sibling directory
``.NAME.partial`` and renamed to ``NAME`` only when every partition is there. A failed
or interrupted run therefore never leaves a half-written output at the final path,
and ``--resume`` reuses the partitions that a previous run finished.
"""

import glob
import json
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dask.dataframe as dd

from slicing.batch.errors import BatchInputError

__all__ = ["StagedOutput", "read_input", "write_atomically", "write_json_atomically"]

PARQUET_SUFFIXES = (".parquet", ".parq", ".pq")
CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv")


def _input_paths(path: str) -> list[str]:
    if any(char in path for char in "*?["):
        matches = sorted(glob.glob(path))
        if not matches:
            raise BatchInputError(f"input pattern {path!r} matches no files")
        return matches
    if not os.path.exists(path):
        raise BatchInputError(f"input {path!r} does not exist")
    if os.path.isdir(path):
        files = sorted(
            os.path.join(path, name)
            for name in os.listdir(path)
            if not name.startswith((".", "_"))
        )
        if not files:
            raise BatchInputError(f"input directory {path!r} holds no data files")
        return files
    return [path]


def _infer_format(paths: list[str]) -> str:
    if all(p.endswith(PARQUET_SUFFIXES) for p in paths):
        return "parquet"
    if all(p.endswith(CSV_SUFFIXES) for p in paths):
        return "csv"
    raise BatchInputError(
        f"cannot tell the input format from the file names ({paths[:3]}...); "
        "pass --format parquet or --format csv"
    )


def read_input(
    path: str, input_format: str | None = None, partition_size: str | None = None
) -> dd.DataFrame:
    """Open Parquet or CSV input (a file, a directory or a glob) as a Dask DataFrame.

    Raises
    ------
    BatchInputError
        Missing input, an unknown format, or a file that cannot be read.
    """
    paths = _input_paths(path)
    input_format = input_format or _infer_format(paths)
    blocksize: Any = partition_size or "default"
    try:
        if input_format == "parquet":
            frame = dd.read_parquet(paths, blocksize=blocksize)
        elif input_format == "csv":
            frame = dd.read_csv(
                paths,
                blocksize=partition_size or "64MB",
                sep="\t" if path.endswith(".tsv") else ",",
            )
        else:
            raise BatchInputError(
                f"unknown input format {input_format!r}; use parquet or csv"
            )
        frame._meta  # noqa: B018 - reads the schema now, so bad files fail here
    except BatchInputError:
        raise
    except Exception as exc:
        raise BatchInputError(
            f"cannot read {input_format} input {path!r}: {type(exc).__name__}: {exc}"
        ) from exc
    if frame.npartitions == 0:
        raise BatchInputError(f"input {path!r} holds no data")
    return frame


def write_atomically(path: Path, write: Callable[[Path], Any]) -> None:
    """Call ``write`` on a hidden temporary file beside ``path``, then rename it into place.

    Readers never see a half-written file, and the hidden name (leading ``.``) keeps
    Parquet readers from picking up the leftover of an interrupted write.
    """
    temporary = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex}")
    write(temporary)
    os.replace(temporary, path)


def write_json_atomically(path: Path, payload: dict) -> None:
    """Write JSON atomically (see :func:`write_atomically`)."""
    text = json.dumps(payload, indent=2, sort_keys=True, default=str)
    write_atomically(path, lambda temporary: temporary.write_text(text))


class StagedOutput:
    """The hidden staging directory of an output, and its promotion to the final path.

    Parameters
    ----------
    output
        Final output directory.
    job
        Description of the job (input, SF names, partitions, ...); a resumed run must
        describe the same job.
    overwrite
        Replace an existing output (only once the new one is complete).
    resume
        Keep partitions a previous, interrupted run of the same job finished.
    """

    MANIFEST = "_manifest.json"

    def __init__(self, output: Path, job: dict, overwrite: bool, resume: bool) -> None:
        self.final = Path(output)
        self.partial = self.final.with_name(f".{self.final.name}.partial")
        self.job = job
        if self.final.exists() and not overwrite:
            raise BatchInputError(
                f"output {str(self.final)!r} already exists; pass --overwrite to replace it"
            )
        if not self.final.parent.is_dir():
            raise BatchInputError(
                f"the output's parent directory {str(self.final.parent)!r} does not exist"
            )
        manifest = self.partial / self.MANIFEST
        if self.partial.exists() and resume and manifest.exists():
            previous = json.loads(manifest.read_text())
            if previous != job:
                raise BatchInputError(
                    "--resume: the interrupted run in "
                    f"{str(self.partial)!r} was a different job (input, SFs or "
                    "partitioning changed); run without --resume to start over"
                )
        elif self.partial.exists():
            shutil.rmtree(self.partial)
        self.partial.mkdir(exist_ok=True)
        write_json_atomically(manifest, job)

    def partition_path(self, partition: int) -> Path:
        return self.partial / f"part.{partition:05d}.parquet"

    def stats_path(self, partition: int) -> Path:
        return self.partial / f"_part.{partition:05d}.json"

    def finished(self) -> dict[int, dict]:
        """Stats of partitions whose Parquet file and stats were both written."""
        done = {}
        for partition in range(self.job["partitions"]):
            stats = self.stats_path(partition)
            if stats.exists() and self.partition_path(partition).exists():
                done[partition] = json.loads(stats.read_text())
        return done

    def commit(self) -> None:
        """Remove bookkeeping files and leftovers of interrupted writes, then rename
        the staging directory into place."""
        for leftover in [*self.partial.glob("_*.json"), *self.partial.glob(".*.tmp-*")]:
            leftover.unlink()
        if self.final.exists():
            trash = self.final.with_name(f".{self.final.name}.old-{uuid.uuid4().hex}")
            os.replace(self.final, trash)
            os.replace(self.partial, self.final)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(self.partial, self.final)
