import warnings

import numpy as np
import pandas as pd
import pytest

from slicing.estimate import (
    EstimateWarning,
    FlipRates,
    NoSourceSupportWarning,
    UnmatchedRatesWarning,
    count_patterns,
    estimate_performance,
)
from slicing.matrix import make_slice_matrix
from test.estimate.synthetic import shifted_pair


def quiet(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimateWarning)
        return estimate_performance(*args, **kwargs)


@pytest.mark.parametrize("pairs", [None, [("sf0", "sf1")], "all"])
def test_weighted_source_rates_match_the_target_without_regularisation(pairs):
    data = shifted_pair(0, 3000, 3000)
    l2 = 0.0 if pairs != "all" else 0.0
    result = quiet(
        data["source"],
        data["target"],
        data["correct"],
        pairs=pairs,
        l2=l2,
        n_resamples=0,
    )
    assert result.converged
    np.testing.assert_allclose(
        result.rates["weighted_source_rate"],
        data["target"].mean().to_numpy(),
        atol=1e-4,
    )
    assert result.max_rate_gap < 1e-4
    # Row weights reproduce the same moments, pair terms included.
    weights = result.weights
    signs = np.where(data["source"].to_numpy(), 1.0, -1.0)
    target_signs = np.where(data["target"].to_numpy(), 1.0, -1.0)
    np.testing.assert_allclose(weights.mean(), 1.0, atol=1e-9)
    np.testing.assert_allclose(
        (weights[:, None] * signs).mean(0), target_signs.mean(0), atol=1e-4
    )
    if pairs:
        product = signs[:, 0] * signs[:, 1]
        target_product = target_signs[:, 0] * target_signs[:, 1]
        assert abs((weights * product).mean() - target_product.mean()) < 1e-4


def test_estimate_moves_from_the_source_towards_the_truth():
    data = shifted_pair(1, 4000, 4000)
    result = quiet(data["source"], data["target"], data["correct"], n_resamples=200)
    truth = data["target_correct"].mean()
    source_only = data["correct"].mean()
    assert abs(result.estimate() - truth) < abs(source_only - truth)
    row = result.table.loc["overall"]
    assert row["accuracy_low"] <= row["accuracy"] <= row["accuracy_high"]
    assert row["source_accuracy"] == pytest.approx(source_only)
    assert list(result.table.index) == ["overall", *data["source"].columns]


def test_the_same_seed_gives_the_same_result_and_another_seed_other_intervals():
    data = shifted_pair(2, 500, 500)
    first = quiet(
        data["source"], data["target"], data["correct"], n_resamples=100, seed=3
    )
    again = quiet(
        data["source"], data["target"], data["correct"], n_resamples=100, seed=3
    )
    other = quiet(
        data["source"], data["target"], data["correct"], n_resamples=100, seed=4
    )
    pd.testing.assert_frame_equal(first.table, again.table)
    assert not first.table["accuracy_low"].equals(other.table["accuracy_low"])
    assert first.estimate() == other.estimate()


def test_record_array_dataframe_and_pattern_counts_agree():
    data = shifted_pair(3, 800, 600)
    names = list(data["source"].columns)
    S_source = make_slice_matrix(data["source"].to_numpy(), names)
    S_target = make_slice_matrix(data["target"].to_numpy(), names)
    golds = np.ones(len(S_source), int)
    preds = data["correct"].astype(int)
    counts = count_patterns(data["source"].to_numpy(), names, np.stack([golds, preds]))
    results = [
        quiet(S_source, S_target, data["correct"], n_resamples=50),
        quiet(data["source"], data["target"], golds=golds, preds=preds, n_resamples=50),
        quiet(counts, count_patterns(data["target"].to_numpy(), names), n_resamples=50),
    ]
    for other in results[1:]:
        pd.testing.assert_frame_equal(results[0].table, other.table)


def test_target_columns_in_another_order_are_aligned():
    data = shifted_pair(4, 400, 400)
    shuffled = data["target"][list(reversed(data["target"].columns))]
    a = quiet(data["source"], data["target"], data["correct"], n_resamples=0)
    b = quiet(data["source"], shuffled, data["correct"], n_resamples=0)
    assert a.estimate() == pytest.approx(b.estimate())


def test_other_metrics_from_golds_and_probs():
    rng = np.random.default_rng(5)
    data = shifted_pair(5, 600, 600)
    golds = rng.integers(0, 2, 600)
    probs = np.column_stack([1 - rng.random(600), rng.random(600)])
    probs /= probs.sum(1, keepdims=True)
    result = quiet(
        data["source"],
        data["target"],
        golds=golds,
        probs=probs,
        metrics=["accuracy", "f1", "matthews_corrcoef"],
        n_resamples=50,
    )
    assert result.metrics == ["accuracy", "f1", "matthews_corrcoef"]
    assert {"f1", "f1_low", "source_f1"} <= set(result.table.columns)
    plain = quiet(
        data["source"],
        data["source"],
        golds=golds,
        probs=probs,
        metrics=["f1"],
        n_resamples=0,
    )
    assert plain.estimate() == pytest.approx(plain.table.loc["overall", "source_f1"])


