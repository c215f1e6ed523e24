import warnings

import numpy as np
import pandas as pd
import pytest
from snorkel.analysis import Scorer, metric_score

from slicing.matrix import make_slice_matrix, slice_matrix_to_dataframe
from slicing.monitor.options import ScoreOptions
from slicing.monitor.scores import SliceScorer, slice_scores


def _model_outputs(n_rows=600, seed=0):
    """Binary golds, probs from a model that is worse on slice 'hard'."""
    rng = np.random.default_rng(seed)
    golds = rng.integers(0, 2, n_rows)
    indicators = np.column_stack(
        [
            rng.random(n_rows) < 0.4,  # common
            rng.random(n_rows) < 0.2,  # hard
            rng.random(n_rows) < 0.02,  # tiny
            np.zeros(n_rows, dtype=bool),  # empty
        ]
    )
    accuracy = np.where(indicators[:, 1], 0.55, 0.9)
    correct = rng.random(n_rows) < accuracy
    preds = np.where(correct, golds, 1 - golds)
    confidence = rng.uniform(0.55, 1.0, n_rows)
    positive = np.where(preds == 1, confidence, 1 - confidence)
    probs = np.column_stack([1 - positive, positive])
    S = make_slice_matrix(indicators, ["common", "hard", "tiny", "empty"])
    return golds, preds, probs, S


def test_table_has_overall_and_every_slice_with_support_and_intervals():
    golds, preds, probs, S = _model_outputs()
    table = slice_scores(golds, S, preds=preds, probs=probs, metrics=["accuracy", "f1"])
    assert set(table.index) == {"overall", "common", "hard", "tiny", "empty"}
    assert table.index[0] == "overall"
    assert table.at["overall", "n"] == len(golds)
    assert table.at["hard", "n"] == S["hard"].sum()
    assert table.at["hard", "share"] == pytest.approx(S["hard"].sum() / len(golds))
    expected_columns = ["n", "share"]
    for metric in ("accuracy", "f1"):
        expected_columns += [
            metric,
            f"{metric}_low",
            f"{metric}_high",
            f"{metric}_diff",
        ]
    assert list(table.columns) == [*expected_columns, "status", "note"]
    defined = table.drop(index="empty")
    assert (defined["accuracy_low"] <= defined["accuracy"]).all()
    assert (defined["accuracy"] <= defined["accuracy_high"]).all()
    assert table.at["hard", "accuracy_diff"] == pytest.approx(
        table.at["hard", "accuracy"] - table.at["overall", "accuracy"]
    )


def test_values_equal_snorkel_metric_score_on_each_slice():
    golds, preds, probs, S = _model_outputs()
    metrics = ["accuracy", "precision", "recall", "f1", "matthews_corrcoef", "roc_auc"]
    table = slice_scores(golds, S, preds=preds, probs=probs, metrics=metrics)
    for name in ("common", "hard"):
        mask = S[name]
        for metric in metrics:
            expected = metric_score(
                golds=golds[mask], preds=preds[mask], probs=probs[mask], metric=metric
            )
            assert table.at[name, metric] == pytest.approx(expected), (name, metric)


def test_worst_slice_is_flagged_and_sorted_first_and_small_slices_are_marked():
    golds, preds, probs, S = _model_outputs()
    table = slice_scores(golds, S, preds=preds, min_support=30)
    assert table.index.tolist()[:2] == ["overall", "hard"]
    assert table.at["hard", "status"] == "worse"
    assert table.at["common", "status"] == "ok"
    assert table.at["tiny", "status"] == "too small"
    assert table.at["empty", "status"] == "empty"
    assert table.index.tolist()[-1] == "empty"


def test_sort_false_keeps_sf_order():
    golds, preds, probs, S = _model_outputs()
    table = slice_scores(golds, S, preds=preds, sort=False)
    assert table.index.tolist() == ["overall", "common", "hard", "tiny", "empty"]


def test_empty_slice_is_reported_where_snorkel_scorer_crashes():
    golds, preds, probs, S = _model_outputs()
    with pytest.raises(ValueError, match="Cannot score empty labels"):
        Scorer(metrics=["accuracy"]).score_slices(S, golds, preds, probs)
    table = slice_scores(
        golds, S, preds=preds, metrics=["accuracy", "roc_auc"], probs=probs
    )
    assert table.at["empty", "n"] == 0
    assert np.isnan(table.at["empty", "accuracy"])
    assert np.isnan(table.at["empty", "roc_auc_low"])
    assert table.at["empty", "note"] == "no rows"


