"""Staging an output so that it appears whole or not at all, under an exclusive lock.

Layout: the final output ``NAME`` is a directory of ``part.00000.parquet``, ... plus
``_manifest.json`` (what job wrote it) and ``_summary.json``. Partitions are written
first into the hidden sibling ``.NAME.partial``; the lock file ``.NAME.lock`` beside
it is held (``flock``, plus the holder's pid and host inside) from before the staging
directory is touched until after the commit. The commit checks that every partition
of the manifest is there with the rows its stats say, then renames the staging
directory into place (swapping it with an old output atomically where Linux allows).
"""

import ctypes
import ctypes.util
import errno
import json
import logging
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from slicing.batch.errors import BatchInputError, BatchOutputError
from slicing.batch.fingerprint import describe_job_changes
from slicing.batch.io import InputFile, write_json_atomically
from slicing.batch.lock import OutputLock

__all__ = ["MANIFEST_KIND", "StagedOutput", "check_output_location", "is_apply_output"]

logger = logging.getLogger("slicing.batch")

MANIFEST_KIND = "slicing apply"
MANIFEST = "_manifest.json"
SUMMARY = "_summary.json"


def check_output_location(
    output: Path, input_path: str, files: list[InputFile]
) -> None:
    """Refuse an output that equals, contains or lies inside an input path.

    Raises
    ------
    BatchInputError
        Naming the input the output would destroy or be read back as.
    """
    final = Path(os.path.realpath(output))
    roots = [Path(os.path.realpath(f.path)) for f in files]
    if os.path.isdir(input_path):
        roots.insert(0, Path(os.path.realpath(input_path)))
    relations = [
        ("is the input", lambda root: final == root),
        ("lies inside the input", lambda root: root in final.parents),
        ("contains the input", lambda root: final in root.parents),
    ]
    for relation, holds in relations:
        for root in roots:
            if holds(root):
                raise BatchInputError(
                    f"--output {str(output)!r} {relation} {str(root)!r}; write the "
                    "slice matrix somewhere else (the input is never modified)"
                )


def is_apply_output(path: Path) -> bool:
    """Whether ``path`` is an output a ``slicing apply`` run committed (or empty)."""
    if not path.is_dir():
        return False
    manifest = path / MANIFEST
    if manifest.is_file():
        try:
            return json.loads(manifest.read_text()).get("kind") == MANIFEST_KIND
        except (OSError, ValueError):
            return False
    # Outputs of earlier versions: only partitions inside, a summary beside.
    legacy_summary = path.with_name(path.name + ".summary.json")
    try:
        legacy = "sfs" in json.loads(legacy_summary.read_text())
    except (OSError, ValueError):
        legacy = False
    names = [p.name for p in path.iterdir()]
    if legacy:
        return all(n.startswith("part.") and n.endswith(".parquet") for n in names)
    return not names


