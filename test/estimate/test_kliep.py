import numpy as np
import pytest

from slicing.estimate.features import feature_matrix, resolve_pairs
from slicing.estimate.kliep import fit_log_linear_ratio


def test_newton_and_lbfgs_reach_the_same_optimum(monkeypatch):
    rng = np.random.default_rng(0)
    patterns = rng.random((300, 6)) < 0.4
    features = feature_matrix(patterns, resolve_pairs("all", list("abcdef")))
    rows = rng.integers(1, 5, 300)
    target_mean = features.mean(0) * 0.8
    newton = fit_log_linear_ratio(features, rows, target_mean, l2=0.01)
    monkeypatch.setattr("slicing.estimate.kliep.NEWTON_MAX_FEATURES", 0)
    lbfgs = fit_log_linear_ratio(features, rows, target_mean, l2=0.01)
    np.testing.assert_allclose(newton.theta, lbfgs.theta, atol=1e-5)
    assert newton.converged and lbfgs.converged


def test_unreachable_target_means_are_reported_not_converged():
    features = np.array([[-1.0], [-1.0]])
    fit = fit_log_linear_ratio(features, np.array([1, 1]), np.array([0.5]))
    assert not fit.converged


def test_penalty_shrinks_towards_uniform_weights():
    features = np.array([[-1.0], [1.0]])
    loose = fit_log_linear_ratio(features, np.array([3, 1]), np.array([0.0]))
    tight = fit_log_linear_ratio(features, np.array([3, 1]), np.array([0.0]), l2=10.0)
    assert np.ptp(tight.log_weights) < np.ptp(loose.log_weights)
    assert loose.moment_gap < 1e-10


def test_pairs_are_checked():
    with pytest.raises(ValueError, match="pairs an SF with itself"):
        resolve_pairs([("a", "a")], ["a", "b"])
    with pytest.raises(ValueError, match="position in 0..1"):
        resolve_pairs([(0, 5)], ["a", "b"])
    with pytest.raises(ValueError, match="'all'"):
        resolve_pairs("every", ["a", "b"])