def test_slice_with_one_class_only_gets_nan_and_a_note_for_roc_auc():
    golds = np.array([1, 1, 1, 0, 1, 0, 1, 0])
    preds = np.array([1, 0, 1, 0, 1, 1, 1, 0])
    probs = np.column_stack([1 - preds * 0.8, preds * 0.8])
    S = make_slice_matrix(np.array([[True]] * 3 + [[False]] * 5), ["positives"])
    table = slice_scores(
        golds, S, preds=preds, probs=probs, metrics=["accuracy", "roc_auc"]
    )
    assert table.at["positives", "accuracy"] == pytest.approx(2 / 3)
    assert np.isnan(table.at["positives", "roc_auc"])
    assert "roc_auc" in table.at["positives", "note"]
    assert "one class" in table.at["positives", "note"].lower()
    assert not np.isnan(table.at["overall", "roc_auc"])


def test_undefined_precision_is_nan_with_reason_not_zero():
    golds = np.array([0, 0, 1, 1])
    preds = np.array([0, 0, 1, 0])
    S = make_slice_matrix(np.array([[True], [True], [False], [False]]), ["negatives"])
    table = slice_scores(
        golds, S, preds=preds, metrics=["accuracy", "precision"], min_support=1
    )
    assert np.isnan(table.at["negatives", "precision"])
    assert table.at["negatives", "note"] == "precision: no positive predictions"
    assert table.at["negatives", "status"] == "ok"  # judged on accuracy, defined


def test_nan_predictions_are_left_out_with_a_warning_or_raise():
    golds, preds, probs, S = _model_outputs(n_rows=200)
    noisy = preds.astype(float)
    noisy[[3, 50]] = np.nan
    with pytest.warns(UserWarning, match=r"2 without a prediction .*rows 3, 50"):
        table = slice_scores(golds, S, preds=noisy)
    assert table.at["overall", "n"] == 198
    keep = ~np.isnan(noisy)
    expected = metric_score(golds[keep], preds[keep], metric="accuracy")
    assert table.at["overall", "accuracy"] == pytest.approx(expected)
    with pytest.raises(ValueError, match="nan_policy='omit'"):
        slice_scores(golds, S, preds=noisy, nan_policy="raise")


def test_abstain_golds_are_left_out():
    golds = np.array([1, -1, 0, 1])
    S = make_slice_matrix(np.ones((4, 1), dtype=bool), ["all"])
    with pytest.warns(UserWarning, match="1 without a gold label"):
        table = slice_scores(golds, S, preds=np.array([1, 0, 0, 0]), min_support=1)
    assert table.at["all", "n"] == 3
    assert table.at["all", "accuracy"] == pytest.approx(2 / 3)


def test_length_mismatch_names_every_length():
    golds, preds, probs, S = _model_outputs(n_rows=50)
    with pytest.raises(ValueError, match="golds has 50, preds has 49, S has 50"):
        slice_scores(golds, S, preds=preds[:-1])


def test_bad_inputs_say_what_was_received():
    golds, preds, probs, S = _model_outputs(n_rows=20)
    with pytest.raises(ValueError, match="got neither"):
        slice_scores(golds, S)
    with pytest.raises(ValueError, match=r"need probs; got probs=None"):
        slice_scores(golds, S, preds=preds, metrics="roc_auc")
    with pytest.raises(TypeError, match="ndarray of dtype bool and shape"):
        slice_scores(golds, np.ones((20, 2), dtype=bool), preds=preds)
    with pytest.raises(ValueError, match=r"preds holds 0.5 at row 0"):
        slice_scores(golds, S, preds=np.full(20, 0.5))
    with pytest.raises(ValueError, match="unknown metric 'acc'"):
        slice_scores(golds, S, preds=preds, metrics="acc")


def test_probs_alone_are_enough_and_equal_argmax_preds():
    golds, preds, probs, S = _model_outputs(n_rows=300)
    from_probs = slice_scores(golds, S, probs=probs, metrics=["accuracy", "roc_auc"])
    from_preds = slice_scores(
        golds,
        S,
        preds=probs.argmax(axis=1),
        probs=probs,
        metrics=["accuracy", "roc_auc"],
    )
    pd.testing.assert_frame_equal(from_probs, from_preds)


def test_every_slice_matrix_form_gives_the_same_table():
    golds, preds, probs, S = _model_outputs(n_rows=300)
    ours = slice_scores(golds, S, preds=preds)
    snorkel_style = np.rec.fromarrays(
        [S[name].astype(np.int64) for name in S.dtype.names], names=list(S.dtype.names)
    )
    pd.testing.assert_frame_equal(ours, slice_scores(golds, snorkel_style, preds=preds))
    frame = slice_matrix_to_dataframe(S)
    pd.testing.assert_frame_equal(ours, slice_scores(golds, frame, preds=preds))


