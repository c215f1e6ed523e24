import numpy as np
import pandas as pd
import pytest
import torch
from snorkel.classification import DictDataset
from snorkel.classification.data import collate_dicts
from snorkel.labeling import PandasLFApplier, labeling_function
from snorkel.labeling.model import LabelModel
from torch import nn

from slicing.apply.pandas import PandasSFApplier
from slicing.matrix import make_slice_matrix
from slicing.model.classifier import SliceAwareClassifier, collate_stacked
from slicing.model.combiner import SliceCombinerModule
from slicing.model.losses import slice_losses
from slicing.sf.core import slicing_function

torch.set_num_threads(1)


def points(n: int = 400, seed: int = 0, cardinality: int = 2):
    """2-D points, a linear boundary, and a slice 'right' (x > 0.5)."""
    generator = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 2, generator=generator) * 2 - 1
    if cardinality == 2:
        Y = (X[:, 0] + X[:, 1] > 0).long()
    else:
        Y = torch.bucketize(
            X[:, 0].contiguous(), torch.linspace(-1, 1, cardinality + 1)[1:-1]
        )
    right = (X[:, 0] > 0.5).numpy()
    return X, Y, right


def make_model(slice_names=("right",), **kwargs) -> SliceAwareClassifier:
    torch.manual_seed(0)
    backbone = nn.Sequential(nn.Linear(2, 8), nn.ReLU())
    return SliceAwareClassifier(
        backbone, head_dim=8, slice_names=list(slice_names), **kwargs
    )


def trained_model(
    seed: int = 0, n_epochs: int = 8, **kwargs
) -> tuple[SliceAwareClassifier, torch.Tensor, torch.Tensor, np.ndarray]:
    X, Y, right = points()
    model = make_model(**kwargs)
    dataset = DictDataset.from_tensors(X, Y, "train")
    S = make_slice_matrix(right[:, None], ["right"])
    loader = model.make_slice_dataloader(dataset, S, batch_size=32, shuffle=True)
    model.fit([loader], n_epochs=n_epochs, lr=0.05, seed=seed, progress_bar=False)
    return model, X, Y, right


@pytest.fixture(scope="module")
def trained():
    return trained_model()


def test_learns_the_task_and_the_slice_indicator(trained):
    model, X, Y, right = trained
    assert (model.predict(X) == Y.numpy()).mean() > 0.9
    outputs = model.forward({"input_data": X}, ["task_slice:right_ind"])
    indicator = outputs["task_slice:right_ind_head"].argmax(dim=1).numpy().astype(bool)
    assert (indicator == right).mean() > 0.9


