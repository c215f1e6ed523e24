import numpy as np

from slicing.labeling.synthetic import make_sliced_votes


def test_synthetic_votes_follow_the_requested_accuracies():
    data = make_sliced_votes(50_000, 4, 2, accuracy_in=0.85, accuracy_out=0.6, seed=0)
    voted = data.L != -1
    right = data.L == data.Y[:, None]
    home = data.S["slice_0"]
    assert abs(right[home & voted[:, 0], 0].mean() - 0.85) < 0.01
    assert abs(right[~home & voted[:, 0], 0].mean() - 0.6) < 0.01
    coverage = voted.mean(axis=0)
    assert ((coverage > 0.28) & (coverage < 0.62)).all()
    both = data.S["slice_0"] & data.S["slice_1"]
    assert both.any()  # slices overlap
    np.testing.assert_allclose(data.lf_slice_accuracy()[0, 1], 0.85)
