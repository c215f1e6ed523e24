import numpy as np
import pytest

from slicing.intervals import wilson_interval
from slicing.monitor.counts import MetricEstimate
from slicing.monitor.metrics import COUNT_METRICS
from slicing.monitor.options import ScoreOptions
from slicing.monitor.table import (
    STATUS_ORDER,
    assemble_score_table,
    format_slice_scores,
    table_from_counts,
)


def _estimate(values, low, high, notes=None):
    values = np.array(values, dtype=float)
    return MetricEstimate(
        values, np.array(low, float), np.array(high, float), notes or [""] * len(values)
    )


def _table(sort=True):
    names = ["worse_one", "fine", "better_one", "small", "empty", "undefined"]
    support = np.array([1000, 100, 100, 100, 5, 0, 100])
    accuracy = _estimate(
        [0.80, 0.60, 0.78, 0.95, 0.2, np.nan, np.nan],
        [0.78, 0.50, 0.70, 0.90, 0.05, np.nan, np.nan],
        [0.82, 0.70, 0.86, 0.99, 0.6, np.nan, np.nan],
        ["", "", "", "", "", "accuracy: no rows", "accuracy: undefined"],
    )
    return assemble_score_table(
        names,
        support,
        {"accuracy": accuracy},
        min_support=30,
        sort=sort,
        confidence=0.95,
    )


def test_status_follows_support_and_interval_against_overall():
    table = _table(sort=False)
    assert table["status"].to_dict() == {
        "overall": "overall",
        "worse_one": "worse",
        "fine": "ok",
        "better_one": "better",
        "small": "too small",
        "empty": "empty",
        "undefined": "undefined",
    }
    assert table.at["empty", "note"] == "no rows"
    assert table.at["undefined", "note"] == "accuracy: undefined"
    assert table.attrs == {
        "min_support": 30,
        "metrics": ["accuracy"],
        "confidence": 0.95,
    }


def test_sorted_table_puts_overall_first_then_worst():
    table = _table()
    assert table.index.tolist() == [
        "overall",
        "worse_one",
        "fine",
        "better_one",
        "undefined",
        "small",
        "empty",
    ]
    ranks = [STATUS_ORDER.index(status) for status in table["status"]]
    assert ranks == sorted(ranks)


def test_share_and_diff_are_relative_to_overall():
    table = _table()
    assert table.at["fine", "share"] == pytest.approx(0.1)
    assert table.at["worse_one", "accuracy_diff"] == pytest.approx(-0.2)
    assert table.at["overall", "accuracy_diff"] == 0.0


def test_format_shows_value_with_interval_and_dashes_for_missing():
    text = format_slice_scores(_table())
    lines = text.splitlines()
    assert lines[0].split() == ["n", "share", "accuracy", "diff", "status", "note"]
    worse_line = next(line for line in lines if line.startswith("worse_one"))
    assert "0.600 [0.500, 0.700]" in worse_line and "-0.200" in worse_line
    empty_line = next(line for line in lines if line.startswith("empty"))
    assert " - " in empty_line and "no rows" in empty_line


def test_format_needs_metrics():
    table = _table()
    table.attrs.clear()
    with pytest.raises(ValueError, match="names no metrics"):
        format_slice_scores(table)
    assert "accuracy" in format_slice_scores(table, metrics=["accuracy"])


# table_from_counts: the kernel every scoring path ends in.

COUNTS = np.array(
    [
        [[400, 100], [50, 450]],  # overall: 1000 rows, accuracy 0.85
        [[30, 40], [20, 10]],  # weak: 100 rows, accuracy 0.40
        [[5, 0], [0, 5]],  # tiny: 10 rows
        [[0, 0], [0, 0]],  # empty
    ]
)
NAMES = ["weak", "tiny", "empty"]


def test_kernel_values_equal_the_metric_formulas_on_each_row():
    table = table_from_counts(
        COUNTS, NAMES, ScoreOptions(metrics=["accuracy", "f1"], sort=False)
    )
    assert table.index.tolist() == ["overall", *NAMES]
    assert table["n"].tolist() == [1000, 100, 10, 0]
    assert table["accuracy"].tolist()[:3] == pytest.approx([0.85, 0.4, 1.0])
    # f1 = 2 tp / (2 tp + fp + fn), positive class 1
    assert table.at["weak", "f1"] == pytest.approx(20 / (20 + 40 + 20))
    low, high = wilson_interval(np.array([40]), np.array([100]))
    assert table.at["weak", "accuracy_low"] == pytest.approx(low[0])
    assert table.at["weak", "accuracy_high"] == pytest.approx(high[0])
    assert table["status"].tolist() == ["overall", "worse", "too small", "empty"]
    assert table.attrs["metrics"] == ["accuracy", "f1"]


def test_kernel_follows_every_option():
    options = ScoreOptions(metrics="f1", ci=None, min_support=5, sort=True)
    table = table_from_counts(COUNTS, NAMES, options)
    assert "f1_low" not in table and table.attrs["confidence"] is None
    assert table.at["tiny", "status"] == "ok"  # 10 rows >= min_support 5
    seeded = ScoreOptions(metrics="matthews_corrcoef", n_resamples=200, seed=1)
    first = table_from_counts(COUNTS, NAMES, seeded)
    again = table_from_counts(COUNTS, NAMES, seeded)
    other = table_from_counts(COUNTS, NAMES, ScoreOptions.of(seeded, seed=2))
    assert first.equals(again) and not first.equals(other)


def test_kernel_takes_row_estimates_and_refuses_row_metrics_without_them():
    def error_rate(golds, preds, probs):
        return float(np.mean(golds != preds))

    options = ScoreOptions(metrics=[error_rate, "accuracy"], ci=None)
    with pytest.raises(ValueError, match=r"\['error_rate'\] need the rows"):
        table_from_counts(COUNTS, NAMES, options)
    estimate = MetricEstimate(np.array([0.15, 0.6, 0.0, np.nan]), None, None, [""] * 4)
    table = table_from_counts(COUNTS, NAMES, options, {"error_rate": estimate})
    assert list(table.columns[:4]) == ["n", "share", "error_rate", "error_rate_diff"]
    assert table.at["weak", "error_rate"] == 0.6


def test_kernel_rejects_counts_of_the_wrong_shape_and_binary_metrics_on_three_classes():
    with pytest.raises(ValueError, match=r"k = 2 slices; got shape \(4, 2, 2\)"):
        table_from_counts(COUNTS, NAMES[:2])
    three = np.ones((4, 3, 3), dtype=np.int64)
    with pytest.raises(ValueError, match="binary labels only; got 3 classes"):
        table_from_counts(three, NAMES, ScoreOptions(metrics="precision"))
    macro = table_from_counts(three, NAMES, ScoreOptions(metrics="f1_macro"))
    assert macro.at["overall", "f1_macro"] == pytest.approx(
        float(COUNT_METRICS["f1_macro"].from_counts(three[:1].astype(float))[0])
    )
