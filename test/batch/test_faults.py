"""Fault injection beyond issue 12's list: each test injects one fault into a real
``slicing apply`` run (a subprocess) and checks the guarantees: the input is never
modified; an output appears whole or not at all; a resumed run equals a fresh run.

Findings (before the fixes in this change):
- a run killed during an ``--overwrite`` commit could leave no output at all (two
  renames); now one atomic ``renameat2(RENAME_EXCHANGE)`` swap, and where that is
  unavailable the next run puts the old output back;
- a staged partition truncated between runs was trusted by ``--resume`` (its stats
  file existed) and committed as is; now its footer is read and it is recomputed;
- an input file rewritten while the job ran was committed as a mix of old and new
  rows; now the run refuses to commit, naming the file;
- a 0-row first file made the first-rows check look at no rows, so an SF reading a
  missing column failed later inside Dask (traceback, exit 1); now the check uses
  the first partition that has rows;
- Unicode and 200-character SF names, clock skew (input mtimes in the future or
  before 1970), and a symlink from the output to the input were already handled or
  are now refused; they are kept as tests.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

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

FLAKY_SFS = """
import os
from slicing import slicing_function

FLAG = {flag!r}

@slicing_function()
def flaky(x):
    if x.comment_id >= 1090 and os.path.exists(FLAG):
        raise RuntimeError("injected fault")
    return x.score > 0.5
"""


def flaky_run(directory: Path, tmp_path: Path) -> tuple[list[str], Path]:
    """A run that fails in its last partition while the flag file exists (3 of 4
    partitions staged); remove the flag and ``--resume`` is the same job."""
    flag = tmp_path / "fail.flag"
    flag.write_text("")
    module = tmp_path / "flaky.py"
    module.write_text(FLAKY_SFS.format(flag=str(flag)))
    args = apply_args(directory, tmp_path / "out", f"{module}:flaky")
    args[args.index("threads")] = "synchronous"
    assert main(args) == 1  # in process: the interruption is not under test
    flag.unlink()
    return args, module


def test_a_truncated_staged_partition_is_recomputed_on_resume(dataset, tmp_path):
    directory, frame = dataset
    args, module = flaky_run(directory, tmp_path)
    staged = sorted((tmp_path / ".out.partial").glob("part.*.parquet"))
    assert staged, "nothing was staged before the injected failure"
    staged[0].write_bytes(staged[0].read_bytes()[:100])
    result = run_slicing(*args, "--resume")
    assert result.returncode == 0, result.stderr
    number = int(staged[0].name.split(".")[1])
    assert f"recomputing staged partitions [{number}]" in result.stderr
    assert f"({len(staged) - 1} resumed)" in result.stdout or len(staged) == 1
    pd.testing.assert_frame_equal(
        read_output(tmp_path / "out"), expected_slices(frame, module, "flaky")
    )


def test_a_resumed_run_equals_a_fresh_run(dataset, tmp_path):
    directory, _ = dataset
    args, _ = flaky_run(directory, tmp_path)
    assert run_slicing(*args, "--resume").returncode == 0
    fresh_args = [
        str(tmp_path / "fresh") if a == str(tmp_path / "out") else a for a in args
    ]
    assert run_slicing(*fresh_args).returncode == 0
    for name in sorted(p.name for p in (tmp_path / "fresh").glob("part.*")):
        assert (tmp_path / "out" / name).read_bytes() == (
            tmp_path / "fresh" / name
        ).read_bytes()


def test_clock_skew_in_input_mtimes_does_not_confuse_resume(dataset, tmp_path):
    directory, _ = dataset
    for number, path in enumerate(sorted(directory.iterdir())):
        mtime = 4102444800 if number % 2 else -86400  # year 2100; before 1970
        os.utime(path, (mtime, mtime))
    args, _ = flaky_run(directory, tmp_path)
    staged = len(list((tmp_path / ".out.partial").glob("_part.*.json")))
    result = run_slicing(*args, "--resume")
    assert result.returncode == 0, result.stderr
    assert staged and f"({staged} resumed)" in result.stdout


KILL_DURING_COMMIT = """
import os, sys
import slicing.batch.staging as staging

real_exchange, real_replace = staging._exchange, os.replace

def exchange_then_die(source, target):
    real_exchange(source, target)
    os._exit(9)

def no_exchange(source, target):
    return False

def replace_dying_before_the_second_rename(source, target):
    if str(source).endswith(".partial"):
        os._exit(9)
    real_replace(source, target)

if sys.argv[1] == "exchange":
    staging._exchange = exchange_then_die
else:
    staging._exchange = no_exchange
    os.replace = replace_dying_before_the_second_rename
