"""``slicing estimate`` and :func:`slicing.batch.estimate.run_estimate_job`."""

import json

import pandas as pd
import pytest

from slicing.batch.errors import BatchInputError
from slicing.batch.estimate import run_estimate_job
from slicing.cli import main
from test.estimate.synthetic import shifted_pair


@pytest.fixture
def files(tmp_path):
    data = shifted_pair(0, 600, 3000)
    source = data["source"].copy()
    source["correct"] = data["correct"]
    source["label"] = 1
    source["pred"] = data["correct"].astype(int)
    source.to_parquet(tmp_path / "source.parquet")
    data["target"].to_parquet(tmp_path / "target.parquet")
    return tmp_path


def test_the_command_writes_every_file_and_matches_the_api(files, capsys):
    out = files / "estimate"
    status = main(
        [
            "estimate",
            "--source",
            str(files / "source.parquet"),
            "--target",
            str(files / "target.parquet"),
            "--correct-column",
            "correct",
            "--out",
            str(out),
            "--n-resamples",
            "100",
            "--pairs",
            "sf0:sf1",
        ]
    )
    assert status == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "estimate.csv",
        "estimate.json",
        "estimate.md",
        "estimate.png",
    ]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    table = pd.read_csv(out / "estimate.csv", index_col=0)
    summary = json.loads((out / "estimate.json").read_text())
    assert summary["target_rows"] == 3000 and summary["max_rate_gap"] < 1e-4
    assert "target accuracy" in capsys.readouterr().out
    via_labels = run_estimate_job(
        str(files / "source.parquet"),
        str(files / "target.parquet"),
        str(files / "b"),
        label_column="label",
        pred_column="pred",
        sf_columns=[f"sf{j}" for j in range(6)],
        pairs="sf0:sf1",
        n_resamples=100,
    )
    assert via_labels.table.loc["overall", "accuracy"] == pytest.approx(
        table.loc["overall", "accuracy"]
    )


@pytest.mark.parametrize(
    "change, message",
    [
        (["--correct-column", "nope"], "lacks the columns ['nope']"),
        (["--correct-column", "correct", "--pairs", "sf0"], "--pairs takes SF pairs"),
        (
            ["--correct-column", "correct", "--sf-columns", "sf0,zz"],
            "lacks the SF columns ['zz']",
        ),
        ([], "pass the source outcomes"),
    ],
)
def test_bad_input_exits_2_with_one_line(files, capsys, change, message):
    status = main(
        [
            "estimate",
            "--source",
            str(files / "source.parquet"),
            "--target",
            str(files / "target.parquet"),
            "--out",
            str(files / "out"),
            *change,
        ]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert message in err and err.count("\n") == 1


def test_mismatched_sf_columns_and_an_existing_output_are_refused(files):
    target = pd.read_parquet(files / "target.parquet").rename(columns={"sf0": "other"})
    target.to_parquet(files / "renamed.parquet")
    with pytest.raises(BatchInputError, match=r"not in the source \['other'\]"):
        run_estimate_job(
            str(files / "source.parquet"),
            str(files / "renamed.parquet"),
            str(files / "x"),
            correct_column="correct",
        )
    run_estimate_job(
        str(files / "source.parquet"),
        str(files / "target.parquet"),
        str(files / "y"),
        correct_column="correct",
        n_resamples=10,
    )
    with pytest.raises(BatchInputError, match="already exists"):
        run_estimate_job(
            str(files / "source.parquet"),
            str(files / "target.parquet"),
            str(files / "y"),
            correct_column="correct",
        )