def test_mismatched_sf_names_name_both_sides():
    data = shifted_pair(6, 100, 100)
    target = data["target"].rename(columns={"sf0": "other"})
    with pytest.raises(
        ValueError,
        match=r"missing in the target \['sf0'\], not in the source \['other'\]",
    ):
        estimate_performance(data["source"], target, data["correct"])


def test_empty_target_and_empty_source_are_refused():
    data = shifted_pair(7, 100, 100)
    with pytest.raises(ValueError, match="the target has no rows"):
        estimate_performance(data["source"], data["target"].iloc[:0], data["correct"])
    with pytest.raises(ValueError, match="the source has no rows"):
        estimate_performance(
            data["source"].iloc[:0], data["target"], data["correct"][:0]
        )


def test_nan_outcomes_are_refused_with_the_rows():
    data = shifted_pair(8, 100, 100)
    correct = data["correct"].astype(float)
    correct[[3, 7]] = np.nan
    with pytest.raises(
        ValueError, match=r"correct has NaN at 2 of 100 source rows \(first: \[3, 7\]\)"
    ):
        estimate_performance(data["source"], data["target"], correct)
    golds = np.where(np.arange(100) == 5, np.nan, 1.0)
    with pytest.raises(ValueError, match="golds has NaN at 1 of 100"):
        estimate_performance(
            data["source"], data["target"], golds=golds, preds=np.ones(100)
        )


def test_bad_options_and_outcomes_are_refused():
    data = shifted_pair(9, 50, 50)
    args = (data["source"], data["target"])
    with pytest.raises(ValueError, match="got neither"):
        estimate_performance(*args)
    with pytest.raises(ValueError, match="correct must be 0/1"):
        estimate_performance(*args, np.full(50, 2))
    with pytest.raises(ValueError, match="correct has 49 rows"):
        estimate_performance(*args, data["correct"][:49])
    with pytest.raises(ValueError, match="l2 must be"):
        estimate_performance(*args, data["correct"], l2=-1)
    with pytest.raises(ValueError, match="cannot be estimated from reweighted"):
        estimate_performance(
            *args, golds=np.ones(50), preds=np.ones(50), metrics="roc_auc"
        )
    with pytest.raises(ValueError, match="not an SF"):
        estimate_performance(*args, data["correct"], pairs=[("sf0", "nope")])


def test_all_one_pattern_data_warns_and_returns_the_source_value():
    source = pd.DataFrame({"a": [True] * 30, "b": [False] * 30})
    correct = np.r_[np.ones(20), np.zeros(10)]
    with pytest.warns(EstimateWarning, match="all 30 source rows share one SF pattern"):
        result = estimate_performance(source, source, correct, n_resamples=20)
    assert result.estimate() == pytest.approx(2 / 3)
    other = pd.DataFrame({"a": [False] * 30, "b": [True] * 30})
    with pytest.warns(NoSourceSupportWarning, match="30 of 30 target rows"):
        with pytest.warns(UnmatchedRatesWarning, match="cannot be reached"):
            with pytest.warns(EstimateWarning, match="share one SF pattern"):
                result = estimate_performance(source, other, correct, n_resamples=20)
    assert result.has_unsupported_patterns and not result.converged
    assert result.unsupported_target_rows == 30


def test_target_patterns_without_source_support_warn_with_the_row_count():
    source = pd.DataFrame({"a": [True, False] * 20, "b": [False] * 40})
    target = pd.DataFrame(
        {"a": [True, False, True, False], "b": [False, False, True, True]}
    )
    with pytest.warns(
        NoSourceSupportWarning,
        match=r"2 of 4 target rows \(50.0%\) fall in 2 SF patterns",
    ):
        with pytest.warns(UnmatchedRatesWarning, match="'b' target 0.500"):
            result = estimate_performance(source, target, np.ones(40), n_resamples=10)
    assert result.unsupported_target_rows == 2
    assert result.unsupported_target_patterns == 2


@pytest.mark.parametrize("n", [7, 100, 1000, 2000])
@pytest.mark.parametrize("seed", range(3))
def test_never_raises_for_small_and_medium_sizes(n, seed):
    data = shifted_pair(seed, n, n, k=16)
    result = quiet(
        data["source"],
        data["target"],
        data["correct"],
        pairs=[("sf0", "sf1")],
        n_resamples=50,
    )
    assert np.isfinite(result.estimate())
    assert 0 <= result.estimate() <= 1