def test_predict_needs_only_inputs_and_probabilities_sum_to_one(trained):
    model, X, _, _ = trained
    probs = model.predict_proba(X)
    assert probs.shape == (len(X), 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(
        model.predict({"input_data": X}, batch_size=7), probs.argmax(1)
    )
    dataset_only_inputs = DictDataset("d", "test", {"input_data": X}, {})
    np.testing.assert_array_equal(model.predict(dataset_only_inputs), probs.argmax(1))
    with pytest.raises(ValueError, match="lack the field 'input_data'"):
        model.predict({"other": X})
    with pytest.raises(TypeError, match="got list"):
        model.predict([1, 2])


def test_same_seed_gives_same_model_and_modules_are_not_wrapped(trained):
    model, X, _, _ = trained
    again, _, _, _ = trained_model(seed=0)
    np.testing.assert_array_equal(model.predict_proba(X), again.predict_proba(X))
    assert not any(isinstance(m, nn.DataParallel) for m in model.modules())
    assert {p.device.type for p in model.parameters()} == {"cpu"}


def test_save_load_round_trip(trained, tmp_path):
    model, X, _, _ = trained
    path = tmp_path / "models" / "model.pt"
    model.save(str(path))
    fresh = make_model()
    assert not np.allclose(fresh.predict_proba(X), model.predict_proba(X))
    fresh.load(str(path))
    np.testing.assert_array_equal(fresh.predict_proba(X), model.predict_proba(X))


def test_score_slices_keys_and_values(trained):
    model, X, Y, right = trained
    dataset = DictDataset.from_tensors(X, Y, "valid")
    loader = model.make_slice_dataloader(
        dataset, make_slice_matrix(right[:, None], ["right"])
    )
    scores = model.score_slices([loader])
    preds = model.predict(X)
    y = Y.numpy()
    assert scores["task/SnorkelDataset/valid/accuracy"] == pytest.approx(
        (preds == y).mean()
    )
    assert scores[
        "task_slice:right_pred/SnorkelDataset/valid/accuracy"
    ] == pytest.approx((preds[right] == y[right]).mean())
    assert scores[
        "task_slice:base_pred/SnorkelDataset/valid/accuracy"
    ] == pytest.approx((preds == y).mean())
    frame = model.score_slices([loader], as_dataframe=True)
    assert list(frame.columns) == ["label", "dataset", "split", "metric", "score"]
    assert len(frame) == len(scores) == 6


@pytest.mark.parametrize(
    "task_name, slice_names",
    [("predict", ["predator", "kind"]), ("kind", ["pred", "ind"])],
)
def test_score_slices_parses_names_exactly(task_name, slice_names):
    # snorkel.slicing picks labels by substring ("pred" in label), so these misfire.
    X, Y, _ = points(60)
    model = make_model(slice_names=slice_names, task_name=task_name)
    members = np.zeros((60, 2), bool)
    members[:10, 0] = True
    members[30:, 1] = True
    dataset = DictDataset("d", "test", {"input_data": X}, {task_name: Y})
    loader = model.make_slice_dataloader(
        dataset, make_slice_matrix(members, slice_names)
    )
    scores = model.score_slices([loader])
    preds, y = model.predict(X), Y.numpy()
    for index, name in enumerate(slice_names):
        mask = members[:, index]
        key = f"{task_name}_slice:{name}_pred/d/test/accuracy"
        assert scores[key] == pytest.approx((preds[mask] == y[mask]).mean())
    assert len(scores) == 2 * (1 + len(slice_names) + 1)


def test_empty_slice_scores_nan_and_a_batch_without_members_has_finite_loss():
    X, Y, _ = points(40)
    model = make_model()
    S = make_slice_matrix(np.zeros((40, 1), bool), ["right"])
    loader = model.make_slice_dataloader(
        DictDataset.from_tensors(X, Y, "train"), S, batch_size=8
    )
    X_batch, Y_batch = next(iter(loader))
    losses, _ = model.calculate_loss(X_batch, Y_batch)
    assert set(losses) == {"task", "task_slice_indicators", "task_slice_predictors"}
    assert all(torch.isfinite(loss) for loss in losses.values())
    scores = model.score_slices([loader])
    assert np.isnan(scores["task_slice:right_pred/SnorkelDataset/train/accuracy"])


def test_calculate_loss_takes_the_slice_losses_of_batch_slice_losses():
    X, Y, right = points(40)
    seen = {}

    class Doubled(SliceAwareClassifier):
        def batch_slice_losses(self, indicator_logits, predictor_logits, *rest):
            seen["shapes"] = (indicator_logits.shape, predictor_logits.shape)
            indicator, predictor = super().batch_slice_losses(
                indicator_logits, predictor_logits, *rest
            )
            return 2 * indicator, 2 * predictor

    torch.manual_seed(0)
    plain = make_model()
    doubled = Doubled(nn.Sequential(nn.Linear(2, 8), nn.ReLU()), 8, ["right"])
    doubled.load_state_dict(plain.state_dict())
    S = make_slice_matrix(right[:, None], ["right"])
    batch = next(
        iter(
            plain.make_slice_dataloader(
                DictDataset.from_tensors(X, Y, "train"), S, batch_size=40
            )
        )
    )
    expected, _ = plain.calculate_loss(*batch)
    losses, _ = doubled.calculate_loss(*batch)
    assert seen["shapes"] == (torch.Size([40, 2]), torch.Size([40, 2, 2]))
    for part in ("task_slice_indicators", "task_slice_predictors"):
        assert losses[part].item() == pytest.approx(2 * expected[part].item())
    assert losses["task"].item() == pytest.approx(expected["task"].item())


def test_make_slice_dataloader_leaves_the_callers_dataset_unchanged_and_takes_int64():
    X, Y, right = points(50)
    dataset = DictDataset.from_tensors(X, Y, "train")
    S = np.rec.fromarrays([right.astype(np.int64)], names=["right"])
    loader = make_model().make_slice_dataloader(dataset, S)
    assert list(dataset.Y_dict) == ["task"]
    assert (
        loader.dataset.Y_dict["task_slice_membership"][:, 0].numpy().tolist()
        == right.tolist()
    )


@pytest.mark.parametrize(
    "S_names, rows, labels, message",
    [
        (["left"], 50, None, r"missing \['right'\], unexpected \['left'\]"),
        (["right"], 49, None, "49 rows but 50 were expected"),
        (["right"], 50, torch.full((50,), 2), "hold 2 at row 0"),
    ],
)
def test_make_slice_dataloader_bad_input(S_names, rows, labels, message):
    X, Y, _ = points(50)
    dataset = DictDataset.from_tensors(X, Y if labels is None else labels, "train")
    with pytest.raises(ValueError, match=message):
        make_model().make_slice_dataloader(
            dataset, make_slice_matrix(np.zeros((rows, 1), bool), S_names)
        )


def test_make_slice_dataloader_needs_base_labels():
    X, Y, right = points(20)
    dataset = DictDataset("d", "train", {"input_data": X}, {"other": Y})
    with pytest.raises(ValueError, match="base task 'task': labels missing"):
        make_model().make_slice_dataloader(
            dataset, make_slice_matrix(right[:, None], ["right"])
        )


def test_constructor_refuses_bad_arguments():
    with pytest.raises(ValueError, match="reserved"):
        make_model(slice_names=["base"])
    with pytest.raises(ValueError, match="dataparallel=True"):
        make_model(dataparallel=True)
    with pytest.raises(ValueError, match="cardinality must be an int >= 2"):
        make_model(cardinality=1)
    with pytest.raises(ValueError, match="balance_indicators must be True, False"):
        make_model(balance_indicators=2.0)
    with pytest.raises(ValueError, match="member_weight_decay must be a finite"):
        make_model(member_weight_decay=-1.0)
    with pytest.raises(ValueError, match="base_predictor_rows must be one of"):
        make_model(base_predictor_rows="members")
    for bad in [0, -0.1, 1.5, True, "3%", float("nan")]:
        with pytest.raises(ValueError, match="small_slice_fraction must be None or"):
            make_model(small_slice_fraction=bad)


def test_base_predictor_is_weighted_by_the_combiners_attention_by_default():
    torch.manual_seed(4)
    model = make_model(slice_names=("a", "b"))  # base_predictor_rows="attention"
    q = torch.randn(10, 3, requires_grad=True)
    p = torch.randn(10, 3, 2, requires_grad=True)
    membership = torch.rand(10, 3) < 0.5
    membership[:, -1] = True
    labels = torch.randint(0, 2, (10,))
    indicator, predictor = model.batch_slice_losses(q, p, membership, labels)
    combiner = model.module_pool["task_slice_combiner"]
    attention = combiner.attention_weights(q, p)[:, -1].detach()
    expected = slice_losses(q, p, membership, labels, base_row_weights=attention)
    torch.testing.assert_close(indicator, expected[0])
    torch.testing.assert_close(predictor, expected[1])
    plain = make_model(
        slice_names=("a", "b"), base_predictor_rows="all"
    ).batch_slice_losses(q, p, membership, labels)
    torch.testing.assert_close(plain[1], slice_losses(q, p, membership, labels)[1])
    assert not torch.allclose(predictor, plain[1])
    # the weights are not differentiated: the predictor loss moves no indicator
    (q_grad,) = torch.autograd.grad(predictor, [q], allow_unused=True)
    assert q_grad is None or q_grad.abs().sum() == 0


def test_zero_slices_train_on_the_base_slice_only():
    X, Y, _ = points(100)
    model = make_model(slice_names=[])
    loader = model.make_slice_dataloader(
        DictDataset.from_tensors(X, Y, "train"), None, batch_size=25
    )
    model.fit([loader], n_epochs=2, lr=0.05, seed=0, progress_bar=False)
    assert model.slice_heads.slice_names == ["base"]
    assert set(model.score_slices([loader])) >= {
        "task_slice:base_pred/SnorkelDataset/train/f1"
    }


def test_multiclass_with_expert_dim_and_attention_mode():
    X, Y, right = points(300, cardinality=3)
    model = make_model(
        cardinality=3,
        expert_dim=6,
        combiner=SliceCombinerModule(mode="indicator"),
        share_final_head=False,
    )
    assert model.expert_dim == 6
    loader = model.make_slice_dataloader(
        DictDataset.from_tensors(X, Y, "train"),
        make_slice_matrix(right[:, None], ["right"]),
        batch_size=32,
    )
    model.fit([loader], n_epochs=10, lr=0.05, seed=0, progress_bar=False)
    assert (model.predict(X) == Y.numpy()).mean() > 0.8
    assert "task/SnorkelDataset/train/f1_macro" in model.score_slices([loader])


def test_parameters_grow_by_one_expert_map_and_one_indicator_per_slice():
    def count(model):
        return sum(p.numel() for p in model.parameters())

    def grown(**kwargs):
        return count(make_model(slice_names=["a", "b"], **kwargs)) - count(
            make_model(slice_names=["a"], **kwargs)
        )

    expert, linear, mlp = 8 * 8 + 8, 8 + 1, 8 * 8 + 8 + 8 + 1
    assert grown(small_slice_fraction=None) == expert + linear
    assert grown() == expert + linear + mlp  # and the small-slice MLP
    assert grown(indicator_dim=None) == expert + mlp  # small slices read it too


def test_from_labeling_functions_through_label_model_to_soft_labels():
    X, Y, _ = points(400)
    frame = pd.DataFrame({"x0": X[:, 0].numpy(), "x1": X[:, 1].numpy()})

    @labeling_function()
    def sum_positive(row):
        return 1 if row.x0 + row.x1 > 0.1 else (0 if row.x0 + row.x1 < -0.1 else -1)

    @labeling_function()
    def x0_sign(row):
        return int(row.x0 > 0)

    @labeling_function()
    def x1_sign(row):
        return int(row.x1 > 0)

    L = PandasLFApplier([sum_positive, x0_sign, x1_sign]).apply(
        frame, progress_bar=False
    )
    label_model = LabelModel(cardinality=2, verbose=False)
    label_model.fit(L, n_epochs=100, seed=0)
    soft = torch.tensor(label_model.predict_proba(L), dtype=torch.float32)

    @slicing_function()
    def right(row):
        return row.x0 > 0.5

    S = PandasSFApplier([right]).apply(frame, progress_bar=False)
    model = make_model()
    loader = model.make_slice_dataloader(
        DictDataset.from_tensors(X, soft, "train"),
        S,
        batch_size=32,
        shuffle=True,
    )
    model.fit([loader], n_epochs=8, lr=0.05, seed=0, progress_bar=False)
    assert (model.predict(X) == Y.numpy()).mean() > 0.85
    # scoring against soft labels uses their most likely class
    assert model.score_slices([loader])["task/SnorkelDataset/train/accuracy"] > 0.85


def test_collate_stacked_equals_snorkels_collate_dicts():
    items = [
        (
            {
                "x": torch.tensor([i, i + 1.0]),
                "uid": f"row{i}",
                "tokens": torch.arange(i + 1),
            },
            {
                "task": torch.tensor(i % 2),
                "task_slice_membership": torch.tensor([True, i > 0]),
            },
        )
        for i in range(3)
    ]
    ours_X, ours_Y = collate_stacked(items)
    snorkel_X, snorkel_Y = collate_dicts(items)
    assert ours_X["uid"] == snorkel_X["uid"] == ["row0", "row1", "row2"]
    for name in ["x", "tokens"]:
        assert torch.equal(ours_X[name], snorkel_X[name])
    for name in snorkel_Y:
        assert torch.equal(ours_Y[name], snorkel_Y[name])
        assert ours_Y[name].dtype == snorkel_Y[name].dtype


@pytest.mark.parametrize("device", ["cpu", -1, torch.device("cpu")])
def test_device_is_respected_in_any_spelling(device):
    model = make_model(device=device)
    assert model.target_device == torch.device("cpu")
    assert {p.device for p in model.parameters()} == {torch.device("cpu")}


def test_model_outputs_feed_monitoring_as_arrays():
    # The model knows nothing of monitoring: callers pass its arrays to slice_scores.
    from slicing.monitor.analysis import SFAnalysis
    from slicing.monitor.scores import slice_scores

    torch.manual_seed(0)
    X = torch.randn(400, 2)
    Y = (X[:, 0] > 0).long()
    in_corner = (X[:, 1] > 0.8).numpy()
    S = make_slice_matrix(in_corner[:, None], ["corner"])
    model = SliceAwareClassifier(
        nn.Sequential(nn.Linear(2, 8), nn.ReLU()), head_dim=8, slice_names=["corner"]
    )
    loader = model.make_slice_dataloader(
        DictDataset.from_tensors(X, Y, split="train"), S, batch_size=32, shuffle=True
    )
    model.fit([loader], n_epochs=30, lr=0.05, seed=0, progress_bar=False)
    assert not hasattr(model, "slice_table")

    table = slice_scores(
        Y.numpy(), S, probs=model.predict_proba(X), metrics=["accuracy"], min_support=10
    )
    assert table.loc["overall", "n"] == 400
    assert table.loc["corner", "n"] == int(in_corner.sum())
    assert table.loc["overall", "accuracy"] > 0.9

    indicators = model.predict_slice_indicators(X)
    assert indicators.columns.tolist() == ["corner"] and len(indicators) == 400
    # The learned indicator separates the slice from the rest (no S at inference).
    assert (
        indicators["corner"][in_corner].mean()
        > indicators["corner"][~in_corner].mean() + 0.3
    )
    agreement = SFAnalysis(S).indicator_agreement(indicators)
    assert agreement.index.tolist() == ["corner"]


def test_score_slices_has_no_table_option(trained):
    model, X, Y, right = trained
    loader = model.make_slice_dataloader(
        DictDataset.from_tensors(X, Y, "valid"),
        make_slice_matrix(right[:, None], ["right"]),
    )
    with pytest.raises(TypeError, match="as_table"):
        model.score_slices([loader], as_table=True)


def small_slice_loader(model: SliceAwareClassifier):
    """400 points; slice 'edge' (x0 > 0.95) holds about 2.5% of them, 'right' 25%."""
    X, Y, right = points()
    edge = (X[:, 0] > 0.95).numpy()
    S = make_slice_matrix(np.stack([edge, right], 1), ["edge", "right"])
    dataset = DictDataset.from_tensors(X, Y, "train")
    return model.make_slice_dataloader(dataset, S, batch_size=32, shuffle=True)


def test_fit_marks_the_slices_under_the_small_slice_fraction():
    model = make_model(slice_names=["edge", "right"])
    loader = small_slice_loader(model)
    assert model.small_slices == []
    model.fit([loader], n_epochs=1, lr=0.05, seed=0, progress_bar=False)
    assert model.small_slices == ["edge"]
    assert model.slice_heads.small_slices.tolist() == [True, False, False]
    # Training moved every slice's typical member probability from 0.5.
    assert (model.slice_heads.typical_member_probability != 0.5).all()
    X = loader.dataset.X_dict["input_data"]
    z = model.module_pool["base_architecture"](X)
    with torch.no_grad():
        logits = model.slice_heads(z)["indicator_logits"]
        mlp = model.slice_heads.small_slice_indicator(z)
        linear = model.slice_heads.indicator(z)
    torch.testing.assert_close(logits[:, 0], mlp[:, 0])
    torch.testing.assert_close(logits[:, 1:], linear[:, 1:])
    wider = make_model(slice_names=["edge", "right"], small_slice_fraction=0.3)
    assert wider.mark_small_slices([small_slice_loader(wider)]) == ["edge", "right"]
    off = make_model(slice_names=["edge", "right"], small_slice_fraction=None)
    assert off.mark_small_slices([small_slice_loader(off)]) == []


def test_without_a_small_slice_training_is_exactly_that_without_the_option():
    """The small-slice MLP is drawn from a forked random state and not run."""
    weights = {}
    for fraction in [None, 0.03]:
        model = make_model(small_slice_fraction=fraction)
        X, Y, right = points()
        S = make_slice_matrix(right[:, None], ["right"])  # 25% of the rows
        loader = model.make_slice_dataloader(
            DictDataset.from_tensors(X, Y, "train"), S, batch_size=32, shuffle=True
        )
        model.fit([loader], n_epochs=2, lr=0.05, seed=0, progress_bar=False)
        assert model.small_slices == []
        weights[fraction] = model.state_dict()
    for name, value in weights[None].items():
        assert torch.equal(value, weights[0.03][name]), name


def test_small_slice_members_keep_the_full_weight_in_the_indicator_loss():
    model = make_model(slice_names=["edge", "right"])
    model.slice_heads.small_slices.copy_(torch.tensor([True, False, False]))
    q, p = torch.zeros(4, 3), torch.zeros(4, 3, 2)
    membership = torch.tensor([[True, True, True]] + [[False, False, True]] * 3)
    labels = torch.zeros(4, dtype=torch.long)
    small, _ = model.batch_slice_losses(q, p, membership, labels)
    model.slice_heads.small_slices.zero_()
    faded, _ = model.batch_slice_losses(q, p, membership, labels)
    # edge's member: weight w = 3 (3 non-members to 1) in full, and faded at
    # sigmoid(0) = 1/2 with gamma 2, 1 + 2 / 4; its BCE is ln 2, over 4 rows
    ln2 = float(torch.log(torch.tensor(2.0)))
    assert (small - faded).item() == pytest.approx(ln2 * (3 - 1.5) / 4, rel=1e-6)


def test_training_batches_move_the_typical_member_probability_and_no_grad_does_not():
    model = make_model(slice_names=["edge", "right"])
    q, p = torch.tensor([[2.0, -1.0, 0.0], [0.0, 1.0, 0.0]]), torch.zeros(2, 3, 2)
    membership = torch.tensor([[True, False, True], [False, True, True]])
    labels = torch.zeros(2, dtype=torch.long)
    typical = model.slice_heads.typical_member_probability
    model.batch_slice_losses(q, p, membership, labels)  # no slice small: not read
    assert typical.tolist() == [0.5, 0.5, 0.5]
    model.slice_heads.small_slices.copy_(torch.tensor([True, False, False]))
    with torch.no_grad():  # a validation loss
        model.batch_slice_losses(q, p, membership, labels)
    assert typical.tolist() == [0.5, 0.5, 0.5]
    model.batch_slice_losses(q, p, membership, labels)
    members_mean = torch.sigmoid(torch.tensor([2.0, 1.0, 0.0]))  # members only
    torch.testing.assert_close(typical, 0.99 * 0.5 + 0.01 * members_mean)


def test_small_slice_members_rated_far_below_the_typical_member_weigh_less():
    model = make_model(slice_names=["edge", "right"])
    model.slice_heads.small_slices.copy_(torch.tensor([True, False, False]))
    # edge's member rated 0.1 of 4 rows (w = 3): against a typical member rated
    # 0.8 its trust is 0.1 / 0.4, so it weighs 1 + 2 / 4; against 0.2, fully 3.
    q = torch.zeros(4, 3)
    q[0, 0] = torch.logit(torch.tensor(0.1))
    p = torch.zeros(4, 3, 2)
    membership = torch.tensor([[True, True, True]] + [[False, False, True]] * 3)
    labels = torch.zeros(4, dtype=torch.long)
    with torch.no_grad():  # keeps the typical probabilities as set
        model.slice_heads.typical_member_probability.fill_(0.8)
        trusted, _ = model.batch_slice_losses(q, p, membership, labels)
        model.slice_heads.typical_member_probability.fill_(0.2)
        full, _ = model.batch_slice_losses(q, p, membership, labels)
    member_bce = float(-torch.log(torch.tensor(0.1)))
    assert (full - trusted).item() == pytest.approx(
        member_bce * (3 - 1.5) / 4, rel=1e-5
    )
