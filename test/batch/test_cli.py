"""The ``slicing apply`` command, in process (threads scheduler) and as a subprocess."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from slicing.apply.pandas import PandasSFApplier
from slicing.batch.loading import load_sfs
from slicing.cli import main


def expected_slices(
    frame: pd.DataFrame, sf_module: Path, spec: str = "SFS"
) -> pd.DataFrame:
    S = PandasSFApplier(load_sfs(f"{sf_module}:{spec}")).apply(
        frame, progress_bar=False
    )
    return pd.DataFrame({name: S[name] for name in S.dtype.names})


def read_output(path: Path) -> pd.DataFrame:
    files = sorted(path.glob("part.*.parquet"))
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def apply_args(dataset_dir, output, sf_module, *extra):
    return [
        "apply",
        "--sfs",
        f"{sf_module}:SFS",
        "--input",
        str(dataset_dir),
        "--output",
        str(output),
        "--scheduler",
        "threads",
        "--no-progress",
        *extra,
    ]


def test_apply_writes_aligned_slices_with_ids_and_a_summary(
    dataset, sf_module, tmp_path, capsys
):
    directory, frame = dataset
    output = tmp_path / "slices.parquet"
    assert (
        main(apply_args(directory, output, sf_module, "--id-column", "comment_id")) == 0
    )
    written = read_output(output)
    assert written.columns.tolist() == ["comment_id", "short_comment", "high_score"]
    assert written.comment_id.tolist() == frame.comment_id.tolist()
    pd.testing.assert_frame_equal(
        written.drop(columns="comment_id"), expected_slices(frame, sf_module)
    )
    summary = json.loads((tmp_path / "slices.parquet.summary.json").read_text())
    assert summary["rows"] == 120 and summary["partitions"] == 4
    assert summary["slice_counts"]["high_score"] == int((frame.score > 0.5).sum())
    assert summary["faults"] == {"short_comment": 0, "high_score": 0}
    printed = capsys.readouterr().out
    assert "120 rows in 4 partitions" in printed and "short_comment" in printed
    assert not list(tmp_path.glob(".slices.parquet.partial"))


def test_csv_input_and_glob(dataset, sf_module, tmp_path):
    _, frame = dataset
    frame.iloc[:60].to_csv(tmp_path / "a.csv", index=False)
    frame.iloc[60:].to_csv(tmp_path / "b.csv", index=False)
    output = tmp_path / "out.parquet"
    assert main(apply_args(tmp_path / "*.csv", output, sf_module)) == 0
    pd.testing.assert_frame_equal(
        read_output(output), expected_slices(frame, sf_module)
    )


def test_fault_tolerant_counts_and_strict_mode_names_sf_row_and_id(
    dataset, sf_module, tmp_path, capsys
):
    directory, frame = dataset
    output = tmp_path / "out.parquet"
    args = [
        "apply",
        "--sfs",
        f"{sf_module}:fragile",
        "--input",
        str(directory),
        "--output",
        str(output),
        "--scheduler",
        "threads",
        "--no-progress",
        "--id-column",
        "comment_id",
    ]
    assert main(args) == 1
    err = capsys.readouterr().err
    first_bad = int(frame.comment_id[frame.score == 0.25].iloc[0])
    assert (
        "SF 'fragile' raised ZeroDivisionError" in err
        and f"comment_id {first_bad}" in err
    )
    assert not output.exists()  # nothing half-written at the final path
    assert main([*args, "--fault-tolerant"]) == 0
    summary = json.loads((tmp_path / "out.parquet.summary.json").read_text())
    assert summary["faults"] == {"fragile": int((frame.score == 0.25).sum())}


def test_bad_inputs_exit_2_with_a_message(dataset, sf_module, tmp_path, capsys):
    directory, _ = dataset
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"this is not parquet")
    taken = tmp_path / "taken"
    taken.mkdir()
    missing_column_sfs = tmp_path / "needs_title.py"
    missing_column_sfs.write_text(
        "from slicing import slicing_function\n"
        "@slicing_function()\ndef has_title(x):\n    return 'a' in x.title\n"
    )
    cases = [
        (
            apply_args(tmp_path / "nope.parquet", tmp_path / "o1", sf_module),
            "does not exist",
        ),
        (apply_args(garbage, tmp_path / "o2", sf_module), "cannot read parquet input"),
        (apply_args(directory, taken, sf_module), "already exists; pass --overwrite"),
        (
            [
                "apply",
                "--sfs",
                str(missing_column_sfs),
                "--input",
                str(directory),
                "--output",
                str(tmp_path / "o3"),
                "--scheduler",
                "threads",
            ],
            "SF 'has_title' raised AttributeError .*no column 'title'",
        ),
        (
            apply_args(directory, tmp_path / "o4", sf_module, "--id-column", "nope"),
            "--id-column 'nope' is not a column",
        ),
        (
            [
                "apply",
                "--sfs",
                f"{sf_module}:NOT_AN_SF",
                "--input",
                str(directory),
                "--output",
                str(tmp_path / "o5"),
            ],
            "not a SlicingFunction",
        ),
    ]
    for args, message in cases:
        assert main(args) == 2, message
        err = capsys.readouterr().err
        assert "Traceback" not in err
        import re

        assert re.search(message, err), (message, err)


def test_overwrite_replaces_only_when_complete(dataset, sf_module, tmp_path):
    directory, frame = dataset
    output = tmp_path / "out.parquet"
    output.mkdir()
    (output / "old.txt").write_text("old")
    assert main(apply_args(directory, output, sf_module, "--overwrite")) == 0
    assert not (output / "old.txt").exists()
    pd.testing.assert_frame_equal(
        read_output(output), expected_slices(frame, sf_module)
    )


def test_help_explains_every_option_with_examples():
    result = subprocess.run(
        [sys.executable, "-m", "slicing.cli", "apply", "--help"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0
    for option in (
        "--sfs",
        "--input",
        "--output",
        "--format",
        "--scheduler",
        "--workers",
        "--fault-tolerant",
        "--id-column",
        "--partition-size",
        "--no-progress",
        "--resume",
        "--overwrite",
        "examples:",
    ):
        assert option in result.stdout


def test_resume_after_the_process_is_killed_mid_run(dataset, sf_module, tmp_path):
    directory, frame = dataset
    slow_module = tmp_path / "slow_sfs.py"
    slow_module.write_text(sf_module.read_text().replace("SLEEP = 0.0", "SLEEP = 0.02"))
    output = tmp_path / "out.parquet"
    partial = tmp_path / ".out.parquet.partial"
    args = [
        sys.executable,
        "-m",
        "slicing.cli",
        "apply",
        "--sfs",
        f"{slow_module}:slow_short",
        "--input",
        str(directory),
        "--output",
        str(output),
        "--scheduler",
        "synchronous",
        "--no-progress",
    ]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline and len(list(partial.glob("_part.*.json"))) < 1:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished_before = len(list(partial.glob("_part.*.json")))
    assert 1 <= finished_before < 4, "the run was not interrupted mid-way"
    assert not output.exists()
    result = subprocess.run(
        [*args, "--resume"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "out.parquet.summary.json").read_text())
    assert summary["resumed_partitions"] == finished_before
    assert summary["rows"] == 120
    pd.testing.assert_frame_equal(
        read_output(output), expected_slices(frame, slow_module, "slow_short")
    )


def test_resume_refuses_a_different_job(dataset, sf_module, tmp_path, capsys):
    directory, _ = dataset
    partial = tmp_path / ".out.parquet.partial"
    partial.mkdir()
    (partial / "_manifest.json").write_text(
        json.dumps({"input": "elsewhere", "sfs": [], "partitions": 1})
    )
    assert (
        main(apply_args(directory, tmp_path / "out.parquet", sf_module, "--resume"))
        == 2
    )
    assert "different job" in capsys.readouterr().err


def test_a_killed_worker_loses_and_duplicates_no_rows(dataset, sf_module, tmp_path):
    from distributed import Client, LocalCluster

    from slicing.batch.job import run_apply_job

    directory, frame = dataset
    slow_module = tmp_path / "slow_sfs.py"
    slow_module.write_text(sf_module.read_text().replace("SLEEP = 0.0", "SLEEP = 0.03"))
    sfs = load_sfs(f"{slow_module}:slow_short")
    output = tmp_path / "out.parquet"
    partial = tmp_path / ".out.parquet.partial"
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        import threading

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
    written = read_output(output)
    pd.testing.assert_frame_equal(
        written, expected_slices(frame, slow_module, "slow_short")
    )


def test_partition_size_controls_the_number_of_partitions(dataset, sf_module, tmp_path):
    _, frame = dataset
    frame.to_csv(tmp_path / "all.csv", index=False)
    small = tmp_path / "small.parquet"
    assert (
        main(
            apply_args(
                tmp_path / "all.csv", small, sf_module, "--partition-size", "1KB"
            )
        )
        == 0
    )
    summary = json.loads((tmp_path / "small.parquet.summary.json").read_text())
    assert summary["partitions"] > 1
    assert len(list(small.glob("part.*.parquet"))) == summary["partitions"]
    pd.testing.assert_frame_equal(read_output(small), expected_slices(frame, sf_module))


def test_commit_drops_bookkeeping_and_interrupted_writes(tmp_path):
    from slicing.batch.io import StagedOutput, write_atomically

    output = tmp_path / "out.parquet"
    staged = StagedOutput(
        output,
        {"input": "x", "sfs": ["a"], "partitions": 1},
        overwrite=False,
        resume=False,
    )
    write_atomically(staged.partition_path(0), lambda p: p.write_bytes(b"data"))
    (staged.partial / ".part.00001.parquet.tmp-dead").write_bytes(
        b"half"
    )  # a killed write
    staged.commit()
    assert sorted(p.name for p in output.iterdir()) == ["part.00000.parquet"]
    assert (output / "part.00000.parquet").read_bytes() == b"data"
