import numpy as np
import pytest

from slicing.monitor.counts import MetricEstimate
from slicing.monitor.table import (
    STATUS_ORDER,
    assemble_score_table,
    format_slice_scores,
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
