import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from slicing.intervals import (
    bootstrap_percentile_interval,
    delong_interval,
    resample_rows,
    wilson_interval,
)


def _wilson_reference(successes, trials, z=1.959963984540054):
    # Textbook form: (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)
    share = successes / trials
    center = share + z * z / (2 * trials)
    spread = z * np.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials))
    denominator = 1 + z * z / trials
    return (center - spread) / denominator, (center + spread) / denominator


@pytest.mark.parametrize(
    ("successes", "trials"), [(0, 10), (9, 10), (10, 10), (37, 50), (1, 1)]
)
def test_wilson_matches_the_textbook_formula(successes, trials):
    low, high = wilson_interval(np.array([successes]), np.array([trials]))
    expected_low, expected_high = _wilson_reference(successes, trials)
    assert low[0] == pytest.approx(max(expected_low, 0.0), abs=1e-12)
    assert high[0] == pytest.approx(min(expected_high, 1.0), abs=1e-12)


def test_wilson_is_inside_unit_interval_contains_the_share_and_nan_without_trials():
    successes = np.array([0, 3, 10, 0])
    trials = np.array([10, 10, 10, 0])
    low, high = wilson_interval(successes, trials, confidence=0.99)
    assert np.isnan(low[3]) and np.isnan(high[3])
    share = successes[:3] / trials[:3]
    assert (low[:3] >= 0).all() and (high[:3] <= 1).all()
    assert (low[:3] <= share).all() and (share <= high[:3]).all()
    assert low[0] == 0.0 and high[2] == 1.0


def test_higher_confidence_gives_wider_wilson_intervals():
    narrow = wilson_interval(np.array([30]), np.array([50]), 0.8)
    wide = wilson_interval(np.array([30]), np.array([50]), 0.99)
    assert wide[0][0] < narrow[0][0] and wide[1][0] > narrow[1][0]


def test_bootstrap_percentiles_ignore_nan_and_are_nan_when_all_are():
    resampled = np.array([[np.nan, 0.0, 1.0, 2.0, 3.0, 4.0], [np.nan] * 6])
    low, high = bootstrap_percentile_interval(resampled, confidence=0.5)
    assert low[0] == pytest.approx(1.0) and high[0] == pytest.approx(3.0)
    assert np.isnan(low[1]) and np.isnan(high[1])


@pytest.mark.parametrize("confidence", [0, 1, 1.5, -0.1])
def test_confidence_outside_zero_one_is_rejected(confidence):
    with pytest.raises(ValueError, match=r"confidence must be in \(0, 1\)"):
        wilson_interval(np.array([1]), np.array([2]), confidence)
    with pytest.raises(ValueError, match=r"confidence must be in \(0, 1\)"):
        bootstrap_percentile_interval(np.array([1.0, 2.0]), confidence)


def _delong_naive(positive, scores, z=1.959963984540054):
    """DeLong's interval written out pair by pair."""
    pos, neg = scores[positive], scores[~positive]
    wins = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = wins.mean(axis=1), wins.mean(axis=0)
    auc = wins.mean()
    se = np.sqrt(v10.var(ddof=1) / pos.size + v01.var(ddof=1) / neg.size)
    return auc, max(auc - z * se, 0.0), min(auc + z * se, 1.0)


def test_delong_equals_the_pairwise_definition_with_ties():
    rng = np.random.default_rng(0)
    positive = rng.random(300) < 0.4
    scores = np.round(rng.random(300) * 0.7 + 0.3 * positive, 1)  # many ties
    auc, expected_low, expected_high = _delong_naive(positive, scores)
    low, high = delong_interval(positive, scores)
    assert low == pytest.approx(expected_low) and high == pytest.approx(expected_high)
    assert roc_auc_score(positive, scores) == pytest.approx(auc)
    assert low < auc < high


def test_delong_is_nan_with_fewer_than_two_of_a_class():
    low, high = delong_interval(
        np.array([True, False, False]), np.array([0.9, 0.1, 0.2])
    )
    assert np.isnan(low) and np.isnan(high)


def test_resample_rows_draws_blocks_adding_up_to_the_resamples():
    blocks = list(resample_rows(1000, 25, np.random.default_rng(1), max_cells=10_000))
    assert [block.shape for block in blocks] == [(10, 1000), (10, 1000), (5, 1000)]
    drawn = np.concatenate(blocks)
    assert drawn.min() >= 0 and drawn.max() < 1000
    again = np.concatenate(
        list(resample_rows(1000, 25, np.random.default_rng(1), 10_000))
    )
    np.testing.assert_array_equal(drawn, again)
