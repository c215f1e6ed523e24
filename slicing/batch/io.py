"""Reading a batch job's input, file by file, and writing its output files atomically.

Every input file is checked up front from what is cheap to read (a Parquet footer, a
CSV header line): a file that is not Parquet, or that lacks a column the others
have, is refused before any work starts, by name. Partitions are read by our own
reader (one task per file, or per byte range / row-group group when
``partition_size`` asks for smaller partitions), so an error that can only show at
compute time (a CSV whose numeric column holds text in a later file, a file
deleted mid-job) still names the file and the column.
"""

import glob
import hashlib
import json
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dask.dataframe as dd

from slicing.batch.errors import BatchInputError, BatchOutputError, InputFileError
from slicing.batch.readers import csv_pieces, parquet_pieces, read_piece

__all__ = [
    "InputData",
    "InputFile",
    "fingerprint_files",
    "json_writer",
    "png_writer",
    "read_input",
    "refuse_existing_output",
    "write_atomically",
    "write_json_atomically",
    "write_output_files",
]

PARQUET_SUFFIXES = (".parquet", ".parq", ".pq")
CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv")


@dataclass(frozen=True)
class InputFile:
    """One input file as it was when the job started (its fingerprint for ``--resume``).

    ``footer`` is a hash of the Parquet footer (row counts, offsets, statistics), so
    an edit that keeps the size and the modification time is still noticed.
    """

    path: str
    size: int
    mtime_ns: int
    footer: str | None = None

    def changes(self, other: "InputFile") -> list[str]:
        """What differs from ``other`` (the same path), in words."""
        said = []
        if self.size != other.size:
            said.append(f"size {self.size:,} -> {other.size:,} bytes")
        if self.mtime_ns != other.mtime_ns:
            said.append("modification time")
        if self.footer != other.footer:
            said.append("Parquet footer")
        return said


@dataclass
class InputData:
    """The input as a lazy Dask DataFrame, and the files it is read from."""

    frame: dd.DataFrame
    files: list[InputFile]
    input_format: str


def _input_paths(path: str) -> list[str]:
    if any(char in path for char in "*?["):
        matches = sorted(glob.glob(path))
        if not matches:
            raise BatchInputError(f"input pattern {path!r} matches no files")
        paths = matches
    elif not os.path.exists(path):
        raise BatchInputError(f"input {path!r} does not exist")
    elif os.path.isdir(path):
        paths = sorted(
            os.path.join(path, name)
            for name in os.listdir(path)
            if not name.startswith((".", "_"))
        )
        if not paths:
            raise BatchInputError(f"input directory {path!r} holds no data files")
    else:
        paths = [path]
    for candidate in paths:
        if not os.path.isfile(candidate):
            raise BatchInputError(
                f"input {candidate!r} is a directory; pass its files (a directory of "
                "files or a glob such as 'data/*.parquet')"
            )
    return paths


def _infer_format(paths: list[str]) -> str:
    if all(p.endswith(PARQUET_SUFFIXES) for p in paths):
        return "parquet"
    if all(p.endswith(CSV_SUFFIXES) for p in paths):
        return "csv"
    raise BatchInputError(
        f"cannot tell the input format from the file names ({paths[:3]}...); "
        "pass --format parquet or --format csv"
    )


def _footer_hash(path: str) -> str:
    with open(path, "rb") as handle:
        handle.seek(-8, os.SEEK_END)
        length = int.from_bytes(handle.read(4), "little")
        handle.seek(-8 - length, os.SEEK_END)
        return hashlib.sha256(handle.read(length)).hexdigest()[:16]


def fingerprint_files(paths: list[str], input_format: str) -> list[InputFile]:
    """Path, size, modification time (and Parquet footer hash) of each file."""
    files = []
    for path in paths:
        try:
            stat = os.stat(path)
            footer = _footer_hash(path) if input_format == "parquet" else None
        except OSError as exc:
            raise InputFileError(
                f"cannot read input file {path!r}: {exc.strerror or exc}"
            ) from exc
        files.append(
            InputFile(os.path.abspath(path), stat.st_size, stat.st_mtime_ns, footer)
        )
    return files


