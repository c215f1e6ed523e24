"""Tests of ``slicing gate`` (slicing/cli/) and its job (slicing/batch/gate.py)."""

import json

import numpy as np
import pandas as pd
import pytest

from slicing.batch.gate import GATE_FILES, run_gate_job
from slicing.cli import main


@pytest.fixture
def log(tmp_path):
    """A prediction log: the candidate breaks 40% of slice 'bad' (and nothing else)."""
    rng = np.random.default_rng(0)
    n = 6000
    golds = rng.integers(0, 2, n)
    good = rng.random(n) < 0.3
    bad = ~good & (rng.random(n) < 0.1)
    tiny = ~good & ~bad & (rng.random(n) < 0.002)
    old = np.where(rng.random(n) < 0.9, golds, 1 - golds)
    new = np.where(bad & (rng.random(n) < 0.4), 1 - golds, old)
    frame = pd.DataFrame(
        {"label": golds, "old": old, "new": new, "good": good, "bad": bad, "tiny": tiny}
    )
    directory = tmp_path / "log"
    directory.mkdir()
    frame.iloc[:3000].to_parquet(directory / "a.parquet")
    frame.iloc[3000:].to_parquet(directory / "b.parquet")
    return directory


def _gate(log, out, *extra):
    return main(
        [
            "gate",
            "--predictions",
            str(log),
            "--baseline",
            "old",
            "--out",
            str(out),
            *extra,
        ]
    )


def test_exit_codes_fail_investigate_pass(log, tmp_path, capsys):
    assert _gate(log, tmp_path / "f", "--candidate", "new") == 1
    printed = capsys.readouterr().out
    assert "gate FAIL" in printed and "bad" in printed
    for name in GATE_FILES:
        assert (tmp_path / "f" / name).exists()
    report = json.loads((tmp_path / "f" / "gate.json").read_text())
    assert report["exit_code"] == 1 and report["verdict"] == "fail"
    # Unchanged model: 'tiny' (about 6 rows) cannot be told -> investigate.
    assert _gate(log, tmp_path / "i", "--candidate", "old") == 3
    # ... unless it is not critical.
    rules = tmp_path / "rules.toml"
    rules.write_text('critical = ["good", "bad"]\n')
    assert _gate(log, tmp_path / "p", "--candidate", "old", "--rules", str(rules)) == 0


def test_bad_input_exits_2_with_one_line(log, tmp_path, capsys):
    rules = tmp_path / "rules.toml"
    rules.write_text("[metrics.acuracy]\nfloor = 0.9\n")
    assert _gate(log, tmp_path / "o", "--candidate", "new", "--rules", str(rules)) == 2
    error = capsys.readouterr().err.strip()
    assert "unknown metric 'acuracy'" in error and "\n" not in error
    rules.write_text("[slices.nope.accuracy]\nfloor = 0.9\n")
    assert _gate(log, tmp_path / "o", "--candidate", "new", "--rules", str(rules)) == 2
    assert "['nope']" in capsys.readouterr().err
    assert _gate(log, tmp_path / "o", "--candidate", "missing") == 2
    assert "missing" in capsys.readouterr().err
    assert _gate(log, tmp_path / "f", "--candidate", "new") == 1
    assert _gate(log, tmp_path / "f", "--candidate", "new") == 2  # exists
    assert "--overwrite" in capsys.readouterr().err


def test_job_from_python_with_probability_columns(log, tmp_path):
    frame = pd.read_parquet(log)
    frame["p0"], frame["p1"] = 1.0 - frame["new"], frame["new"] * 1.0
    path = tmp_path / "probs.parquet"
    frame.to_parquet(path)
    by_probs = run_gate_job(
        str(path),
        str(tmp_path / "a"),
        baseline="old",
        candidate=["p0", "p1"],
        slice_columns=["good", "bad", "tiny"],
    )
    by_class = run_gate_job(
        str(path),
        str(tmp_path / "b"),
        baseline="old",
        candidate="new",
        slice_columns=["good", "bad", "tiny"],
    )
    pd.testing.assert_frame_equal(by_probs.checks, by_class.checks)
