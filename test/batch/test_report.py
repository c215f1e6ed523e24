"""The ``slicing report`` command: per-slice metrics from Parquet with Dask."""

import json
import re

import numpy as np
import pandas as pd
import pytest

from slicing.cli import main
from slicing.matrix import make_slice_matrix
from slicing.monitor.scores import slice_scores
from test.batch.conftest import one_line_error, run_slicing


@pytest.fixture
def logs(tmp_path, dataset, sf_module):
    """A prediction log (the apply input plus predictions) and its slice matrix."""
    directory, frame = dataset
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, size=len(frame))
    preds = np.where(rng.random(len(frame)) < 0.8, labels, 1 - labels)
    predictions = tmp_path / "predictions"
    predictions.mkdir()
    for part in range(4):
        rows = slice(part * 30, (part + 1) * 30)
        chunk = frame.iloc[rows].assign(label=labels[rows], pred=preds[rows])
        chunk.to_parquet(predictions / f"part{part}.parquet")
    slices = tmp_path / "slices.parquet"
    assert (
        main(
            [
                "apply",
                "--sfs",
                f"{sf_module}:SFS",
                "--input",
                str(predictions),
                "--output",
                str(slices),
                "--scheduler",
                "threads",
                "--no-progress",
                "--id-column",
                "comment_id",
            ]
        )
        == 0
    )
    return predictions, slices, frame.assign(label=labels, pred=preds)


def repartitioned(frame: pd.DataFrame, sizes: list[int], directory) -> str:
    """Write ``frame`` as Parquet files of ``sizes`` rows, in order."""
    directory.mkdir()
    starts = np.cumsum([0, *sizes])
    for part, (start, stop) in enumerate(zip(starts[:-1], starts[1:])):
        frame.iloc[start:stop].to_parquet(directory / f"part{part}.parquet")
    return str(directory)


