"""The ``slicing report`` command: per-slice metrics from Parquet with Dask."""

import re

import numpy as np
import pandas as pd
import pytest

from slicing.cli import main
from slicing.matrix import make_slice_matrix
from slicing.monitor.scores import slice_scores


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
