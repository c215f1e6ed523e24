"""Tests of slicing/monitor/gates.py and its helpers (rules, stats, verdict, Dask, tables)."""

import json

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from slicing.matrix import make_slice_matrix
from slicing.monitor.gate_dask import dask_gate_slices
from slicing.monitor.gate_result import EXIT_CODES
from slicing.monitor.gate_rules import GateRules, MetricRule
from slicing.monitor.gate_stats import adjust_p_values, paired_drop_test
from slicing.monitor.gate_tables import gate_slice_tables
from slicing.monitor.gate_toml import load_gate_rules
from slicing.monitor.gates import gate_from_counts, gate_slices


def _data(n=6000, seed=0, sizes=(0.3, 0.05), accuracy=0.85):
    rng = np.random.default_rng(seed)
    golds = rng.integers(0, 2, n)
    S = make_slice_matrix(
        rng.random((n, len(sizes))) < np.array(sizes),
        [f"s{i}" for i in range(len(sizes))],
    )
    baseline = np.where(rng.random(n) < accuracy, golds, 1 - golds)
    return rng, golds, S, baseline


def _independent_copy(rng, golds, accuracy=0.85):
    return np.where(rng.random(golds.size) < accuracy, golds, 1 - golds)


def test_default_rules_write_a_verdict_for_unchanged_model():
    rng, golds, S, baseline = _data()
    result = gate_slices(golds, S, baseline=baseline, candidate=baseline)
    assert result.verdict == "pass" and result.exit_code == 0
    assert list(result.slices.index) == ["overall", "s0", "s1"]
    assert result.checks["check"].unique().tolist() == ["accuracy drop <= 0"]


def test_planted_drop_fails_only_its_slice():
    rng, golds, S, baseline = _data(n=20000)
    # Rows of s1 outside s0 only: a drop in the overlap would be a true drop of s0.
    hurt = S["s1"] & ~S["s0"] & (rng.random(golds.size) < 0.3)
    candidate = np.where(hurt, 1 - golds, baseline)
    result = gate_slices(golds, S, baseline=baseline, candidate=candidate)
    assert result.slices.at["s1", "status"] == "fail"
    assert result.slices.at["s0", "status"] != "fail"
    assert result.verdict == "fail" and result.exit_code == 1
    assert "broken by" in result.slices.at["s1", "reason"]


def test_too_small_slice_is_investigate_with_rows_needed():
    rng, golds, S, baseline = _data(sizes=(0.3, 0.004))
    candidate = _independent_copy(rng, golds)
    result = gate_slices(golds, S, baseline=baseline, candidate=candidate)
    row = result.slices.loc["s1"]
    assert row["status"] == "investigate" and row["n"] < 30
    assert row["rows_needed"] >= 30 and "min_support" in row["reason"]
    critical_only = GateRules(critical=["s0"])
    assert (
        gate_slices(
            golds, S, baseline=baseline, candidate=candidate, rules=critical_only
        ).slices.at["s1", "critical"]
        is np.False_
    )


def test_mcnemar_exact_p_value():
    # 15 losses, 3 wins: P(Bin(18, 0.5) >= 15)
    _, p, _ = paired_drop_test(np.array([[80, 15, 3, 2]]))
    assert p[0] == pytest.approx(
        sum(__import__("math").comb(18, k) for k in range(15, 19)) / 2**18
    )


def test_relative_drop_formula():
    # (baseline - candidate) / baseline: 0.8 -> 0.76 is a 5% relative drop.
    joint = np.zeros((1, 2, 2, 2), dtype=int)
    joint[0, 1, 1, 1] = 7600  # both right
    joint[0, 1, 1, 0] = 400  # baseline only
    joint[0, 0, 1, 1] = 2000  # both wrong
    loose = GateRules(metrics=[MetricRule("accuracy", max_relative_drop=0.06)])
    tight = GateRules(metrics=[MetricRule("accuracy", max_relative_drop=0.04)])
    excess_loose = gate_from_counts(joint, [], rules=loose).checks.at[0, "excess"]
    assert excess_loose == pytest.approx((1 - 0.06) * 0.8 - 0.76)
    assert gate_from_counts(joint, [], rules=loose).verdict == "pass"
    assert gate_from_counts(joint, [], rules=tight).verdict == "fail"


def test_floors_overall_per_slice_and_named():
    rng, golds, S, baseline = _data(n=20000)
    rules = load_gate_rules(
        "[metrics.accuracy]\nfloor = 0.8\n[overall.accuracy]\nfloor = 0.95\n"
        "[slices.s1.accuracy]\nfloor = 0.5\n"
    )
    result = gate_slices(golds, S, baseline=baseline, candidate=baseline, rules=rules)
    assert result.checks.set_index("slice")["check"].to_dict() == {
        "overall": "accuracy >= 0.95",
        "s0": "accuracy >= 0.8",
        "s1": "accuracy >= 0.5",
    }
    assert result.slices["status"].tolist() == ["fail", "pass", "pass"]


def test_probabilities_equal_class_predictions():
    rng, golds, S, baseline = _data()
    candidate = _independent_copy(rng, golds)
    probs = np.eye(2)[candidate] * 0.8 + 0.1
    rules = {"metrics": {"accuracy": {"max_drop": 0.0}, "f1": {"max_drop": 0.02}}}
    by_class = gate_slices(
        golds, S, baseline=baseline, candidate=candidate, rules=rules
    )
    by_prob = gate_slices(golds, S, baseline=baseline, candidate=probs, rules=rules)
    pd.testing.assert_frame_equal(by_class.checks, by_prob.checks)


