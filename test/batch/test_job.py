"""``slicing apply`` jobs (``slicing/batch/job.py``), run through the real command.

Each test of issue 12's list ran against the code before the fix and failed there
(the behaviour then is in each docstring).
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from slicing.batch.loading import load_sfs
from slicing.cli import main
from test.batch.conftest import (
    apply_args,
    expected_slices,
    make_rows,
    one_line_error,
    read_output,
    run_slicing,
    slicing_command,
)

PICKY_SFS = """
from slicing import slicing_function

FAIL_FROM = 1090

@slicing_function()
def picky(x):
    if x.comment_id >= FAIL_FROM:
        raise ValueError("not yet")
    return x.score > 0.5
"""


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


# 1. An output that is, holds or lies inside an input --------------------------------


def test_an_output_that_is_holds_or_lies_inside_an_input_is_refused(
    dataset, sf_module, tmp_path, capsys
):
    """Before: ``--output`` = ``--input`` with ``--overwrite`` exited 0 and replaced
    the input by the slice matrix; an output holding the input deleted its siblings."""
    directory, _ = dataset
    sfs = f"{sf_module}:SFS"
    before = snapshot(directory)
    single = directory / "part0.parquet"
    cases = [
        (single, single, "is the input"),
        (directory, directory, "is the input"),
        (single, directory, "contains the input"),
        (directory, directory / "out.parquet", "lies inside the input"),
    ]
    # The real command for the first case; in process for the others (faster).
    result = run_slicing(*apply_args(single, single, sfs, "--overwrite"))
    assert result.returncode == 2, result.stderr
    assert "is the input" in one_line_error(result)
    for input_path, output, said in cases[1:]:
        assert main(apply_args(input_path, output, sfs, "--overwrite")) == 2
        assert said in capsys.readouterr().err
    assert snapshot(directory) == before


def test_overwrite_refuses_a_directory_that_is_not_an_apply_output(
    dataset, sf_module, tmp_path
):
    """Before: ``--overwrite`` deleted any directory, e.g. a user's folder of notes."""
    directory, _ = dataset
    precious = tmp_path / "reports"
    precious.mkdir()
    (precious / "q3.txt").write_text("keep me")
    result = run_slicing(
        *apply_args(directory, precious, f"{sf_module}:SFS", "--overwrite")
    )
    assert result.returncode == 2
    assert "not the output of a 'slicing apply' run" in one_line_error(result)
    assert (precious / "q3.txt").read_text() == "keep me"


# 2. Concurrent runs: a lock, and a commit that checks what it renames ------------


def slow_module(sf_module: Path, tmp_path: Path, sleep: float) -> Path:
    path = tmp_path / "slow_sfs.py"
    path.write_text(sf_module.read_text().replace("SLEEP = 0.0", f"SLEEP = {sleep}"))
    return path


GATED_SF = """
import os, time
from slicing import slicing_function

GATE = {gate!r}

@slicing_function()
def gated(x):
    deadline = time.time() + 60
    while not os.path.exists(GATE) and time.time() < deadline:
        time.sleep(0.01)
    return x.score > 0.5
"""


