"""Saving and loading with metadata (slicing/model/persistence.py)."""

import numpy as np
import pytest
import torch

from test.model.test_classifier import make_model, trained_model


@pytest.fixture(scope="module")
def two_slices():
    model, X, _, _ = trained_model()
    return model, X


def test_reordered_slice_names_are_refused_with_both_lists(tmp_path):
    path = tmp_path / "model.pt"
    make_model(slice_names=["right", "never"]).save(str(path))
    reordered = make_model(slice_names=["never", "right"])
    with pytest.raises(ValueError) as error:
        reordered.load(str(path))
    message = str(error.value)
    assert (
        "slice_names: saved ['right', 'never'], this model has ['never', 'right']"
        in message
    )
    assert "same order" in message


@pytest.mark.parametrize(
    "kwargs, difference",
    [
        (
            {"slice_names": ["left"]},
            "slice_names: saved ['right'], this model has ['left']",
        ),
        ({"cardinality": 3}, "cardinality: saved 2, this model has 3"),
        ({"expert_dim": 4}, "expert_dim: saved 8, this model has 4"),
        ({"indicator_dim": 8}, "indicator_dim: saved 0, this model has 8"),
        (
            {"small_slice_fraction": None},
            "small_slice_indicators: saved True, this model has False",
        ),
        ({"task_name": "other"}, "task_name: saved 'task', this model has 'other'"),
    ],
)
def test_other_architectures_are_refused(tmp_path, kwargs, difference):
    path = tmp_path / "model.pt"
    make_model().save(str(path))
    with pytest.raises(ValueError, match="cannot load") as error:
        make_model(**kwargs).load(str(path))
    assert difference in str(error.value)


def test_round_trip_keeps_predictions(two_slices, tmp_path):
    model, X = two_slices
    path = tmp_path / "nested" / "model.pt"
    model.save(str(path))
    fresh = make_model()
    fresh.load(str(path))
    np.testing.assert_array_equal(fresh.predict_proba(X), model.predict_proba(X))


def test_a_file_without_metadata_loads_with_a_warning(two_slices, tmp_path):
    model, X = two_slices
    path = tmp_path / "old.pt"
    torch.save(model.state_dict(), path)  # what save() wrote before metadata
    fresh = make_model()
    with pytest.warns(UserWarning, match="cannot be checked; save the model again"):
        fresh.load(str(path))
    np.testing.assert_array_equal(fresh.predict_proba(X), model.predict_proba(X))


def test_a_file_from_before_indicator_dim_is_read_as_linear_indicators(tmp_path):
    """Files saved before ``indicator_dim`` existed hold linear indicators."""
    path = tmp_path / "linear.pt"
    linear = make_model()
    linear.save(str(path))
    content = torch.load(path, weights_only=True)
    del content["metadata"]["indicator_dim"]  # what earlier versions wrote
    torch.save(content, path)
    fresh = make_model()
    fresh.load(str(path))
    X = torch.randn(5, 2)
    np.testing.assert_array_equal(fresh.predict_proba(X), linear.predict_proba(X))
    with pytest.raises(ValueError, match="indicator_dim: saved 0, this model has 8"):
        make_model(indicator_dim=None).load(str(path))


def test_small_slice_marks_are_saved_and_a_file_from_before_them_loads(tmp_path):
    path = tmp_path / "small.pt"
    model = make_model(slice_names=["edge", "right"])
    model.slice_heads.small_slices[0] = True
    model.save(str(path))
    fresh = make_model(slice_names=["edge", "right"])
    fresh.load(str(path))
    assert fresh.small_slices == ["edge"]
    # The typical member probabilities are saved; a file from before them loads
    # with the 0.5 a new model starts from.
    model.slice_heads.typical_member_probability.copy_(torch.tensor([0.7, 0.2, 0.4]))
    model.save(str(path))
    fresh.load(str(path))
    typical = fresh.slice_heads.typical_member_probability
    torch.testing.assert_close(typical, torch.tensor([0.7, 0.2, 0.4]))
    content = torch.load(path, weights_only=True)
    name = "module_pool.task_slice_heads.typical_member_probability"
    del content["state_dict"][name]
    torch.save(content, path)
    fresh.load(str(path))
    assert fresh.slice_heads.typical_member_probability.tolist() == [0.5] * 3
    assert fresh.small_slices == ["edge"]
    # Files saved before small_slice_fraction existed had no small slices.
    before = make_model(small_slice_fraction=None)
    before.save(str(path))
    content = torch.load(path, weights_only=True)
    del content["metadata"]["small_slice_indicators"]
    torch.save(content, path)
    make_model(small_slice_fraction=None).load(str(path))
    upgraded = make_model()
    upgraded.slice_heads.small_slices[0] = True  # the load clears every mark
    upgraded.load(str(path))  # no slice small: it computes what was saved
    assert upgraded.small_slices == []
    X = torch.randn(6, 2)
    np.testing.assert_array_equal(upgraded.predict_proba(X), before.predict_proba(X))
