import numpy as np

from slicing.labeling.synthetic import make_sliced_votes
from slicing.labeling.triplets import pairwise_agreements, triplet_accuracies


def one_coin_votes(accuracy, n_rows, cardinality, coverage=0.6, seed=0):
    rng = np.random.default_rng(seed)
    golds = rng.integers(0, cardinality, n_rows)
    right = rng.random((n_rows, len(accuracy))) < accuracy
    wrong = (golds[:, None] + rng.integers(1, cardinality, right.shape)) % cardinality
    L = np.where(right, golds[:, None], wrong)
    return np.where(rng.random(right.shape) < coverage, L, -1)


def test_triplets_recover_binary_and_multiclass_accuracies():
    accuracy = np.array([0.9, 0.8, 0.7, 0.65, 0.6])
    for cardinality in (2, 3):
        L = one_coin_votes(accuracy, 30_000, cardinality)
        estimate = triplet_accuracies(L, np.ones((len(L), 1), bool), cardinality)[0]
        assert np.abs(estimate - accuracy).max() < 0.03, (cardinality, estimate)


def test_three_lfs_give_exactly_the_triplet_formula():
    L = one_coin_votes(np.array([0.9, 0.75, 0.7]), 5_000, 2)
    _, agreement, _ = pairwise_agreements(L, np.ones((len(L), 1), bool), 2)
    M = agreement[0]
    b0 = np.sqrt(M[0, 1] * M[0, 2] / M[1, 2])
    estimate = triplet_accuracies(L, np.ones((len(L), 1), bool), 2)[0]
    assert abs(estimate[0] - (1 + b0) / 2) < 1e-6


def test_triplets_inside_slices_see_slice_dependent_accuracy():
    data = make_sliced_votes(20_000, 8, 4, seed=1)
    groups = np.column_stack(
        [np.ones(20_000, bool), data.S.view(bool).reshape(20_000, -1)]
    )
    estimate = triplet_accuracies(data.L, groups, 2)
    assert np.nanmean(np.abs(estimate - data.lf_slice_accuracy().T)) < 0.03


def test_one_class_lfs_and_tiny_groups_get_nan():
    L = one_coin_votes(np.array([0.9, 0.8, 0.7]), 2_000, 2)
    unipolar = np.where(L[:, 0] == 1, 1, -1)
    L = np.column_stack([L, unipolar])
    tiny = np.zeros((len(L), 1), bool)
    tiny[:5] = True
    estimate = triplet_accuracies(L, np.column_stack([np.ones(len(L), bool), tiny]), 2)
    assert np.isnan(estimate[0, 3]) and np.isfinite(estimate[0, :3]).all()
    assert np.isnan(estimate[1]).all()