def test_a_second_run_on_the_same_output_is_refused_naming_the_lock_holder(
    dataset, tmp_path
):
    """Before: the second run deleted the first's staging directory; the first exited
    0 with 30 of 120 rows while its summary said 120. (The first run's SF waits for a
    gate file, so the runs overlap whatever the machine's load.)"""
    directory, frame = dataset
    gate = tmp_path / "gate"
    module = tmp_path / "gated.py"
    module.write_text(GATED_SF.format(gate=str(gate)))
    output = tmp_path / "out.parquet"
    args = apply_args(directory, output, f"{module}:gated")
    first = subprocess.Popen(
        [*slicing_command(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    lock = tmp_path / ".out.parquet.lock"
    deadline = time.time() + 60
    while time.time() < deadline and not (lock.exists() and lock.read_text()):
        time.sleep(0.02)
    second = run_slicing(*args)
    gate.write_text("")
    assert first.wait(timeout=120) == 0, first.stderr.read()
    assert second.returncode == 2
    err = one_line_error(second)
    assert f"pid {first.pid} on host {socket.gethostname()}" in err
    written = read_output(output)
    assert written.shape[0] == 120
    assert written.gated.tolist() == (frame.score > 0.5).tolist()
    assert json.loads((output / "_summary.json").read_text())["rows"] == 120


def test_a_stale_lock_of_a_dead_process_is_broken_and_said(
    dataset, sf_module, tmp_path
):
    """Before: there was no lock at all (nothing to break, nothing said)."""
    directory, _ = dataset
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = tmp_path / ".out.parquet.lock"
    lock.write_text(
        json.dumps({"pid": dead.pid, "host": socket.gethostname(), "started": "x"})
    )
    result = run_slicing(
        *apply_args(directory, tmp_path / "out.parquet", f"{sf_module}:SFS")
    )
    assert result.returncode == 0, result.stderr
    assert f"broke a stale lock on this output left by pid {dead.pid}" in result.stderr
    assert "is no longer running" in result.stderr
    assert not lock.exists()


# 3. --resume refuses a different job, saying what changed --------------------------


def interrupted_run(directory: Path, tmp_path: Path) -> tuple[Path, list[str]]:
    """A run stopped by an SF failure in the last partition (others may be staged)."""
    module = tmp_path / "picky.py"
    module.write_text(PICKY_SFS)
    output = tmp_path / "out.parquet"
    args = apply_args(directory, output, f"{module}:picky")
    args[args.index("threads")] = "synchronous"
    assert main(args) == 1  # in process: the interruption is not under test
    assert (tmp_path / ".out.parquet.partial" / "_manifest.json").exists()
    return module, args


def test_resume_refuses_an_sf_whose_code_changed_under_the_same_name(dataset, tmp_path):
    """Before: ``--resume`` reused the 3 partitions computed by the old code and
    exited 0 with a mix of old and new results."""
    directory, _ = dataset
    module, args = interrupted_run(directory, tmp_path)
    module.write_text(
        PICKY_SFS.replace("x.score > 0.5", "x.score > 0.3").replace(
            "FAIL_FROM = 1090", "FAIL_FROM = 10**9"
        )
    )
    result = run_slicing(*args, "--resume")
    assert result.returncode == 2
    err = one_line_error(result)
    assert "different job" in err and "SF 'picky' changed (its code)" in err


def test_resume_refuses_changed_input_files_naming_them(dataset, tmp_path):
    """Before: an input file rewritten between the runs was resumed silently."""
    directory, frame = dataset
    _, args = interrupted_run(directory, tmp_path)
    frame.iloc[:31].to_parquet(directory / "part0.parquet")
    result = run_slicing(*args, "--resume")
    assert result.returncode == 2
    err = one_line_error(result)
    assert f"input file '{directory / 'part0.parquet'}' changed (size" in err


# Bad input: one line naming the file (and the column) ---------------------------


def test_a_corrupt_file_among_the_inputs_is_named(dataset, sf_module, tmp_path):
    """Before: exit 1 with a traceback (``ArrowInvalid``), the file never named."""
    directory, _ = dataset
    (directory / "part2.parquet").write_bytes(b"PAR1 this is not parquet PAR1")
    result = run_slicing(*apply_args(directory, tmp_path / "o", f"{sf_module}:SFS"))
    assert result.returncode == 2
    assert "part2.parquet' is not a readable Parquet file" in one_line_error(result)


def test_schema_drift_names_the_file_and_the_column(dataset, sf_module, tmp_path):
    """Before: exit 1 with a traceback from inside Dask."""
    directory, frame = dataset
    frame.iloc[60:90].drop(columns="score").to_parquet(directory / "part2.parquet")
    result = run_slicing(*apply_args(directory, tmp_path / "o", f"{sf_module}:SFS"))
    assert result.returncode == 2
    err = one_line_error(result)
    assert "schema drift" in err and "part2.parquet' has no column 'score'" in err


def test_a_csv_with_text_in_a_numeric_column_of_a_later_file_is_named(
    sf_module, tmp_path
):
    """Before: exit 1 with Dask's "Mismatched dtypes" traceback, no file named."""
    frame = make_rows(60)
    frame.iloc[:30].to_csv(tmp_path / "a.csv", index=False)
    later = frame.iloc[30:].astype({"score": object})
    later.iloc[5, later.columns.get_loc("score")] = "high"
    later.to_csv(tmp_path / "b.csv", index=False)
    result = run_slicing(
        *apply_args(tmp_path / "*.csv", tmp_path / "o", f"{sf_module}:SFS")
    )
    assert result.returncode == 2
    err = one_line_error(result)
    assert "b.csv': column 'score' holds 'high', which is not a number" in err


@pytest.fixture
def tmpfs(tmp_path):
    """A tiny tmpfs (root only); skips where mounting is not allowed."""
    mount_point = tmp_path / "mnt"
    mount_point.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=48k", "tmpfs", str(mount_point)],
        capture_output=True,
    )
    if result.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_a_read_only_output_directory_exits_4_naming_it(dataset, sf_module, tmpfs):
    """Before: exit 1 with an ``OSError`` traceback."""
    directory, _ = dataset
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    result = run_slicing(*apply_args(directory, tmpfs / "out", f"{sf_module}:SFS"))
    assert result.returncode == 4
    err = one_line_error(result)
    assert str(tmpfs) in err and "Read-only file system" in err


def test_a_full_disk_exits_4_keeping_staged_partitions_for_resume(
    sf_module, tmpfs, tmp_path
):
    """Before: exit 1 with an ``OSError`` traceback (the data was safe)."""
    frame = make_rows(400)
    directory = tmp_path / "many"
    directory.mkdir()
    for part in range(20):
        frame.iloc[part * 20 : (part + 1) * 20].to_parquet(
            directory / f"p{part:02d}.parquet"
        )
    args = apply_args(
        directory, tmpfs / "out", f"{sf_module}:SFS", "--id-column", "comment_id"
    )
    args[args.index("threads")] = "synchronous"
    result = run_slicing(*args)
    assert result.returncode == 4
    err = one_line_error(result)
    assert "No space left on device" in err and "rerun with --resume" in err
    staged = len(list((tmpfs / ".out.partial").glob("_part.*.json")))
    assert 0 < staged < 20
    subprocess.run(["mount", "-o", "remount,size=4m", str(tmpfs)], check=True)
    resumed = run_slicing(*args, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert f"({staged} resumed)" in resumed.stdout
    written = read_output(tmpfs / "out")
    assert written.comment_id.tolist() == frame.comment_id.tolist()


# Clusters: one clean message, unpicklable SFs named -------------------------------


def test_an_sf_failure_on_a_local_cluster_prints_one_clean_message(
    dataset, sf_module, tmp_path
):
    """Before: the worker's log with a traceback came first. (The SF fails in the
    last partition only, so that the first-rows check does not catch it.)"""
    directory, _ = dataset
    module = tmp_path / "picky.py"
    module.write_text(PICKY_SFS)
    args = apply_args(directory, tmp_path / "o", f"{module}:picky")
    args[args.index("--scheduler") : args.index("--scheduler") + 2] = ["--workers", "1"]
    result = run_slicing(*args)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr and "distributed" not in result.stderr
    assert lines[0].startswith("slicing apply: SF failure: SF 'picky' raised")
    assert len(lines) == 2  # the message and the --fault-tolerant hint


LOCKED_SF = """
import threading
from slicing import slicing_function

def make():
    guard = threading.Lock()

    @slicing_function()
    def guarded(x):
        with guard:
            return x.score > 0.5

    return guarded

guarded = make()
"""


@pytest.mark.parametrize("where", [["--scheduler", "processes"], ["--workers", "1"]])
def test_an_sf_that_cannot_be_pickled_is_named_with_a_way_out(dataset, tmp_path, where):
    """Before: ``cannot pickle '_thread.lock' object`` / ``Could not serialize object
    of type _HLGExprSequence`` with a traceback."""
    directory, frame = dataset
    module = tmp_path / "locked.py"
    module.write_text(LOCKED_SF)
    args = apply_args(directory, tmp_path / "o", f"{module}:guarded")
    args[args.index("--scheduler") : args.index("--scheduler") + 2] = where
    result = run_slicing(*args)
    assert result.returncode == 2
    err = one_line_error(result)
    assert "SF 'guarded' cannot be sent to worker processes" in err
    assert "--scheduler threads" in err
    threads = run_slicing(*apply_args(directory, tmp_path / "t", f"{module}:guarded"))
    assert threads.returncode == 0, threads.stderr


# Kill and resume; a killed worker ---------------------------------------------------


def test_resume_after_the_process_is_killed_mid_run(dataset, sf_module, tmp_path):
    directory, frame = dataset
    slow = slow_module(sf_module, tmp_path, 0.02)
    output = tmp_path / "out.parquet"
    partial = tmp_path / ".out.parquet.partial"
    args = apply_args(directory, output, f"{slow}:slow_short")
    args[args.index("threads")] = "synchronous"
    process = subprocess.Popen(
        [*slicing_command(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.time() + 60
    while time.time() < deadline and len(list(partial.glob("_part.*.json"))) < 1:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished_before = len(list(partial.glob("_part.*.json")))
    assert 1 <= finished_before < 4, "the run was not interrupted mid-way"
    assert not output.exists()
    result = run_slicing(*args, "--resume")
    assert result.returncode == 0, result.stderr
    assert "broke a stale lock" in result.stderr  # the killed run's
    summary = json.loads((tmp_path / "out.parquet.summary.json").read_text())
    assert summary["resumed_partitions"] == finished_before
    assert summary["rows"] == 120
    pd.testing.assert_frame_equal(
        read_output(output), expected_slices(frame, slow, "slow_short")
    )


def test_a_killed_worker_loses_and_duplicates_no_rows(dataset, sf_module, tmp_path):
    import threading

    from distributed import Client, LocalCluster

    from slicing.batch.job import run_apply_job

    directory, frame = dataset
    slow = slow_module(sf_module, tmp_path, 0.03)
    sfs = load_sfs(f"{slow}:slow_short")
    output = tmp_path / "out.parquet"
    partial = tmp_path / ".out.parquet.partial"
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        result = {}
        job = threading.Thread(
            target=lambda: result.update(
                summary=run_apply_job(
                    sfs,
                    str(directory),
                    str(output),
                    scheduler=cluster.scheduler_address,
                    progress_bar=False,
                )
            )
        )
        job.start()
        deadline = time.time() + 60
        while time.time() < deadline and not list(partial.glob("_part.*.json")):
            time.sleep(0.05)
        pids = client.run(os.getpid)
        os.kill(next(iter(pids.values())), signal.SIGKILL)
        job.join(timeout=120)
    assert "summary" in result
    assert result["summary"].rows == 120
    pd.testing.assert_frame_equal(
        read_output(output), expected_slices(frame, slow, "slow_short")
    )