def test_diagnostics_are_consistent():
    data = shifted_pair(10, 1000, 1000)
    result = quiet(data["source"], data["target"], data["correct"], n_resamples=0)
    weights = result.weights
    assert result.effective_sample_size == pytest.approx(
        weights.sum() ** 2 / (weights**2).sum()
    )
    assert result.effective_sample_size <= 1000
    assert len(result.largest_weights) == 5
    assert result.largest_weights["weight"].iloc[0] == pytest.approx(weights.max())
    assert result.pattern_weights["source_rows"].sum() == 1000
    assert "target accuracy" in result.summary()


def test_delta_intervals_agree_with_the_bootstrap():
    data = shifted_pair(11, 2000, 2000)
    boot = quiet(
        data["source"],
        data["target"],
        data["correct"],
        ci_method="bootstrap",
        n_resamples=1000,
    )
    delta = quiet(data["source"], data["target"], data["correct"], ci_method="delta")
    for column in ("accuracy_low", "accuracy_high", "source_accuracy_low"):
        np.testing.assert_allclose(boot.table[column], delta.table[column], atol=0.015)


def test_noise_aware_estimate_corrects_flipped_sfs():
    errors = {"plain": [], "noise-aware": []}
    for seed in range(4):
        data = shifted_pair(seed, 4000, 4000, k=4, eps=0.15)
        truth = data["target_correct"].mean()
        plain = quiet(data["source"], data["target"], data["correct"], n_resamples=0)
        calibration = (data["true_source"].iloc[:400], data["source"].iloc[:400])
        aware = quiet(
            data["source"],
            data["target"],
            data["correct"],
            calibration=calibration,
            n_resamples=30,
        )
        assert aware.noise_aware and "target_sf_rate" in aware.rates
        errors["plain"].append(abs(plain.estimate() - truth))
        errors["noise-aware"].append(abs(aware.estimate() - truth))
    assert np.mean(errors["noise-aware"]) < np.mean(errors["plain"])


def test_known_flip_rates_can_be_given_directly():
    data = shifted_pair(12, 500, 500, k=3, eps=0.1)
    rates = FlipRates(np.full(3, 0.1), np.full(3, 0.1))
    result = quiet(
        data["source"],
        data["target"],
        data["correct"],
        calibration=rates,
        n_resamples=20,
    )
    assert result.noise_aware and np.isfinite(result.estimate())
    with pytest.raises(ValueError, match="carries almost no information"):
        quiet(
            data["source"],
            data["target"],
            data["correct"],
            calibration=FlipRates(np.full(3, 0.5), np.full(3, 0.45)),
        )


def test_estimate_is_consistent_and_unbiased_where_the_truth_is_known():
    # The truth is the target's expected accuracy, overall and per slice, computed
    # exactly; the error over seeds is centred on zero and shrinks as the rows grow.
    errors = {}
    for n in (400, 6400):
        for seed in range(24):
            data = shifted_pair(100 + seed, n, n)
            result = quiet(data["source"], data["target"], data["correct"], ci=None)
            values = result.table["accuracy"].to_numpy()
            truth = np.r_[data["truth"], data["slice_truth"]]
            errors.setdefault(n, []).append(values - truth)
    small, large = np.array(errors[400]), np.array(errors[6400])
    # Sixteen times the rows: a quarter of the error (root-n), with room to spare.
    assert np.abs(large).mean() < 0.45 * np.abs(small).mean()
    assert np.abs(large[:, 0]).mean() < 0.01
    # No bias: the mean error is within three standard errors of zero.
    spread = large.std(axis=0, ddof=1) / np.sqrt(len(large))
    assert (np.abs(large.mean(axis=0)) < 3 * spread + 1e-3).all()


def test_an_outcome_model_linear_in_the_features_changes_nothing():
    # The weights are calibration weights: for any outcome model m linear in the
    # features, mean_target m + mean_source w (y - m) equals the weighted estimate,
    # so a regression (doubly robust) adjustment on these features cannot lower its
    # variance (measured in bench/estimate.py, even with nonlinear models).
    data = shifted_pair(7, 1500, 1500)
    result = quiet(
        data["source"], data["target"], data["correct"], pairs=[(0, 1)], ci=None
    )
    signs = np.where(data["source"].to_numpy(), 1.0, -1.0)
    target_signs = np.where(data["target"].to_numpy(), 1.0, -1.0)

    def features(s: np.ndarray) -> np.ndarray:
        return np.column_stack([np.ones(len(s)), s, s[:, 0] * s[:, 1]])

    outcome = data["correct"].astype(float)
    coef = np.linalg.lstsq(features(signs), outcome, rcond=None)[0]
    fitted, predicted = features(signs) @ coef, features(target_signs) @ coef
    weights = result.weights
    adjusted = predicted.mean() + weights @ (outcome - fitted) / weights.sum()
    assert adjusted == pytest.approx(result.estimate(), abs=1e-6)
