import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slicing.discover.scoring import error_interval, score_upper_bound, sliceline_score


def test_score_follows_the_sliceline_formula():
    score = sliceline_score(np.array([20]), np.array([8.0]), 1000, 0.1, 0.9)
    expected = 0.9 * (0.4 / 0.1 - 1) - 0.1 * (1000 / 20 - 1)
    assert score[0] == pytest.approx(expected)


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    alpha=st.floats(0.05, 1.0),
    min_support=st.integers(1, 20),
)
def test_upper_bound_covers_every_sub_slice(seed, alpha, min_support):
    rng = np.random.default_rng(seed)
    errors = rng.random(60) * rng.integers(0, 2, 60)
    parent = rng.random(60) < 0.7
    n_rows, mean_error = 200, 0.2
    bound = score_upper_bound(
        np.array([parent.sum()]),
        np.array([errors[parent].sum()]),
        np.array([errors[parent].max(initial=0.0)]),
        min_support,
        n_rows,
        mean_error,
        alpha,
    )[0]
    for _ in range(30):  # random sub-slices of the parent
        child = parent & (rng.random(60) < rng.random())
        if child.sum() >= min_support:
            score = sliceline_score(
                np.array([child.sum()]),
                np.array([errors[child].sum()]),
                n_rows,
                mean_error,
                alpha,
            )[0]
            assert score <= bound + 1e-9


def test_upper_bound_is_minus_infinity_below_min_support():
    bound = score_upper_bound(
        np.array([4]), np.array([4.0]), np.array([1.0]), 5, 100, 0.1, 1.0
    )
    assert bound[0] == -np.inf


def test_binary_interval_is_wilson():
    low, high = error_interval(np.array([10]), np.array([9.0]), None, binary=True)
    assert (round(low[0], 3), round(high[0], 3)) == (0.596, 0.982)


def test_loss_interval_is_normal_approximation():
    losses = np.array([0.5, 1.5, 2.0, 0.0])
    low, high = error_interval(
        np.array([4]), np.array([losses.sum()]), np.array([(losses**2).sum()]), False
    )
    half_width = 1.959964 * losses.std() / 2
    assert low[0] == pytest.approx(max(losses.mean() - half_width, 0), rel=1e-5)
    assert high[0] == pytest.approx(losses.mean() + half_width, rel=1e-5)
