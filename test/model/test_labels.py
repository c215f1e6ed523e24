"""Base-label checks before training (slicing/model/labels.py)."""

import numpy as np
import pytest
import torch
from snorkel.classification import DictDataset

from slicing.matrix import make_slice_matrix
from slicing.model.labels import validate_base_labels
from test.model.test_classifier import make_model, points

NAN = float("nan")


@pytest.mark.parametrize(
    "labels, message",
    [
        (
            torch.tensor([[0.5, 0.5], [NAN, NAN], [0.2, 0.8], [NAN, 1.0]]),
            r"NaN or infinite values in rows \[1, 3\] \(2 of 4 rows\)",
        ),
        (
            torch.tensor([[1.5, -0.5], [0.5, 0.5]]),
            r"negative values in rows \[0\] \(1 of 2 rows\); expected probabilities",
        ),
        (
            torch.tensor([[0.5, 0.5], [0.7, 0.7], [0.1, 0.1]]),
            r"do not sum to 1 in rows \[1, 2\] \(2 of 3 rows\) \(row 1 sums to 1\.4\)",
        ),
        (
            torch.full((7,), -1),
            r"all -1 \(no label\) in its 7 rows: nothing to learn",
        ),
        (
            torch.full((3, 2), -1.0),
            r"all -1 \(no label\) in its 3 rows",
        ),
    ],
)
def test_bad_labels_are_refused_naming_the_rows(labels, message):
    with pytest.raises(ValueError, match=message):
        validate_base_labels(labels, "task", 2)


def test_many_bad_rows_are_shown_as_the_first_five_and_the_count():
    labels = torch.full((100, 2), 0.9)
    with pytest.raises(
        ValueError, match=r"rows \[0, 1, 2, 3, 4, \.\.\.\] \(100 of 100"
    ):
        validate_base_labels(labels, "task", 2)


def test_good_soft_labels_pass_with_unlabelled_rows_and_rounding():
    labels = torch.tensor([[0.3, 0.7 + 1e-4], [-1.0, -1.0], [1.0, 0.0]])
    validate_base_labels(labels, "task", 2)


def test_nan_soft_labels_never_reach_training():
    X, _, right = points(40)
    soft = torch.full((40, 2), 0.5)
    soft[3] = NAN
    dataset = DictDataset.from_tensors(X, soft, "train")
    S = make_slice_matrix(right[:, None], ["right"])
    model = make_model()
    with pytest.raises(ValueError, match=r"rows \[3\]"):
        model.make_slice_dataloader(dataset, S)
    # Labels changed after the loader was made are checked again by fit.
    loader = model.make_slice_dataloader(
        DictDataset.from_tensors(X, torch.full((40, 2), 0.5), "train"), S
    )
    loader.dataset.Y_dict["task"][5] = NAN
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(ValueError, match=r"rows \[5\]"):
        model.fit([loader], n_epochs=1, progress_bar=False)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_all_abstain_hard_labels_are_refused_by_make_slice_dataloader():
    X, _, right = points(10)
    dataset = DictDataset.from_tensors(X, torch.full((10,), -1), "train")
    with pytest.raises(ValueError, match="nothing to learn"):
        make_model().make_slice_dataloader(
            dataset, make_slice_matrix(np.asarray(right)[:, None], ["right"])
        )
