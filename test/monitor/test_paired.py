import numpy as np
import pytest

from slicing.matrix import make_slice_matrix
from slicing.monitor.paired import compare_models
from slicing.monitor.scores import slice_scores


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
    with pytest.raises(ValueError, match="needs a count metric; got 'roc_auc'"):
        compare_models(golds, S, baseline, candidate, metric="roc_auc")
    with pytest.raises(
        ValueError, match="baseline_preds has 50 rows but candidate_preds has 49"
    ):
        compare_models(golds, S, baseline, candidate[:-1])
    with pytest.raises(ValueError, match=r"candidate_preds holds 0.5 at row 0"):
        compare_models(golds, S, baseline, np.full(50, 0.5))
    with pytest.raises(ValueError, match="golds has 49"):
        compare_models(golds[:-1], S, baseline, candidate)
