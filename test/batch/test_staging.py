"""Staged, locked, verified output (``slicing/batch/staging.py``)."""

import json
import os
import socket

import pytest

from slicing.batch.errors import BatchInputError, BatchOutputError, OutputInUseError
from slicing.batch.io import InputFile, write_atomically, write_json_atomically
from slicing.batch.staging import (
    OutputLock,
    StagedOutput,
    check_output_location,
    is_apply_output,
)

JOB = {"files": [], "sfs": ["a"], "sf_fingerprints": {}, "partitions": 2}


def stage(staged: StagedOutput, partition: int, rows: int) -> None:
    import pandas as pd

    frame = pd.DataFrame({"a": [True] * rows})
    write_atomically(
        staged.partition_path(partition), lambda p: frame.to_parquet(p, index=False)
    )
    write_json_atomically(staged.stats_path(partition), {"rows": rows})


def test_commit_drops_bookkeeping_and_interrupted_writes(tmp_path):
    output = tmp_path / "out.parquet"
    with StagedOutput(output, JOB, overwrite=False, resume=False) as staged:
        staged.prepare()
        stage(staged, 0, 3)
        stage(staged, 1, 2)
        (staged.partial / ".part.00002.parquet.tmp-dead").write_bytes(b"half")
        staged.commit({"rows": 5})
    assert sorted(p.name for p in output.iterdir()) == [
        "_manifest.json",
        "_summary.json",
        "part.00000.parquet",
        "part.00001.parquet",
    ]
    assert is_apply_output(output)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.parquet"]  # no lock


@pytest.mark.parametrize("damage", ["missing", "truncated", "summary"])
def test_commit_refuses_a_staging_directory_that_does_not_add_up(tmp_path, damage):
    output = tmp_path / "out.parquet"
    with StagedOutput(output, JOB, overwrite=False, resume=False) as staged:
        staged.prepare()
        stage(staged, 0, 3)
        stage(staged, 1, 2)
        rows = 5
        if damage == "missing":
            staged.partition_path(1).unlink()
        elif damage == "truncated":
            data = staged.partition_path(1).read_bytes()
            staged.partition_path(1).write_bytes(data[: len(data) // 2])
        else:
            rows = 7
        with pytest.raises(BatchOutputError, match="the output was not written"):
            staged.commit({"rows": rows})
    assert not output.exists()


def test_overwrite_swaps_a_previous_output_in_one_step(tmp_path):
    output = tmp_path / "out.parquet"
    for rows in (3, 4):
        job = {**JOB, "partitions": 1}
        with StagedOutput(output, job, overwrite=True, resume=False) as staged:
            staged.prepare()
            stage(staged, 0, rows)
            staged.commit({"rows": rows})
    assert json.loads((output / "_summary.json").read_text()) == {"rows": 4}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.parquet"]


def test_a_held_lock_names_its_holder_and_a_dead_one_is_broken(tmp_path, caplog):
    output = tmp_path / "out"
    first = OutputLock(output)
    first.acquire()
    with pytest.raises(OutputInUseError, match=f"pid {os.getpid()} on host"):
        OutputLock(output).acquire()
    first.release()
    assert not first.path.exists()
    first.path.write_text(
        json.dumps({"pid": 2**22 + 1, "host": socket.gethostname(), "started": "t"})
    )
    second = OutputLock(output)
    with caplog.at_level("WARNING", logger="slicing.batch"):
        second.acquire()
    assert "broke a stale lock" in caplog.text and "no longer running" in caplog.text
    second.release()


def test_output_location_checks(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    file = InputFile(str(data / "a.parquet"), 1, 1)
    for output, said in [
        (data / "a.parquet", "is the input"),
        (data, "is the input"),
        (data / "out", "lies inside the input"),
        (tmp_path, "contains the input"),
    ]:
        with pytest.raises(BatchInputError, match=said):
            check_output_location(output, str(data), [file])
    check_output_location(tmp_path / "elsewhere", str(data), [file])


def test_is_apply_output(tmp_path):
    assert not is_apply_output(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    assert is_apply_output(tmp_path / "empty")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("x")
    assert not is_apply_output(tmp_path / "mine")


def test_outputs_of_earlier_versions_are_recognised(tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    (old / "part.00000.parquet").write_bytes(b"x")
    assert not is_apply_output(old)
    (tmp_path / "old.summary.json").write_text(json.dumps({"sfs": ["a"], "rows": 1}))
    assert is_apply_output(old)
    (old / "notes.txt").write_text("x")
    assert not is_apply_output(old)
