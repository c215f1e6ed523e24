"""Seeded, repeatable training (slicing/model/training.py and fit)."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from snorkel.classification import DictDataset
from torch import nn

from slicing.matrix import make_slice_matrix
from slicing.model.classifier import SliceAwareClassifier
from test.model.test_classifier import points

torch.set_num_threads(1)


def build(build_seed: int) -> SliceAwareClassifier:
    torch.manual_seed(build_seed)  # different builds draw different initial weights
    backbone = nn.Sequential(nn.Linear(2, 8), nn.ReLU())
    return SliceAwareClassifier(backbone, head_dim=8, slice_names=["right"])


def loader_for(model: SliceAwareClassifier):
    X, Y, right = points(120)
    dataset = DictDataset.from_tensors(X, Y, "train")
    S = make_slice_matrix(right[:, None], ["right"])
    return model.make_slice_dataloader(dataset, S, batch_size=16, shuffle=True)


def train(model: SliceAwareClassifier, **fit_kwargs) -> dict[str, torch.Tensor]:
    model.fit(
        [loader_for(model)], n_epochs=2, lr=0.05, progress_bar=False, **fit_kwargs
    )
    return {name: value.detach().clone() for name, value in model.state_dict().items()}


def assert_same_weights(first: dict, second: dict) -> None:
    assert first.keys() == second.keys()
    for name in first:
        assert torch.equal(first[name], second[name]), name


def test_fit_with_the_same_seed_twice_gives_identical_weights():
    model = build(1)
    first = train(model, seed=0)
    assert_same_weights(first, train(model, seed=0))


def test_models_built_differently_train_to_identical_weights_with_one_seed():
    assert_same_weights(train(build(1), seed=0), train(build(2), seed=0))
    other_seed = train(build(1), seed=1)
    assert not torch.equal(
        other_seed["module_pool.base_architecture.0.weight"],
        train(build(1), seed=0)["module_pool.base_architecture.0.weight"],
    )


def test_without_reinitialize_fit_continues_from_the_current_weights():
    model = build(1)
    first = train(model, seed=0)
    second = train(model, seed=0, reinitialize=False)
    name = "module_pool.base_architecture.0.weight"
    assert not torch.equal(first[name], second[name])
    # seed=None neither seeds nor redraws: training continues too.
    before = model.module_pool["base_architecture"][0].weight.detach().clone()
    model.fit([loader_for(model)], n_epochs=0, progress_bar=False)
    assert torch.equal(before, model.module_pool["base_architecture"][0].weight)


def test_parameters_without_reset_parameters_are_named_in_a_warning():
    class Scaled(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = nn.Linear(2, 8)
            self.scale = nn.Parameter(torch.ones(8))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.linear(x) * self.scale

    model = SliceAwareClassifier(Scaled(), head_dim=8, slice_names=["right"])
    with pytest.warns(
        UserWarning,
        match=r"could not redraw parameters \['module_pool.base_architecture.scale'\]",
    ):
        train(model, seed=0)


SCRIPT = textwrap.dedent(
    """
    import hashlib, sys, torch
    sys.path.insert(0, {root!r})
    from test.model.test_training import build, train
    torch.set_num_threads(1)
    weights = train(build(int(sys.argv[1])), seed=0)
    digest = hashlib.sha256()
    for name in sorted(weights):
        digest.update(name.encode())
        digest.update(weights[name].numpy().tobytes())
    print(digest.hexdigest())
    """
)


def test_two_processes_train_to_identical_weights(tmp_path):
    import pathlib

    root = str(pathlib.Path(__file__).resolve().parents[2])
    script = tmp_path / "train_once.py"
    script.write_text(SCRIPT.format(root=root))
    digests = [
        subprocess.run(
            [sys.executable, str(script), build_seed],
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        ).stdout.strip()
        for build_seed in ["1", "2"]
    ]
    assert len(digests[0]) == 64 and digests[0] == digests[1]
    weights = train(build(3), seed=0)
    assert np.isfinite(weights["module_pool.base_architecture.0.weight"].numpy()).all()


def test_a_module_that_resets_its_submodules_is_reset_once_and_alone():
    from slicing.model.heads import SmallSliceIndicators
    from slicing.model.training import reinitialize_parameters

    net = nn.Sequential(nn.Linear(2, 2), SmallSliceIndicators(2, 3, 4), nn.Linear(2, 2))
    torch.manual_seed(0)
    assert reinitialize_parameters(net) == []
    first = [p.detach().clone() for p in net.parameters()]
    after = torch.rand(1)
    without = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    torch.manual_seed(0)
    reinitialize_parameters(without)
    # The forked draws leave the stream to the next layer and to what follows.
    assert torch.equal(torch.rand(1), after)
    assert torch.equal(without[1].weight, first[-2])
    torch.manual_seed(0)
    reinitialize_parameters(net)
    assert all(torch.equal(a, b) for a, b in zip(first, net.parameters()))


def test_fit_updates_with_foreach_and_trains_as_snorkels_trainer(monkeypatch):
    """``ForeachTrainer`` changes how the optimizer steps, not the weights."""
    from snorkel.classification import Trainer

    import slicing.model.classifier as classifier_module
    from slicing.model.training import ForeachTrainer

    model = build(1)
    trainer = model.fit([loader_for(model)], n_epochs=1, progress_bar=False, seed=0)
    assert isinstance(trainer, ForeachTrainer)
    assert trainer.optimizer.param_groups[0]["foreach"] is True
    # The optimizer clipped (snorkel's default norm, 1.0); the config reads as given.
    assert trainer.optimizer.max_grad_norm == trainer.config.grad_clip == 1.0
    foreach = train(build(1), seed=0)
    monkeypatch.setattr(classifier_module, "ForeachTrainer", Trainer)
    assert_same_weights(foreach, train(build(1), seed=0))


def test_fit_leaves_train_mode_only_to_evaluate(monkeypatch):
    """snorkel's ``Trainer`` walks the model to eval mode and back after every step;
    ``ForeachTrainer`` only around an evaluation, with the same metrics."""
    model = build(1)
    X, Y, right = points(40)
    valid = model.make_slice_dataloader(
        DictDataset.from_tensors(X, Y, "valid"),
        make_slice_matrix(right[:, None], ["right"]),
        batch_size=16,
    )
    train_loader = loader_for(model)  # 120 rows: 8 steps per epoch
    switches = []
    eval_method = model.eval
    monkeypatch.setattr(model, "eval", lambda: switches.append(1) or eval_method())
    trainer = model.fit(
        [train_loader, valid], n_epochs=2, lr=0.05, progress_bar=False, seed=0
    )
    assert model.training
    assert any(key.startswith("task/") and "/valid/" in key for key in trainer.metrics)
    assert 2 <= len(switches) < 2 * len(train_loader)
