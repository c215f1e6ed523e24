import numpy as np
import pandas as pd
import pytest

from slicing.matrix import make_slice_matrix
from slicing.monitor.compare import compare_models, compare_slice_scores
from slicing.monitor.options import ScoreOptions
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


# compare_models: paired comparisons of two models on the same rows.


def _two_models(n_rows=800, n_classes=2, seed=0):
    rng = np.random.default_rng(seed)
    golds = rng.integers(0, n_classes, n_rows)
    S = make_slice_matrix(
        rng.random((n_rows, 3)) < [0.5, 0.2, 0.01], ["half", "fifth", "tiny"]
    )
    baseline = np.where(rng.random(n_rows) < 0.8, golds, (golds + 1) % n_classes)
    fixes = S["fifth"] & (rng.random(n_rows) < 0.6)
    candidate = np.where(fixes, golds, baseline)
    return golds, S, baseline, candidate


def test_each_model_column_equals_its_own_slice_scores():
    golds, S, baseline, candidate = _two_models()
    table = compare_models(
        golds, S, baseline, candidate, metric="f1", labels=("old", "new")
    )
    for label, preds in (("old", baseline), ("new", candidate)):
        alone = slice_scores(golds, S, preds=preds, metrics="f1", sort=False)
        for column in ("", "_low", "_high"):
            np.testing.assert_allclose(table[label + column], alone["f1" + column])
    assert table["diff"].to_numpy() == pytest.approx(
        (table["new"] - table["old"]).to_numpy()
    )
    assert table.index.tolist() == ["overall", "half", "fifth", "tiny"]


def test_paired_interval_matches_resampling_rows_and_beats_overlap():
    golds, S, baseline, candidate = _two_models(n_rows=600, seed=1)
    table = compare_models(golds, S, baseline, candidate, n_resamples=2000, seed=3)
    rows = np.flatnonzero(S["fifth"])
    rng = np.random.default_rng(9)
    picks = rows[rng.integers(0, rows.size, size=(2000, rows.size))]
    differences = (candidate[picks] == golds[picks]).mean(1) - (
        baseline[picks] == golds[picks]
    ).mean(1)
    low, high = np.quantile(differences, [0.025, 0.975])
    assert table.at["fifth", "diff_low"] == pytest.approx(low, abs=0.015)
    assert table.at["fifth", "diff_high"] == pytest.approx(high, abs=0.015)
    assert table.at["fifth", "change"] == "better"
    assert table.at["tiny", "change"] == "too small"


def test_identical_models_have_a_zero_difference_and_no_verdict():
    golds, S, baseline, _ = _two_models(n_rows=300)
    table = compare_models(golds, S, baseline, baseline.copy())
    assert (table["diff"] == 0).all()
    assert (table[["diff_low", "diff_high"]].to_numpy() == 0).all()
    assert set(table["change"]) == {"unclear", "too small"}


def test_a_row_missing_either_prediction_is_left_out_for_both():
    golds, S, baseline, candidate = _two_models(n_rows=200)
    with_gaps = candidate.astype(float)
    with_gaps[[0, 7]] = np.nan
    baseline_gaps = baseline.copy()
    baseline_gaps[3] = -1
    with pytest.warns(UserWarning, match=r"3 without a prediction .*rows 0, 3, 7"):
        table = compare_models(golds, S, baseline_gaps, with_gaps)
    keep = np.ones(200, dtype=bool)
    keep[[0, 3, 7]] = False
    assert table.at["overall", "n"] == 197
    assert table.at["overall", "baseline"] == pytest.approx(
        np.mean(baseline[keep] == golds[keep])
    )


def test_multiclass_macro_f1():
    golds, S, baseline, candidate = _two_models(n_rows=500, n_classes=3, seed=2)
    table = compare_models(golds, S, baseline, candidate, metric="f1_macro")
    alone = slice_scores(golds, S, preds=candidate, metrics="f1_macro", sort=False)
    np.testing.assert_allclose(table["candidate"], alone["f1_macro"])


def test_errors_say_what_was_received():
    golds, S, baseline, candidate = _two_models(n_rows=50)
    with pytest.raises(
        ValueError, match=r"metrics \['roc_auc'\] need the rows, but compare_models"
    ):
        compare_models(golds, S, baseline, candidate, metric="roc_auc")
    with pytest.raises(
        ValueError, match="baseline_preds has 50 rows but candidate_preds has 49"
    ):
        compare_models(golds, S, baseline, candidate[:-1])
    with pytest.raises(ValueError, match=r"candidate_preds holds 0.5 at row 0"):
        compare_models(golds, S, baseline, np.full(50, 0.5))
    with pytest.raises(ValueError, match="golds has 49"):
        compare_models(golds[:-1], S, baseline, candidate)


def test_compare_models_takes_the_shared_options_and_refuses_its_own():
    golds, S, baseline, candidate = _two_models(n_rows=400)
    options = ScoreOptions(ci=0.9, n_resamples=300, seed=2, min_support=5)
    table = compare_models(golds, S, baseline, candidate, metric="f1", options=options)
    alone = slice_scores(golds, S, preds=candidate, metrics="f1", options=options)
    np.testing.assert_allclose(table["candidate_low"], alone.loc[table.index, "f1_low"])
    slices = table.drop(index="overall")
    assert ((slices["n"] < 5) == (slices["change"] == "too small")).all()
    with pytest.raises(TypeError, match="option 'metrics' is not accepted here"):
        compare_models(golds, S, baseline, candidate, metrics=["f1"])
    with pytest.raises(TypeError, match="option 'sort' is not accepted here"):
        compare_models(golds, S, baseline, candidate, sort=True)
    with pytest.raises(ValueError, match="compare_models needs ci"):
        compare_models(golds, S, baseline, candidate, ci=None)
    with pytest.raises(TypeError, match="positional argument"):
        compare_models(golds, S, baseline, candidate, "f1")
