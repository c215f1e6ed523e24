"""FlatAdam (slicing/model/optimizer.py): torch's Adam, bit for bit, on flat tensors."""

import copy

import pytest
import torch
from torch import nn
from torch.optim.optimizer import register_optimizer_step_post_hook

from slicing.model.optimizer import FlatAdam

torch.set_num_threads(1)


def net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2), nn.Linear(2, 1))


def run(
    optimizer_class,
    steps: int = 6,
    unused_after: int | None = None,
    clip: float | None = None,
    **kwargs,
):
    """Train a small net; from step ``unused_after`` on, its last layer is skipped.

    ``clip``: clip the gradients to that norm before each step, with
    ``max_grad_norm`` for ``FlatAdam``, with ``clip_grad_norm_`` for others.
    """
    model = net()
    if optimizer_class is FlatAdam:
        kwargs["max_grad_norm"] = clip
    optimizer = optimizer_class(model.parameters(), lr=0.05, **kwargs)
    torch.manual_seed(1)
    for step in range(steps):
        optimizer.zero_grad()
        x = torch.randn(8, 3)
        hidden = model[2](model[1](model[0](x)))
        skip_last = unused_after is not None and step >= unused_after
        output = hidden.sum(dim=1) if skip_last else model[3](hidden).squeeze(1)
        ((output - x[:, 0]) ** 2).mean().backward()
        if clip and optimizer_class is not FlatAdam:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
    return model, optimizer


def assert_same(first: nn.Module, second: nn.Module) -> None:
    for a, b in zip(first.parameters(), second.parameters()):
        assert torch.equal(a, b)


@pytest.mark.parametrize(
    "options",
    [{}, {"weight_decay": 0.1}, {"maximize": True}, {"betas": (0.5, 0.9)}],
    ids=["plain", "weight_decay", "maximize", "betas"],
)
def test_flat_steps_give_torch_adams_weights_bit_for_bit(options):
    flat, optimizer = run(FlatAdam, **options)
    plain, _ = run(torch.optim.Adam, foreach=True, **options)
    assert optimizer.flat_parameters(0) is not None  # the flat path was taken
    assert_same(flat, plain)
    assert_same(flat, run(torch.optim.Adam, foreach=False, **options)[0])


def test_parameters_share_the_flat_tensor_and_state_reads_as_adams():
    model, optimizer = run(FlatAdam)
    flat = optimizer.flat_parameters(0)
    assert flat.numel() == sum(p.numel() for p in model.parameters())
    _, plain = run(torch.optim.Adam, foreach=True)
    mine, theirs = optimizer.state_dict(), plain.state_dict()
    assert mine["param_groups"][0]["params"] == theirs["param_groups"][0]["params"]
    for index, state in theirs["state"].items():
        for key, value in state.items():
            assert torch.equal(mine["state"][index][key], value), (index, key)


def test_a_parameter_that_loses_its_gradient_is_skipped_as_adam_skips_it():
    flat, optimizer = run(FlatAdam, steps=8, unused_after=3)
    assert optimizer.flat_parameters(0) is not None
    assert_same(flat, run(torch.optim.Adam, steps=8, unused_after=3, foreach=True)[0])
    # The skipped layer took fewer steps; the rest went on as Adam would.
    steps = [optimizer.state[p]["step"].item() for p in flat.parameters()]
    assert steps == [8.0, 8.0, 8.0, 8.0, 3.0, 3.0]


def test_a_parameter_without_a_gradient_at_the_first_step_stays_out():
    model = net()
    optimizer = FlatAdam(model.parameters(), lr=0.05)
    reference = copy.deepcopy(model)
    reference_optimizer = torch.optim.Adam(reference.parameters(), lr=0.05)
    torch.manual_seed(1)
    for step in range(5):
        x = torch.randn(8, 3)
        for m, o in [(model, optimizer), (reference, reference_optimizer)]:
            o.zero_grad()
            hidden = m[2](m[1](m[0](x)))
            (m[3](hidden) if step >= 2 else hidden).sum().backward()
            o.step()
    assert optimizer.flat_parameters(0).numel() == 3 * 5 + 5 + 5 * 2 + 2
    assert_same(model, reference)


def test_step_hooks_run_once_per_step_on_either_path():
    calls = []
    handle = register_optimizer_step_post_hook(lambda *_: calls.append(1))
    try:
        torch.optim.Adam(net().parameters())  # torch wraps Adam.step too
        run(FlatAdam, steps=6, unused_after=3)  # flat steps, then Adam.step
    finally:
        handle.remove()
    assert len(calls) == 6


def test_a_scheduler_changes_the_flat_steps_learning_rate():
    model = net()
    reference = copy.deepcopy(model)
    optimizers = [
        FlatAdam(model.parameters(), lr=0.1),
        torch.optim.Adam(reference.parameters(), lr=0.1, foreach=True),
    ]
    schedulers = [torch.optim.lr_scheduler.StepLR(o, 1, gamma=0.5) for o in optimizers]
    torch.manual_seed(1)
    for _ in range(4):
        x = torch.randn(8, 3)
        for m, o, s in zip([model, reference], optimizers, schedulers):
            o.zero_grad()
            m(x).sum().backward()
            o.step()
            s.step()
    assert_same(model, reference)


def test_loaded_state_and_replaced_data_fall_back_to_adam():
    flat, optimizer = run(FlatAdam, steps=3)
    plain, plain_optimizer = run(torch.optim.Adam, steps=3, foreach=True)
    # A parameter whose data was replaced (as module.to does) leaves the flat path.
    first = next(flat.parameters())
    first.data = first.data.clone()
    resumed = FlatAdam(plain.parameters(), lr=0.05)
    resumed.load_state_dict(plain_optimizer.state_dict())
    torch.manual_seed(2)
    for _ in range(3):
        x = torch.randn(8, 3)
        for model, o in [(flat, optimizer), (plain, resumed)]:
            o.zero_grad()
            model(x).sum().backward()
            o.step()
    reference, reference_optimizer = run(torch.optim.Adam, steps=3, foreach=True)
    torch.manual_seed(2)
    for _ in range(3):
        reference_optimizer.zero_grad()
        reference(torch.randn(8, 3)).sum().backward()
        reference_optimizer.step()
    assert_same(flat, reference)
    assert_same(plain, reference)


def test_amsgrad_steps_as_adam():
    flat, optimizer = run(FlatAdam, amsgrad=True)
    assert optimizer.flat_parameters(0) is None
    assert_same(flat, run(torch.optim.Adam, amsgrad=True, foreach=True)[0])


@pytest.mark.parametrize("unused_after", [None, 3], ids=["flat", "with_fallback"])
def test_clipping_gives_clip_grad_norms_weights_bit_for_bit(unused_after):
    options = {"steps": 8, "unused_after": unused_after, "clip": 0.05}
    flat, optimizer = run(FlatAdam, **options)
    plain, _ = run(torch.optim.Adam, foreach=True, **options)
    unclipped, _ = run(FlatAdam, steps=8, unused_after=unused_after)
    assert optimizer.max_grad_norm == 0.05
    assert_same(flat, plain)
    assert not torch.equal(next(flat.parameters()), next(unclipped.parameters()))
