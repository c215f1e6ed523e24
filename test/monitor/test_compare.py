import numpy as np
import pandas as pd
import pytest

from slicing.matrix import make_slice_matrix
from slicing.monitor.compare import compare_slice_scores
from slicing.monitor.scores import slice_scores


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    n_rows = 1000
    golds = rng.integers(0, 2, n_rows)
    indicators = np.column_stack(
        [rng.random(n_rows) < 0.3, rng.random(n_rows) < 0.5, rng.random(n_rows) < 0.01]
    )
    S = make_slice_matrix(indicators, ["hard", "half", "tiny"])
    vanilla_right = rng.random(n_rows) < np.where(indicators[:, 0], 0.6, 0.9)
    aware_right = rng.random(n_rows) < 0.9
    vanilla = np.where(vanilla_right, golds, 1 - golds)
    aware = np.where(aware_right, golds, 1 - golds)
    return golds, S, vanilla, aware


def test_clear_improvement_has_disjoint_intervals(data):
    golds, S, vanilla, aware = data
    comparison = compare_slice_scores(
        slice_scores(golds, S, preds=vanilla),
        slice_scores(golds, S, preds=aware),
        labels=("vanilla", "aware"),
    )
    assert list(comparison.columns) == [
        "n",
        "vanilla",
        "vanilla_low",
        "vanilla_high",
        "aware",
        "aware_low",
        "aware_high",
        "diff",
        "intervals_overlap",
        "change",
    ]
    assert comparison.at["hard", "diff"] == pytest.approx(
        comparison.at["hard", "aware"] - comparison.at["hard", "vanilla"]
    )
    assert comparison.at["hard", "intervals_overlap"] == False  # noqa: E712
    assert comparison.at["hard", "change"] == "better"
    assert comparison.at["tiny", "change"] == "too small"
    assert comparison.attrs == {"metric": "accuracy", "labels": ("vanilla", "aware")}


def test_same_model_overlaps_everywhere_with_zero_difference(data):
    golds, S, vanilla, _ = data
    table = slice_scores(golds, S, preds=vanilla)
    comparison = compare_slice_scores(table, table)
    assert (comparison["diff"] == 0).all()
    assert comparison.loc[["overall", "hard", "half"], "intervals_overlap"].all()
    assert set(comparison.loc[["overall", "hard", "half"], "change"]) == {"unclear"}


def test_rows_follow_the_baseline_order_even_if_candidate_is_sorted_differently(data):
    golds, S, vanilla, aware = data
    baseline = slice_scores(golds, S, preds=vanilla, sort=False)
    candidate = slice_scores(golds, S, preds=aware)
    comparison = compare_slice_scores(baseline, candidate)
    assert comparison.index.tolist() == baseline.index.tolist()
    assert comparison.at["hard", "candidate"] == candidate.at["hard", "accuracy"]


def test_without_intervals_overlap_is_unknown(data):
    golds, S, vanilla, aware = data
    comparison = compare_slice_scores(
        slice_scores(golds, S, preds=vanilla, ci=None),
        slice_scores(golds, S, preds=aware, ci=None),
    )
    assert comparison["intervals_overlap"].isna().all()
    assert "baseline_low" not in comparison
    assert comparison.at["hard", "change"] == "unclear"


def test_mismatches_are_reported(data):
    golds, S, vanilla, aware = data
    table = slice_scores(golds, S, preds=vanilla, metrics=["accuracy", "f1"])
    fewer = table.drop(index="tiny")
    with pytest.raises(
        ValueError, match=r"only in baseline: \['tiny'\], only in candidate: \[\]"
    ):
        compare_slice_scores(table, fewer)
    with pytest.raises(
        ValueError, match="metric 'roc_auc' is not in the baseline table"
    ):
        compare_slice_scores(table, table, metric="roc_auc")
    assert compare_slice_scores(table, table, metric="f1").attrs["metric"] == "f1"
    with pytest.raises(ValueError, match="labels must differ"):
        compare_slice_scores(table, table, labels=("a", "a"))
    other_rows = slice_scores(golds[:500], S[:500], preds=vanilla[:500])
    with pytest.warns(UserWarning, match="different sizes"):
        compare_slice_scores(table, other_rows)


def test_comparison_is_a_dataframe_indexed_by_slice(data):
    golds, S, vanilla, aware = data
    comparison = compare_slice_scores(
        slice_scores(golds, S, preds=vanilla), slice_scores(golds, S, preds=aware)
    )
    assert isinstance(comparison, pd.DataFrame)
    assert comparison.index.name == "slice"