def test_multiclass_with_macro_f1_and_mcc():
    rng = np.random.default_rng(3)
    golds = rng.integers(0, 4, 400)
    preds = np.where(rng.random(400) < 0.7, golds, rng.integers(0, 4, 400))
    S = make_slice_matrix(
        np.column_stack([golds == 3, rng.random(400) < 0.5]), ["c3", "half"]
    )
    table = slice_scores(
        golds, S, preds=preds, metrics=["accuracy", "f1_macro", "matthews_corrcoef"]
    )
    mask = S["half"]
    for metric in ("accuracy", "f1_macro", "matthews_corrcoef"):
        expected = metric_score(golds[mask], preds[mask], metric=metric)
        assert table.at["half", metric] == pytest.approx(expected)
    assert table.at["half", "f1_macro_low"] < table.at["half", "f1_macro"]
    with pytest.raises(ValueError, match="binary labels only; got 4 classes"):
        slice_scores(golds, S, preds=preds, metrics="f1")


def test_user_callables_and_a_failing_callable_do_not_end_the_report():
    golds, preds, probs, S = _model_outputs(n_rows=120)

    def error_rate(golds, preds, probs):
        return float(np.mean(golds != preds))

    def picky(golds, preds, probs):
        if len(golds) < 100:
            raise RuntimeError("needs 100 rows")
        return 1.0

    table = slice_scores(
        golds, S, preds=preds, metrics=[error_rate, ("picky", picky)], n_resamples=50
    )
    assert table.at["overall", "error_rate"] == pytest.approx(np.mean(golds != preds))
    assert (
        table.at["overall", "error_rate_low"] < table.at["overall", "error_rate_high"]
    )
    assert table.at["overall", "picky"] == 1.0
    assert np.isnan(table.at["hard", "picky"])
    assert table.at["hard", "note"] == "picky: RuntimeError: needs 100 rows"


def test_intervals_are_seeded():
    golds, preds, probs, S = _model_outputs(n_rows=300)
    kwargs = dict(
        preds=preds, probs=probs, metrics=["matthews_corrcoef"], n_resamples=200
    )
    first = slice_scores(golds, S, seed=1, **kwargs)
    pd.testing.assert_frame_equal(first, slice_scores(golds, S, seed=1, **kwargs))
    other = slice_scores(golds, S, seed=2, **kwargs)
    assert not np.allclose(
        first["matthews_corrcoef_low"].dropna(),
        other["matthews_corrcoef_low"].dropna(),
    )


def test_f1_interval_is_wilson_on_the_jaccard_share_and_never_collapses():
    from slicing.intervals import wilson_interval

    # A slice where the model is perfect: a percentile bootstrap gives [1, 1].
    golds = np.r_[np.ones(20, int), np.zeros(40, int), np.tile([0, 1], 50)]
    preds = np.r_[np.ones(20, int), np.zeros(40, int), np.tile([1, 1], 50)]
    S = make_slice_matrix(np.arange(160)[:, None] < 60, ["perfect"])
    table = slice_scores(golds, S, preds=preds, metrics="f1", sort=False)
    assert table.at["perfect", "f1"] == 1.0
    low, high = table.loc["perfect", ["f1_low", "f1_high"]]
    assert 0.8 < low < 1.0 and high == pytest.approx(1.0)
    # overall: TP 70, FP 50, FN 0 -> J = 70 / 120, f1 = 2J / (1 + J).
    j_low, j_high = wilson_interval(np.array([70]), np.array([120]), 0.95)
    expected = 2 * np.r_[j_low, j_high] / (1 + np.r_[j_low, j_high])
    np.testing.assert_allclose(
        table.loc["overall", ["f1_low", "f1_high"]].to_numpy(float), expected
    )
    assert table.at["overall", "f1"] == pytest.approx(140 / 190)
    bootstrapped = slice_scores(
        golds, S, preds=preds, metrics="f1", sort=False, ci_method="bootstrap"
    )
    assert bootstrapped.at["perfect", "f1_low"] == 1.0  # what the closed form fixes


def test_roc_auc_uses_delong_by_default_and_bootstrap_agrees():
    golds, preds, probs, S = _model_outputs(n_rows=1500)
    kwargs = dict(probs=probs, metrics="roc_auc", sort=False)
    delong = slice_scores(golds, S, **kwargs)
    bootstrap = slice_scores(golds, S, ci_method="bootstrap", n_resamples=500, **kwargs)
    assert (delong["roc_auc_low"] < delong["roc_auc"]).iloc[:3].all()
    for bound in ("roc_auc_low", "roc_auc_high"):
        assert np.allclose(delong[bound][:3], bootstrap[bound][:3], atol=0.02), bound