def read_input(
    path: str, *, input_format: str | None = None, partition_size: str | None = None
) -> InputData:
    """Open Parquet or CSV input (a file, a directory or a glob), checking every file.

    Parameters
    ----------
    path
        A file, a directory (its files not starting with ``.`` or ``_``) or a glob.
    input_format
        ``"parquet"`` or ``"csv"``; inferred from the file names by default.
    partition_size
        Bytes per partition (e.g. ``"64MB"``): Parquet files are split at row groups,
        CSV files at lines. By default one partition per Parquet file and 64MB of
        CSV.

    Raises
    ------
    BatchInputError
        Missing input or an unknown format; :class:`InputFileError` (a subclass)
        names the file for a file that is not Parquet, lacks a column the first file
        has, or holds a value of the wrong type.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> folder = tempfile.mkdtemp()
    >>> pd.DataFrame({"text": ["a", "b"]}).to_parquet(f"{folder}/one.parquet")
    >>> data = read_input(folder)
    >>> data.frame.npartitions, data.input_format, data.frame.compute().text.tolist()
    (1, 'parquet', ['a', 'b'])
    """
    paths = _input_paths(path)
    input_format = input_format or _infer_format(paths)
    sep = "\t" if path.endswith(".tsv") else ","
    if input_format == "parquet":
        pieces, meta = parquet_pieces(paths, partition_size)
    elif input_format == "csv":
        pieces, meta = csv_pieces(paths, partition_size, sep)
    else:
        raise BatchInputError(
            f"unknown input format {input_format!r}; use parquet or csv"
        )
    files = fingerprint_files(paths, input_format)
    frame = dd.from_map(
        read_piece,
        pieces,
        args=(meta, sep),
        meta=meta,
        enforce_metadata=False,
        label="read-input",
    )
    return InputData(frame, files, input_format)


def write_atomically(path: Path, write: Callable[[Path], Any]) -> None:
    """Call ``write`` on a hidden temporary file beside ``path``, then rename it into place.

    Readers never see a half-written file, and the hidden name (leading ``.``) keeps
    Parquet readers from picking up the leftover of an interrupted write. A failed
    write removes its temporary file (a full disk gets its space back).
    """
    temporary = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex}")
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def json_writer(payload: dict) -> Callable[[Path], Any]:
    """A writer for :func:`write_atomically` that writes ``payload`` as indented JSON."""
    text = json.dumps(payload, indent=2, sort_keys=True, default=str)
    return lambda path: path.write_text(text)


def write_json_atomically(path: Path, payload: dict) -> None:
    """Write JSON atomically (see :func:`write_atomically`)."""
    write_atomically(path, json_writer(payload))


def refuse_existing_output(
    out: str, names: Sequence[str], what: str, *, overwrite: bool
) -> Path:
    """The output directory ``out``, unless it holds one of ``names`` and not ``overwrite``.

    Raises
    ------
    BatchInputError
        Naming ``what`` is there (e.g. ``"a report"``) and the first file found.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "report.json").write_text("{}")
    >>> refuse_existing_output(str(folder), ["report.json"], "a report", overwrite=False)
    Traceback (most recent call last):
    ...
    slicing.batch.errors.BatchInputError: a report already exists in '...' (report.json); pass --overwrite to replace it
    """
    out_dir = Path(out)
    existing = [name for name in names if (out_dir / name).exists()]
    if existing and not overwrite:
        raise BatchInputError(
            f"{what} already exists in {out!r} ({existing[0]}); pass --overwrite to "
            "replace it"
        )
    return out_dir


def png_writer(figure: Any) -> Callable[[Path], Any]:
    """A writer for :func:`write_atomically` that saves a matplotlib figure as PNG."""
    return lambda path: figure.savefig(path, format="png", dpi=120, bbox_inches="tight")


def write_output_files(
    out_dir: Path, writers: dict[str, Callable[[Path], Any]], *, failure: str
) -> None:
    """Create ``out_dir`` and write each file of ``writers`` (name -> writer) atomically,
    in order.

    Raises
    ------
    BatchOutputError
        ``failure`` (e.g. ``"cannot write the report in 'out'"``) and the reason, when
        the directory or a file cannot be written.
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, write in writers.items():
            write_atomically(out_dir / name, write)
    except OSError as exc:
        raise BatchOutputError(f"{failure}: {exc.strerror or exc}") from exc