@pytest.mark.parametrize(
    "layout",
    [None, [120], [50, 20, 50], [10, 0, 110]],
    ids=["as-sliced", "one-file", "uneven", "empty-part"],
)
def test_report_equals_the_in_memory_scores(logs, tmp_path, capsys, layout):
    # Rows are matched by position whatever the prediction log's partitioning; the
    # labels and predictions are random, so a misaligned row changes the scores.
    predictions, slices, frame = logs
    if layout is not None:
        predictions = repartitioned(frame, layout, tmp_path / "relaid")
    out = tmp_path / "report"
    assert (
        main(
            [
                "report",
                "--slices",
                str(slices),
                "--predictions",
                str(predictions),
                "--pred-column",
                "pred",
                "--metrics",
                "accuracy,f1",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    written = pd.read_csv(out / "slice_scores.csv", index_col=0)
    S = make_slice_matrix(
        np.column_stack([frame.text.str.split().str.len() < 3, frame.score > 0.5]),
        ["short_comment", "high_score"],
    )
    expected = slice_scores(
        frame.label.to_numpy(),
        S,
        preds=frame.pred.to_numpy(),
        metrics=["accuracy", "f1"],
    )
    for column in ("n", "accuracy", "accuracy_low", "accuracy_high", "f1"):
        np.testing.assert_allclose(
            written.loc[expected.index, column], expected[column], rtol=1e-9
        )
    assert (out / "slice_scores.md").read_text().startswith("| slice | n |")
    png = (out / "slice_scores.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert "report written to" in capsys.readouterr().out


def test_report_joins_on_an_id_column(logs, tmp_path):
    predictions, slices, frame = logs
    shuffled = tmp_path / "shuffled.parquet"
    frame.sample(frac=1, random_state=0).to_parquet(shuffled)
    out = tmp_path / "report"
    assert (
        main(
            [
                "report",
                "--slices",
                str(slices),
                "--predictions",
                str(shuffled),
                "--pred-column",
                "pred",
                "--id-column",
                "comment_id",
                "--metrics",
                "accuracy",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    written = pd.read_csv(out / "slice_scores.csv", index_col=0)
    assert written.loc["overall", "n"] == 120
    assert written.loc["high_score", "n"] == int((frame.score > 0.5).sum())


def test_report_bad_inputs(logs, tmp_path, capsys):
    predictions, slices, frame = logs
    shorter = tmp_path / "shorter.parquet"
    frame.iloc[:100].to_parquet(shorter)
    cases = [
        (
            ["--predictions", str(shorter), "--pred-column", "pred"],
            "the slices have 120 rows and the predictions 100: they cannot be "
            "matched row by row; pass --id-column",
        ),
        (
            ["--predictions", str(predictions), "--pred-column", "nope"],
            r"lack the columns \['nope'\]",
        ),
        (
            ["--predictions", str(predictions)],
            "pass --pred-column, --prob-columns or both",
        ),
        (["--predictions", str(tmp_path / "missing")], "does not exist"),
    ]
    for extra, message in cases:
        code = main(
            ["report", "--slices", str(slices), *extra, "--out", str(tmp_path / "r")]
        )
        err = capsys.readouterr().err
        assert code == 2 and re.search(message, err), (message, err)
        assert "Traceback" not in err


def id_report_args(slices, predictions, out, *extra):
    return [
        "report",
        "--slices",
        slices,
        "--predictions",
        predictions,
        "--pred-column",
        "pred",
        "--id-column",
        "comment_id",
        "--metrics",
        "accuracy",
        "--out",
        out,
        *extra,
    ]


def test_id_join_refuses_unmatched_ids_unless_allowed_and_counts_them(logs, tmp_path):
    """Before: exit 0; the inner join dropped 40 rows silently (n=110 of 150)."""
    _, slices, frame = logs
    strangers = frame.iloc[:30].assign(comment_id=frame.comment_id.iloc[:30] + 10_000)
    predictions = tmp_path / "preds.parquet"
    pd.concat([frame.iloc[10:], strangers]).to_parquet(predictions)
    out = tmp_path / "report"
    refused = run_slicing(*id_report_args(slices, predictions, out))
    assert refused.returncode == 2
    err = one_line_error(refused)
    assert (
        "30 prediction rows have no slice row and 10 slice rows have no prediction"
        in err
    )
    assert "--allow-unmatched" in err and not out.exists()
    allowed = run_slicing(
        *id_report_args(slices, predictions, out, "--allow-unmatched")
    )
    assert allowed.returncode == 0, allowed.stderr
    assert (
        "110 rows matched; left out: 30 prediction rows without a slice row, "
        "10 slice rows without a prediction" in allowed.stdout
    )
    written = pd.read_csv(out / "slice_scores.csv", index_col=0)
    assert written.loc["overall", "n"] == 110
    report = json.loads((out / "report.json").read_text())
    assert report["id_join"]["predictions_unmatched"] == 30
    assert report["id_join"]["slices_unmatched"] == 10
    assert "left out" in (out / "slice_scores.md").read_text()


def test_id_join_refuses_duplicated_ids(logs, tmp_path):
    """Before: exit 0 with every duplicated row counted twice (n=140 for 120 rows)."""
    _, slices, frame = logs
    predictions = tmp_path / "preds.parquet"
    pd.concat([frame, frame.iloc[:20]]).to_parquet(predictions)
    result = run_slicing(*id_report_args(slices, predictions, tmp_path / "r"))
    assert result.returncode == 2
    err = one_line_error(result)
    assert "ids in 'comment_id' repeat (40 prediction rows and 0 slice rows" in err
    assert "e.g. 1000" in err


def test_report_refuses_to_overwrite_a_report_without_overwrite(logs, tmp_path):
    """Before: an existing report was replaced silently."""
    predictions, slices, _ = logs
    out = tmp_path / "report"
    args = id_report_args(slices, predictions, out)
    assert main([str(a) for a in args]) == 0
    (out / "slice_scores.csv").write_text("mine")
    again = run_slicing(*args)
    assert again.returncode == 2
    assert "a report already exists in" in one_line_error(again)
    assert (out / "slice_scores.csv").read_text() == "mine"
    assert run_slicing(*args, "--overwrite").returncode == 0
    assert (out / "slice_scores.csv").read_text() != "mine"


def test_run_report_job_is_a_plain_python_function(logs, tmp_path):
    from slicing.batch.report import run_report_job

    predictions, slices, frame = logs
    table = run_report_job(
        str(slices),
        str(predictions),
        str(tmp_path / "r"),
        pred_column="pred",
        metrics=["accuracy"],
        id_column="comment_id",
    )
    assert table.loc["overall", "n"] == 120
    assert table.attrs["id_join"]["matched"] == 120