def test_abstaining_labels_are_left_out():
    rng, golds, S, baseline = _data()
    golds_abstain = golds.copy()
    golds_abstain[:100] = -1
    with pytest.warns(UserWarning, match="without a gold label"):
        result = gate_slices(golds_abstain, S, baseline=baseline, candidate=baseline)
    assert result.slices.at["overall", "n"] == golds.size - 100


def test_empty_and_one_class_slices():
    n = 400
    golds = np.zeros(n, dtype=int)
    golds[::2] = 1
    S = make_slice_matrix(
        np.column_stack([np.zeros(n, bool), golds == 0]), ["empty", "negatives"]
    )
    rules = {"metrics": {"accuracy": {"max_drop": 0.0}, "f1": {"max_drop": 0.0}}}
    result = gate_slices(golds, S, baseline=golds, candidate=golds, rules=rules)
    assert result.slices.at["empty", "status"] == "investigate"
    assert "no rows" in result.slices.at["empty", "reason"]
    negatives = result.checks[result.checks["slice"] == "negatives"].set_index("metric")
    assert negatives.at["f1", "status"] == "investigate"
    assert "not tested" in negatives.at["f1", "note"]
    assert negatives.at["accuracy", "status"] == "pass"


def test_tables_with_a_slice_absent_from_one_model():
    index = pd.Index(["overall", "a"], name="slice")
    old = pd.DataFrame({"n": [3000, 500], "accuracy": [0.9, 0.9]}, index=index)
    new = pd.DataFrame(
        {"n": [3000, 400], "accuracy": [0.9, 0.9]},
        index=pd.Index(["overall", "b"], name="slice"),
    )
    result = gate_slice_tables(old, new)
    assert result.slices["status"].to_dict() == {
        "overall": "pass",
        "a": "investigate",
        "b": "investigate",
    }
    assert "absent from the candidate table" in result.slices.at["a", "reason"]
    assert "absent from the baseline table" in result.slices.at["b", "reason"]
    with pytest.raises(ValueError, match="accuracy and f1_micro only"):
        gate_slice_tables(old, new, rules={"metrics": {"f1": {"floor": 0.5}}})


def test_rules_errors_name_the_culprit(tmp_path):
    path = tmp_path / "gate.toml"
    path.write_text("[metrics.acc]\nfloor = 0.9\n")
    with pytest.raises(ValueError, match=r"gate.toml.*unknown metric 'acc'"):
        load_gate_rules(path)
    path.write_text("[metrics.accuracy]\nflor = 0.9\n")
    with pytest.raises(ValueError, match="unknown key 'flor'"):
        load_gate_rules(path)
    path.write_text("critical = ['nope']\n[slices.other.accuracy]\nfloor = 0.9\n")
    rules = load_gate_rules(path)
    rng, golds, S, baseline = _data()
    with pytest.raises(ValueError, match=r"\['other'\].*gate.toml"):
        gate_slices(golds, S, baseline=baseline, candidate=baseline, rules=rules)
    with pytest.raises(ValueError, match="sets no threshold"):
        MetricRule("accuracy")
    with pytest.raises(ValueError, match="correction"):
        GateRules(correction="bonferroni")


def test_holm_and_bh():
    p = np.array([0.001, 0.02, 0.03, 0.2])
    assert adjust_p_values(p, "holm").tolist() == pytest.approx(
        [0.004, 0.06, 0.06, 0.2]
    )
    assert adjust_p_values(p, "bh").tolist() == pytest.approx([0.004, 0.04, 0.04, 0.2])


def test_dask_path_equals_in_memory():
    rng, golds, S, baseline = _data()
    candidate = _independent_copy(rng, golds)
    frame = pd.DataFrame(
        {"gold": golds, "old": baseline, "p0": 1.0 - candidate, "p1": candidate * 1.0}
    )
    for name in S.dtype.names:
        frame[name] = S[name]
    rules = {
        "metrics": {"accuracy": {"max_drop": 0.0}, "f1": {"max_relative_drop": 0.05}}
    }
    on_dask = dask_gate_slices(
        dd.from_pandas(frame, npartitions=4),
        "gold",
        baseline="old",
        candidate=["p0", "p1"],
        rules=rules,
        scheduler="synchronous",
    )
    in_memory = gate_slices(
        golds, S, baseline=baseline, candidate=candidate, rules=rules
    )
    pd.testing.assert_frame_equal(on_dask.checks, in_memory.checks)
    with pytest.raises(KeyError, match="missing"):
        dask_gate_slices(
            dd.from_pandas(frame, npartitions=1),
            "gold",
            baseline="missing",
            candidate="old",
        )


def test_renderings(tmp_path):
    rng, golds, S, baseline = _data()
    candidate = np.where(S["s1"] & (rng.random(golds.size) < 0.3), 1 - golds, baseline)
    result = gate_slices(
        golds, S, baseline=baseline, candidate=candidate, labels=("old", "new")
    )
    payload = json.loads(result.to_json())
    assert payload["verdict"] == "fail" and payload["exit_code"] == EXIT_CODES["fail"]
    assert {row["slice"] for row in payload["slices"]} == {"overall", "s0", "s1"}
    markdown = result.to_markdown()
    assert "### Slice gate: FAIL" in markdown and "| `s1` |" in markdown
    figure = result.plot()
    figure.savefig(tmp_path / "gate.png")
    assert "Gate FAIL" in figure.axes[0].get_title()