def test_ci_none_drops_the_interval_columns_and_bootstrap_method_is_close_to_wilson():
    golds, preds, probs, S = _model_outputs(n_rows=2000)
    no_ci = slice_scores(golds, S, preds=preds, ci=None)
    assert "accuracy_low" not in no_ci and "accuracy" in no_ci
    wilson = slice_scores(golds, S, preds=preds, ci=0.9, sort=False)
    bootstrap = slice_scores(
        golds, S, preds=preds, ci=0.9, ci_method="bootstrap", sort=False
    )
    for bound in ("accuracy_low", "accuracy_high"):
        close = np.isclose(wilson[bound], bootstrap[bound], atol=0.02, equal_nan=True)
        assert close[:3].all(), bound  # overall, common, hard: large enough to agree


def test_wilson_intervals_cover_the_true_accuracy_about_as_promised():
    rng = np.random.default_rng(7)
    n_rows, true_accuracy, trials = 60, 0.8, 300
    indicators = np.ones((n_rows, 1), dtype=bool)
    S = make_slice_matrix(indicators, ["all"])
    golds = np.ones(n_rows, dtype=int)
    covered = 0
    for _ in range(trials):
        preds = (rng.random(n_rows) < true_accuracy).astype(int)
        table = slice_scores(golds, S, preds=preds, ci=0.9)
        covered += (
            table.at["all", "accuracy_low"]
            <= true_accuracy
            <= table.at["all", "accuracy_high"]
        )
    assert 0.84 <= covered / trials <= 0.96


def test_overlapping_slices_are_each_scored_on_all_their_rows():
    golds = np.array([1, 1, 0, 0, 1])
    preds = np.array([1, 0, 0, 1, 1])
    indicators = np.array([[1, 1], [1, 1], [1, 0], [0, 1], [0, 0]], dtype=bool)
    S = make_slice_matrix(indicators, ["a", "b"])
    table = slice_scores(golds, S, preds=preds, min_support=1, sort=False)
    assert table["n"].tolist() == [5, 3, 3]
    assert table["accuracy"].tolist() == pytest.approx([3 / 5, 2 / 3, 1 / 3])


def test_slice_scorer_is_a_snorkel_scorer_returning_the_table():
    golds, preds, probs, S = _model_outputs(n_rows=300)

    def error_rate(golds, preds, probs):
        return float(np.mean(golds != preds))

    scorer = SliceScorer(
        metrics=["accuracy", "roc_auc"],
        custom_metric_funcs={"error_rate": error_rate},
        n_resamples=50,
    )
    assert isinstance(scorer, Scorer)
    assert scorer.score(golds, preds, probs)["accuracy"] == pytest.approx(
        np.mean(golds == preds)
    )
    table = scorer.score_slices(S, golds, preds, probs)
    assert table.attrs["metrics"] == ["accuracy", "roc_auc", "error_rate"]
    assert table.at["empty", "status"] == "empty"
    reference = Scorer(metrics=["accuracy"]).score(golds[S["hard"]], preds[S["hard"]])
    assert table.at["hard", "accuracy"] == pytest.approx(reference["accuracy"])


def test_no_scorable_rows_gives_a_table_of_empty_rows_not_an_error():
    S = make_slice_matrix(np.array([[True], [False]]), ["a"])
    with pytest.warns(UserWarning, match="2 without a gold label"):
        table = slice_scores(np.array([-1, -1]), S, preds=np.array([0, 1]))
    assert table["n"].tolist() == [0, 0]
    assert table["note"].tolist() == ["no rows", "no rows"]
    assert table["accuracy"].isna().all()


def test_no_warning_on_clean_input():
    golds, preds, probs, S = _model_outputs(n_rows=100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        slice_scores(
            golds, S, preds=preds, probs=probs, metrics=["accuracy", "roc_auc", "f1"]
        )


def test_options_object_equals_keywords_and_keywords_override_it():
    golds, preds, probs, S = _model_outputs(n_rows=300)
    keywords = dict(metrics=["f1", "accuracy"], ci=0.9, min_support=10, seed=4)
    options = ScoreOptions(**keywords)
    pd.testing.assert_frame_equal(
        slice_scores(golds, S, preds=preds, options=options),
        slice_scores(golds, S, preds=preds, **keywords),
    )
    overridden = slice_scores(golds, S, preds=preds, options=options, ci=None)
    assert "f1_low" not in overridden and overridden.attrs["metrics"] == [
        "f1",
        "accuracy",
    ]


def test_options_are_keyword_only_and_checked_before_the_data():
    golds, preds, probs, S = _model_outputs(n_rows=20)
    with pytest.raises(TypeError, match="positional argument"):
        slice_scores(golds, S, preds, probs, "accuracy")
    with pytest.raises(TypeError, match="unknown option 'metric'"):
        slice_scores(golds, S, preds=preds, metric="accuracy")
    with pytest.raises(ValueError, match="ci must be a confidence level"):
        slice_scores(golds[:3], S, preds=preds, ci=0)  # before the length check
    with pytest.raises(ValueError, match="n_resamples must be an integer >= 1"):
        SliceScorer(metrics=["accuracy"], n_resamples=0)
