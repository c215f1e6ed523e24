"""The ``slicing`` command line (``slicing/cli/``): options, printing, exit codes.

Run in process through ``main`` (threads scheduler); the batch jobs' guarantees are
tested through the real command in ``test/batch``.
"""

import json
import re
import subprocess
import sys

import pandas as pd

from slicing.cli import main
from test.batch import conftest as batch_fixtures
from test.batch.conftest import apply_args, expected_slices, read_output

dataset = batch_fixtures.dataset
sf_module = batch_fixtures.sf_module


def test_apply_writes_aligned_slices_with_ids_and_a_summary(
    dataset, sf_module, tmp_path, capsys
):
    directory, frame = dataset
    output = tmp_path / "slices.parquet"
    assert (
        main(
            apply_args(
                directory, output, f"{sf_module}:SFS", "--id-column", "comment_id"
            )
        )
        == 0
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
    assert main(apply_args(tmp_path / "*.csv", output, f"{sf_module}:SFS")) == 0
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
            apply_args(tmp_path / "nope.parquet", tmp_path / "o1", f"{sf_module}:SFS"),
            "does not exist",
        ),
        (
            apply_args(garbage, tmp_path / "o2", f"{sf_module}:SFS"),
            "garbage.parquet' is not a readable Parquet file",
        ),
        (
            apply_args(directory, taken, f"{sf_module}:SFS"),
            "already exists; pass --overwrite",
        ),
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
            "SF 'has_title' reads column 'title', which the input lacks",
        ),
        (
            apply_args(
                directory, tmp_path / "o4", f"{sf_module}:SFS", "--id-column", "nope"
            ),
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
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1
        assert re.search(message, err), (message, err)


def test_overwrite_replaces_a_previous_output_only(
    dataset, sf_module, tmp_path, capsys
):
    directory, frame = dataset
    output = tmp_path / "out.parquet"
    assert main(apply_args(directory, output, f"{sf_module}:short_comment")) == 0
    assert main(apply_args(directory, output, f"{sf_module}:SFS", "--overwrite")) == 0
    pd.testing.assert_frame_equal(
        read_output(output), expected_slices(frame, sf_module)
    )
    assert sorted(
        p.name for p in output.iterdir() if not p.name.startswith("part")
    ) == [
        "_manifest.json",
        "_summary.json",
    ]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    capsys.readouterr()
    other = tmp_path / "not_ours"
    other.mkdir()
    (other / "notes.txt").write_text("precious")
    assert main(apply_args(directory, other, f"{sf_module}:SFS", "--overwrite")) == 2
    assert "is not the output of a 'slicing apply' run" in capsys.readouterr().err
    assert (other / "notes.txt").read_text() == "precious"


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


def test_resume_refuses_a_different_job(dataset, sf_module, tmp_path, capsys):
    directory, _ = dataset
    partial = tmp_path / ".out.parquet.partial"
    partial.mkdir()
    (partial / "_manifest.json").write_text(
        json.dumps({"input": "elsewhere", "sfs": [], "partitions": 1})
    )
    assert (
        main(
            apply_args(
                directory, tmp_path / "out.parquet", f"{sf_module}:SFS", "--resume"
            )
        )
        == 2
    )
    assert "different job" in capsys.readouterr().err


def test_partition_size_controls_the_number_of_partitions(dataset, sf_module, tmp_path):
    _, frame = dataset
    frame.to_csv(tmp_path / "all.csv", index=False)
    small = tmp_path / "small.parquet"
    assert (
        main(
            apply_args(
                tmp_path / "all.csv",
                small,
                f"{sf_module}:SFS",
                "--partition-size",
                "1KB",
            )
        )
        == 0
    )
    summary = json.loads((tmp_path / "small.parquet.summary.json").read_text())
    assert summary["partitions"] > 1
    assert len(list(small.glob("part.*.parquet"))) == summary["partitions"]
    pd.testing.assert_frame_equal(read_output(small), expected_slices(frame, sf_module))


def test_report_help_and_every_command_documents_the_exit_status():
    for command in ("apply", "report"):
        result = subprocess.run(
            [sys.executable, "-m", "slicing.cli", command, "--help"],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0
        assert "exit status: 0 done, 1 an SF failed, 2 bad input" in result.stdout
        assert "4 the output could not be written" in result.stdout
    for option in ("--id-column", "--allow-unmatched", "--overwrite", "--scheduler"):
        assert option in result.stdout


def test_errors_map_to_exit_statuses(monkeypatch, capsys):
    import slicing.cli as cli
    from slicing.batch.errors import BatchInputError, BatchOutputError
    from slicing.errors import SFApplicationError

    for error, status in [
        (BatchInputError("bad"), 2),
        (BatchOutputError("full"), 4),
        (SFApplicationError("sf"), 1),
        (KeyboardInterrupt(), 130),
    ]:

        def fail(args, error=error):
            raise error

        parser = cli.build_parser()
        monkeypatch.setattr(cli, "build_parser", lambda parser=parser: parser)
        parser._subparsers._group_actions[0].choices["report"].set_defaults(
            handler=fail
        )
        code = main(["report", "--slices", "s", "--predictions", "p", "--out", "o"])
        assert code == status
        err = capsys.readouterr().err
        assert err.startswith("slicing report: ") and "Traceback" not in err
