import numpy as np

from slicing.labeling.logistic import newton_step, sigmoid, slice_logits, slice_patterns


def fit(trials, successes, patterns, centers, free, prior_strength, steps=30):
    theta = np.zeros(free.shape)
    for _ in range(steps):
        theta = newton_step(
            theta, trials, successes, patterns, centers, free, prior_strength
        )
    return theta


def test_patterns_cover_every_row():
    rng = np.random.default_rng(0)
    S = rng.random((500, 3)) < 0.3
    patterns, pattern_of_row = slice_patterns(S)
    np.testing.assert_array_equal(patterns[pattern_of_row], S)
    assert len(np.unique(patterns, axis=0)) == len(patterns)
    wide = rng.random((50, 70)) < 0.5
    patterns, pattern_of_row = slice_patterns(wide)
    np.testing.assert_array_equal(patterns[pattern_of_row], wide)


def test_a_big_slice_gets_its_own_rate_and_a_small_one_is_shrunk():
    patterns = np.array([[False], [True]])
    centers = np.array([[0.5]])
    free = np.ones((1, 2), bool)
    # 0.6 outside, 0.9 inside, with 10,000 trials each: the data wins.
    big = fit(
        np.array([[1e4, 1e4]]), np.array([[6e3, 9e3]]), patterns, centers, free, 50.0
    )
    rates = sigmoid(slice_logits(big, centers, free, patterns))[:, 0]
    np.testing.assert_allclose(rates, [0.6, 0.9], atol=0.005)
    # With 20 trials inside, the slice moves about 20 / 70 of the way.
    small_centers = np.array([[20 / 10_020]])
    small = fit(
        np.array([[1e4, 20.0]]),
        np.array([[6e3, 18.0]]),
        patterns,
        small_centers,
        free,
        50.0,
    )
    inside = sigmoid(slice_logits(small, small_centers, free, patterns))[1, 0]
    assert 0.62 < inside < 0.75


def test_fixed_coefficients_stay_zero_and_equal_the_global_rate():
    patterns = np.array([[False], [True]])
    free = np.array([[True, False]])
    theta = fit(
        np.array([[100.0, 100.0]]),
        np.array([[50.0, 90.0]]),
        patterns,
        np.array([[0.5]]),
        free,
        0.0,
    )
    assert theta[0, 1] == 0
    assert abs(sigmoid(theta[0, 0]) - 140 / 200) < 0.01
