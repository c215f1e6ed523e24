"""snorkel's predict/score contract (slicing/model/inference.py)."""

import numpy as np
import pytest
import torch
from snorkel.classification import DictDataLoader, DictDataset
from snorkel.classification.multitask_classifier import MultitaskClassifier
from torch import nn

from slicing.matrix import make_slice_matrix
from slicing.model.classifier import SliceAwareClassifier
from slicing.model.combiner import SliceCombinerModule
from test.model.test_classifier import make_model, points, trained_model

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def trained():
    model, X, Y, right = trained_model()
    loader = model.make_slice_dataloader(
        DictDataset.from_tensors(X, Y, "valid"),
        make_slice_matrix(right[:, None], ["right"]),
        batch_size=64,
    )
    return model, X, Y, right, loader


def test_predict_on_a_dataloader_returns_snorkels_dict_keyed_by_label(trained):
    model, X, Y, right, loader = trained
    results = model.predict(loader, return_preds=True)
    assert set(results) == {"golds", "probs", "preds"}
    expected = {"task"} | {
        f"task_slice:{name}_{kind}"
        for name in ["right", "base"]
        for kind in "ind pred".split()
    }
    for part in results.values():
        assert set(part) == expected
        assert all(isinstance(value, torch.Tensor) for value in part.values())
    # The base task's entries are exactly MultitaskClassifier.predict's.
    theirs = MultitaskClassifier.predict(model, loader, return_preds=True)
    for part in ["golds", "probs", "preds"]:
        assert torch.equal(results[part]["task"], theirs[part]["task"])
    np.testing.assert_allclose(
        results["probs"]["task"].numpy(), model.predict_proba(X), rtol=1e-6
    )
    assert results["golds"]["task_slice:right_ind"].numpy().tolist() == right.tolist()
    slice_golds = results["golds"]["task_slice:right_pred"].numpy()
    assert (slice_golds[~right] == -1).all()
    assert (slice_golds[right] == Y.numpy()[right]).all()
    # Without return_preds, as in snorkel: golds and probs only.
    assert set(model.predict(loader)) == {"golds", "probs"}
    assert model.predict(loader, remap_labels={"task_slice:right_ind": None})[
        "probs"
    ].keys() == expected - {"task_slice:right_ind"}


def test_predict_on_inputs_returns_classes_and_refuses_loader_options(trained):
    model, X, _, _, _ = trained
    preds = model.predict(X)
    assert isinstance(preds, np.ndarray) and preds.shape == (len(X),)
    with pytest.raises(ValueError, match="apply to a DictDataLoader; got Tensor"):
        model.predict(X, return_preds=True)


def test_score_reports_every_slice_label_like_snorkel(trained):
    model, X, Y, right, loader = trained
    scores = model.score([loader])
    metrics = ["accuracy", "f1"]
    labels = ["task"] + [
        f"task_slice:{name}_{kind}"
        for name in ["right", "base"]
        for kind in ["ind", "pred"]
    ]
    assert set(scores) == {
        f"{label}/SnorkelDataset/valid/{metric}"
        for label in labels
        for metric in (metrics if not label.endswith("_ind") else ["f1"])
    }
    # A slice's _pred label is scored on its own predictor head, on its members.
    outputs = model.forward({"input_data": X}, ["task_slice:right_pred"])
    slice_preds = outputs["task_slice:right_pred_head"].argmax(1).numpy()
    y = Y.numpy()
    assert scores[
        "task_slice:right_pred/SnorkelDataset/valid/accuracy"
    ] == pytest.approx((slice_preds[right] == y[right]).mean())
    frame = model.score([loader], as_dataframe=True)
    assert len(frame) == len(scores)


def test_trainer_validation_logging_sees_the_slice_keys(tmp_path):
    X, Y, right = points(200)
    model = make_model()
    S = make_slice_matrix(right[:, None], ["right"])
    train = model.make_slice_dataloader(
        DictDataset.from_tensors(X, Y, "train"), S, batch_size=50
    )
    valid = model.make_slice_dataloader(
        DictDataset.from_tensors(X, Y, "valid"), S, batch_size=50
    )
    trainer = model.fit(
        [train, valid],
        n_epochs=1,
        lr=0.01,
        seed=0,
        progress_bar=False,
        logging=True,
        log_writer="json",
        log_writer_config={"log_dir": str(tmp_path)},
    )
    assert "task_slice:right_pred/SnorkelDataset/valid/accuracy" in trainer.metrics
    assert "task_slice:right_ind/SnorkelDataset/valid/f1" in trainer.metrics


def test_score_slices_needs_the_membership_label(trained):
    model, X, Y, _, _ = trained
    plain = DictDataLoader(DictDataset.from_tensors(X, Y, "valid"))
    with pytest.raises(ValueError, match=r"lacks labels \['task_slice_membership'\]"):
        model.score_slices([plain])


def test_prediction_restores_each_submodules_mode():
    backbone = nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.ReLU())
    model = SliceAwareClassifier(backbone, head_dim=8, slice_names=["a"])
    backbone[1].eval()  # the user froze the batch norm
    model.predict_proba(torch.randn(5, 2))
    model.predict_slice_indicators(torch.randn(5, 2))
    assert model.training and backbone[0].training
    assert not backbone[1].training


def test_slice_attention_follows_the_indicator_and_sums_to_one():
    # Its own model, trained longer than the shared fixture: with the decaying
    # member weight the indicator of this 23% slice reaches 0.8 on members after
    # about 10 epochs (0.89 after 16).
    model, X, _, right = trained_model(n_epochs=16)
    weights = model.predict_slice_attention(X, batch_size=37)  # uneven batches
    assert list(weights.columns) == ["right", "base"]
    assert len(weights) == len(X)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-6)
    # The default attention is softmax(Q) with the base at 0: the slice's weight
    # is the indicator's probability.
    np.testing.assert_allclose(
        weights["right"], model.predict_slice_indicators(X)["right"], rtol=1e-5
    )
    assert weights["right"][right].mean() > 0.8
    assert weights["right"][~right].mean() < 0.2


def test_slice_attention_uses_the_models_combiner():
    model = SliceAwareClassifier(
        nn.Linear(2, 4),
        head_dim=4,
        slice_names=["a", "b"],
        combiner=SliceCombinerModule(mode="uniform"),
    )
    weights = model.predict_slice_attention(torch.randn(6, 2))
    assert list(weights.columns) == ["a", "b", "base"]
    np.testing.assert_allclose(weights.to_numpy(), 1 / 3, rtol=1e-6)