def _exchange(source: Path, target: Path) -> bool:
    """Swap two directories atomically (Linux ``renameat2(RENAME_EXCHANGE)``)."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(
        at_fdcwd, os.fsencode(source), at_fdcwd, os.fsencode(target), rename_exchange
    )
    return result == 0


class StagedOutput:
    """The hidden staging directory of an output, and its promotion to the final path.

    Use as a context manager: entering takes the lock and checks the output path
    (early, so that a second run is refused before any work); :meth:`prepare` then
    sets up the staging directory; leaving releases the lock (the staging
    directory stays for ``--resume`` unless committed).

    Parameters
    ----------
    output
        Final output directory.
    job
        The job's manifest (input files, SF fingerprints, partitions, options); a
        resumed run must have the same one.
    overwrite
        Replace an existing output of ``slicing apply`` (only once the new one is
        complete); any other existing path is refused.
    resume
        Keep partitions a previous, interrupted run of the same job finished.
    """

    def __init__(
        self, output: Path, job: dict, *, overwrite: bool, resume: bool
    ) -> None:
        self.final = Path(output)
        self.partial = self.final.with_name(f".{self.final.name}.partial")
        self.job = {"kind": MANIFEST_KIND, **job}
        self.overwrite = overwrite
        self.resume = resume
        self.lock = OutputLock(self.final)
        self.damaged: list[int] = []

    def __enter__(self) -> "StagedOutput":
        if not self.final.parent.is_dir():
            raise BatchInputError(
                f"the output's parent directory {str(self.final.parent)!r} does not exist"
            )
        self.lock.acquire()
        try:
            self._recover_interrupted_overwrite()
            self._check_existing()
        except BaseException:
            self.lock.release()
            raise
        return self

    def _recover_interrupted_overwrite(self) -> None:
        """Put back an old output a run killed mid-overwrite left aside (only where the
        two-rename fallback of :meth:`commit` ran), and drop older leftovers."""
        leftovers = sorted(
            self.final.parent.glob(f".{self.final.name}.old-*"),
            key=lambda path: path.stat().st_mtime_ns,
        )
        if leftovers and not (self.final.exists() or self.final.is_symlink()):
            os.replace(leftovers.pop(), self.final)
            logger.warning(
                "restored %s: a run replacing it was interrupted", self.final
            )
        for leftover in leftovers:
            shutil.rmtree(leftover, ignore_errors=True)

    def _check_existing(self) -> None:
        if not (self.final.exists() or self.final.is_symlink()):
            return
        if not self.overwrite:
            raise BatchInputError(
                f"output {str(self.final)!r} already exists; pass --overwrite to "
                "replace it"
            )
        if not is_apply_output(self.final):
            raise BatchInputError(
                f"output {str(self.final)!r} exists and is not the output of a "
                f"'slicing apply' run (it has no {MANIFEST}): refusing to replace "
                "it; choose another --output or remove it yourself"
            )

    def __exit__(self, *exc_info: Any) -> None:
        self.lock.release()

    def prepare(self) -> None:
        """Create the staging directory (or check, with ``resume``, that the one there
        is of the same job) and write the manifest. Call with the lock held."""
        manifest = self.partial / MANIFEST
        if self.resume and manifest.exists():
            previous = json.loads(manifest.read_text())
            changes = describe_job_changes(previous, self.job)
            if changes:
                raise BatchInputError(
                    f"--resume: the interrupted run in {str(self.partial)!r} was a "
                    f"different job ({'; '.join(changes)}); run without --resume to "
                    "start over"
                )
        elif self.partial.exists():
            shutil.rmtree(self.partial)
        self.partial.mkdir(exist_ok=True)
        write_json_atomically(manifest, self.job)

    def partition_path(self, partition: int) -> Path:
        return self.partial / f"part.{partition:05d}.parquet"

    def stats_path(self, partition: int) -> Path:
        return self.partial / f"_part.{partition:05d}.json"

    def _rows_on_disk(self, partition: int) -> int | None:
        try:
            return pq.read_metadata(self.partition_path(partition)).num_rows
        except (OSError, ValueError, pa.ArrowException):
            return None

    def finished(self) -> dict[int, dict]:
        """Stats of staged partitions whose Parquet file is whole (its footer reads and
        its row count matches the stats); damaged ones are listed in ``damaged``."""
        done = {}
        for partition in range(self.job["partitions"]):
            stats_path = self.stats_path(partition)
            if not stats_path.exists():
                continue
            try:
                stats = json.loads(stats_path.read_text())
            except ValueError:
                stats = {"rows": -1}
            if self._rows_on_disk(partition) == stats["rows"]:
                done[partition] = stats
            else:
                self.damaged.append(partition)
                stats_path.unlink(missing_ok=True)
        return done

    def verify(self, summary: dict) -> None:
        """Refuse to commit unless every partition is staged, whole, with the rows of
        its stats, and the rows add up to the summary.

        Raises
        ------
        BatchOutputError
            Naming the first partition that does not add up.
        """
        total = 0
        for partition in range(self.job["partitions"]):
            path = self.partition_path(partition)
            rows = self._rows_on_disk(partition)
            try:
                expected = json.loads(self.stats_path(partition).read_text())["rows"]
            except (OSError, ValueError, KeyError):
                expected = None
            if rows is None or expected is None or rows != expected:
                found = "missing" if rows is None else f"{rows} rows"
                raise BatchOutputError(
                    f"staged partition {str(path)!r} is {found} (expected "
                    f"{expected} rows): the staging directory was changed by something "
                    "else; the output was not written. Rerun (with --resume to keep "
                    "the partitions that are whole)"
                )
            total += rows
        if total != summary["rows"]:
            raise BatchOutputError(
                f"the staged partitions hold {total:,} rows but the job counted "
                f"{summary['rows']:,}; the output was not written"
            )

    def commit(self, summary: dict) -> None:
        """Verify, drop bookkeeping and leftovers of interrupted writes, write the
        summary into the staging directory and rename it into place."""
        self.verify(summary)
        for leftover in [
            *self.partial.glob("_part.*.json"),
            *self.partial.glob(".*.tmp-*"),
        ]:
            leftover.unlink()
        write_json_atomically(self.partial / SUMMARY, summary)
        if not (self.final.exists() or self.final.is_symlink()):
            os.replace(self.partial, self.final)
            return
        if _exchange(self.partial, self.final):
            shutil.rmtree(self.partial, ignore_errors=True)  # now the old output
            return
        # No atomic swap: move the old output aside (a run killed between the two
        # renames leaves it as .NAME.old-*, removed by the next run).
        trash = self.final.with_name(f".{self.final.name}.old-{uuid.uuid4().hex}")
        os.replace(self.final, trash)
        os.replace(self.partial, self.final)
        shutil.rmtree(trash, ignore_errors=True)


def is_disk_error(exc: BaseException) -> bool:
    """Whether ``exc`` says the output cannot be written (full, read-only, denied)."""
    return isinstance(exc, OSError) and exc.errno in (
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
    )