from slicing.cli import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("how", ["exchange", "two-renames"])
def test_a_kill_during_the_final_rename_leaves_a_whole_output(
    dataset, sf_module, tmp_path, how
):
    directory, frame = dataset
    output = tmp_path / "out"
    assert main(apply_args(directory, output, f"{sf_module}:short_comment")) == 0
    old = read_output(output)
    args = apply_args(directory, output, f"{sf_module}:SFS", "--overwrite")
    killed = subprocess.run(
        [sys.executable, "-c", KILL_DURING_COMMIT, how, *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == 9, killed.stderr
    if how == "exchange":  # the swap is one step: the new output is whole
        pd.testing.assert_frame_equal(
            read_output(output), expected_slices(frame, sf_module)
        )
    else:  # killed between the renames: the next run puts the old output back
        assert not output.exists()
        again = run_slicing(*apply_args(directory, output, f"{sf_module}:SFS"))
        assert again.returncode == 2 and "already exists" in again.stderr
        assert "restored" in again.stderr
        pd.testing.assert_frame_equal(read_output(output), old)
    assert main(args) == 0
    pd.testing.assert_frame_equal(
        read_output(output), expected_slices(frame, sf_module)
    )
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_an_input_file_rewritten_while_the_job_runs_is_not_committed(
    dataset, sf_module, tmp_path
):
    directory, frame = dataset
    slow = tmp_path / "slow.py"
    slow.write_text(sf_module.read_text().replace("SLEEP = 0.0", "SLEEP = 0.03"))
    output = tmp_path / "out"
    args = apply_args(directory, output, f"{slow}:slow_short")
    args[args.index("threads")] = "synchronous"
    run = subprocess.Popen(
        [*slicing_command(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    partial = tmp_path / ".out.partial"
    deadline = time.time() + 60
    while time.time() < deadline and not list(partial.glob("_part.*.json")):
        time.sleep(0.02)
    frame.iloc[90:].assign(text="changed").to_parquet(directory / "part3.parquet")
    _, err = run.communicate(timeout=120)
    assert run.returncode == 2, err
    assert "part3.parquet' changed while the job ran" in err
    assert not output.exists()


def test_a_zero_row_first_file_still_gets_the_first_rows_check(sf_module, tmp_path):
    frame = make_rows(40)
    directory = tmp_path / "in"
    directory.mkdir()
    frame.iloc[:0].to_parquet(directory / "a.parquet")
    frame.to_parquet(directory / "b.parquet")
    needs_title = tmp_path / "needs_title.py"
    needs_title.write_text(
        "from slicing import slicing_function\n"
        "@slicing_function()\ndef has_title(x):\n    return 'a' in x['title']\n"
    )
    result = run_slicing(*apply_args(directory, tmp_path / "o", str(needs_title)))
    assert result.returncode == 2
    assert "reads column 'title', which the input lacks" in one_line_error(result)
    ok = run_slicing(*apply_args(directory, tmp_path / "ok", f"{sf_module}:SFS"))
    assert ok.returncode == 0, ok.stderr
    summary = json.loads((tmp_path / "ok" / "_summary.json").read_text())
    assert summary["rows"] == 40 and summary["partitions"] == 2
    assert pd.read_parquet(tmp_path / "ok" / "part.00000.parquet").shape[0] == 0


UNICODE_SFS = """
from slicing import SlicingFunction

LONG = "s" * 200
SFS = [
    SlicingFunction("kurz_ünd_café_☕", lambda x: x.score > 0.5),
    SlicingFunction(LONG, lambda x: len(x.text) < 8),
]
"""


def test_unicode_and_very_long_sf_names_survive_apply_and_report(dataset, tmp_path):
    directory, frame = dataset
    module = tmp_path / "unicode_sfs.py"
    module.write_text(UNICODE_SFS, encoding="utf-8")
    output = tmp_path / "out"
    result = run_slicing(
        *apply_args(directory, output, f"{module}:SFS", "--id-column", "comment_id")
    )
    assert result.returncode == 0, result.stderr
    written = read_output(output)
    assert written.columns.tolist() == ["comment_id", "kurz_ünd_café_☕", "s" * 200]
    assert written["kurz_ünd_café_☕"].tolist() == (frame.score > 0.5).tolist()
    predictions = tmp_path / "preds.parquet"
    frame.assign(label=1, pred=1).to_parquet(predictions)
    report = run_slicing(
        "report",
        "--slices",
        output,
        "--predictions",
        predictions,
        "--pred-column",
        "pred",
        "--id-column",
        "comment_id",
        "--metrics",
        "accuracy",
        "--out",
        tmp_path / "r",
    )
    assert report.returncode == 0, report.stderr
    table = pd.read_csv(tmp_path / "r" / "slice_scores.csv", index_col=0)
    assert "kurz_ünd_café_☕" in table.index


def test_a_symlink_from_the_output_to_the_input_is_refused(
    dataset, sf_module, tmp_path
):
    directory, _ = dataset
    link = tmp_path / "link"
    link.symlink_to(directory)
    before = sorted(p.name for p in directory.iterdir())
    result = run_slicing(
        *apply_args(directory, link, f"{sf_module}:SFS", "--overwrite")
    )
    assert result.returncode == 2 and "is the input" in one_line_error(result)
    assert sorted(p.name for p in directory.iterdir()) == before


def test_ctrl_c_exits_130_and_the_run_resumes(dataset, sf_module, tmp_path):
    directory, frame = dataset
    slow = tmp_path / "slow.py"
    slow.write_text(sf_module.read_text().replace("SLEEP = 0.0", "SLEEP = 0.02"))
    args = apply_args(directory, tmp_path / "out", f"{slow}:slow_short")
    args[args.index("threads")] = "synchronous"
    run = subprocess.Popen(
        [*slicing_command(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    partial = tmp_path / ".out.partial"
    deadline = time.time() + 60
    while time.time() < deadline and not list(partial.glob("_part.*.json")):
        time.sleep(0.02)
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130, err
    assert "interrupted; the output was not written. Rerun with --resume" in err
    assert not (tmp_path / ".out.lock").exists()  # released on the way out
    resumed = run_slicing(*args, "--resume")
    assert resumed.returncode == 0 and "resumed)" in resumed.stdout
    pd.testing.assert_frame_equal(
        read_output(tmp_path / "out"), expected_slices(frame, slow, "slow_short")
    )
