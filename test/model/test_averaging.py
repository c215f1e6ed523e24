"""The weight average fit keeps (slicing/model/averaging.py)."""

import pytest
import torch
from torch import nn
from torch.optim.optimizer import (
    register_optimizer_step_post_hook,
    register_optimizer_step_pre_hook,
)

from slicing.model.averaging import (
    DEFAULT_EMA_DECAY,
    DEFAULT_EMA_MAX_EPOCHS,
    WeightAverage,
    check_ema_decay,
    check_ema_max_epochs,
    decay_spanning_epochs,
)
from test.model.test_training import assert_same_weights, build, loader_for, train

torch.set_num_threads(1)


def expected_average(trajectory: list[torch.Tensor], decay: float) -> torch.Tensor:
    """The average ``WeightAverage`` should hold after steps ``trajectory[1:]``."""
    average = trajectory[0].clone()
    for step, weights in enumerate(trajectory[1:], start=1):
        rate = 1.0 - min(decay, (1 + step) / (10 + step))
        average = average + rate * (weights - average)
    return average


def set_weight(net: nn.Linear, value: float) -> None:
    with torch.no_grad():
        net.weight.fill_(value)


def test_update_follows_the_warmed_up_decay():
    net = nn.Linear(3, 1, bias=False)
    set_weight(net, 0.0)
    average = WeightAverage(net, decay=0.9)
    trajectory = [net.weight.detach().clone()]
    # 200 steps: the warm-up rate (1 + t) / (10 + t) passes 0.9 at step 80
    for value in torch.linspace(-3.0, 5.0, 200).tolist():
        set_weight(net, value)
        trajectory.append(net.weight.detach().clone())
        average.update()
    assert average.updates == 200
    with average.swapped_in():
        torch.testing.assert_close(net.weight, expected_average(trajectory, 0.9))
        assert not torch.allclose(net.weight, expected_average(trajectory, 0.99))


def test_swapped_in_restores_the_modules_own_weights_even_after_an_error():
    net = nn.Linear(2, 2)
    average = WeightAverage(net, decay=0.5)
    set_weight(net, 7.0)
    own = [p.detach().clone() for p in net.parameters()]
    with pytest.raises(RuntimeError, match="inside"):
        with average.swapped_in():
            assert not torch.equal(net.weight, own[0])
            raise RuntimeError("inside")
    for parameter, kept in zip(net.parameters(), own):
        assert torch.equal(parameter, kept)


def test_copy_to_module_puts_the_average_in_the_weights():
    net = nn.Linear(2, 1)
    start = [p.detach().clone() for p in net.parameters()]
    average = WeightAverage(net, decay=0.5)
    set_weight(net, 5.0)
    average.copy_to_module()  # no update yet: the average is the starting weights
    for parameter, kept in zip(net.parameters(), start):
        assert torch.equal(parameter, kept)


def test_float_buffers_are_averaged_and_counters_left_alone():
    net = nn.BatchNorm1d(2)
    average = WeightAverage(net, decay=0.5)
    net.train()
    net(torch.tensor([[10.0, 20.0], [12.0, 22.0]]))
    average.update()
    rate = 1.0 - min(0.5, 2 / 11)
    moved_mean = net.running_mean.clone()
    average.copy_to_module()
    torch.testing.assert_close(net.running_mean, rate * moved_mean)
    assert net.num_batches_tracked.item() == 1


def test_following_optimizers_updates_after_the_modules_own_optimizer_only():
    net, other = nn.Linear(2, 1), nn.Linear(2, 1)
    own_optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    other_optimizer = torch.optim.SGD(other.parameters(), lr=0.1)
    average = WeightAverage(net, decay=0.5)
    with average.following_optimizers():
        for optimizer, model in ((own_optimizer, net), (other_optimizer, other)):
            model(torch.ones(4, 2)).sum().backward()
            optimizer.step()
        assert average.updates == 1
    net(torch.ones(4, 2)).sum().backward()
    own_optimizer.step()  # the hook is gone once the block ends
    assert average.updates == 1


@pytest.mark.parametrize("decay", [1.0, -0.1, 2, True, "0.9", float("nan")])
def test_a_decay_outside_zero_to_one_is_refused(decay):
    with pytest.raises(ValueError, match="ema_decay"):
        check_ema_decay(decay)


def test_none_turns_averaging_off_but_a_weight_average_needs_a_decay():
    assert check_ema_decay(None) is None
    assert check_ema_decay(0) == 0.0
    with pytest.raises(ValueError, match="needs a decay"):
        WeightAverage(nn.Linear(1, 1), None)


def test_a_module_that_changed_shape_is_refused():
    net = nn.Sequential(nn.Linear(2, 2))
    average = WeightAverage(net)
    net.append(nn.Linear(2, 1))
    with pytest.raises(RuntimeError, match="changed shape or number"):
        average.update()


def record_steps(model: nn.Module) -> tuple[list, list]:
    """Global optimizer hooks recording the weights before the first step and after
    each step: (trajectory, hook handles)."""
    trajectory: list[dict[str, torch.Tensor]] = []

    def snapshot() -> dict[str, torch.Tensor]:
        return {k: v.detach().clone() for k, v in model.named_parameters()}

    def before(optimizer, *_):
        if not trajectory:
            trajectory.append(snapshot())

    def after(optimizer, *_):
        trajectory.append(snapshot())

    handles = [
        register_optimizer_step_pre_hook(before),
        register_optimizer_step_post_hook(after),
    ]
    return trajectory, handles


def test_fit_ends_with_the_average_of_the_steps_it_took():
    model = build(1)
    trajectory, handles = record_steps(model)
    try:
        last_step = train(model, seed=0, ema_decay=None)
    finally:
        for handle in handles:
            handle.remove()
    assert len(trajectory) == 1 + 2 * 8  # 120 points, batch 16, 2 epochs
    averaged = train(build(1), seed=0, ema_decay=0.5)
    name = "module_pool.base_architecture.0.weight"
    expected = expected_average([weights[name] for weights in trajectory], 0.5)
    torch.testing.assert_close(averaged[name], expected)
    assert torch.equal(trajectory[-1][name], last_step[name])
    assert not torch.allclose(averaged[name], last_step[name])


def test_decay_zero_keeps_the_last_step_exactly_as_averaging_off_does():
    assert DEFAULT_EMA_DECAY == 0.999
    off = train(build(1), seed=0, ema_decay=None)
    zero = train(build(1), seed=0, ema_decay=0.0)
    for name in off:
        assert torch.equal(off[name], zero[name]), name


def test_fit_caps_the_span_of_the_average_at_ema_max_epochs():
    # 120 points at batch 16: 8 steps per epoch, so a quarter epoch is 2 steps, the
    # span of decay 0.5; the cap lowers 0.99 to 0.5 and nothing else changes
    capped = train(build(1), seed=0, ema_decay=0.99, ema_max_epochs=0.25)
    assert_same_weights(capped, train(build(1), seed=0, ema_decay=0.5))
    uncapped = train(build(1), seed=0, ema_decay=0.99, ema_max_epochs=None)
    name = "module_pool.base_architecture.0.weight"
    assert not torch.allclose(capped[name], uncapped[name])
    # a cap longer than the decay's span leaves the decay as it is
    long_cap = train(build(1), seed=0, ema_decay=0.99, ema_max_epochs=100)
    assert_same_weights(long_cap, uncapped)


def test_decay_spanning_epochs_lowers_the_decay_only_where_the_span_is_longer():
    assert DEFAULT_EMA_MAX_EPOCHS == 4.0
    # issue 17's suite: 10,000 points at batch 32 are 313 steps per epoch, and
    # 1,000 steps are fewer than 4 epochs; at batch 128 (79 steps) they are not
    assert decay_spanning_epochs(DEFAULT_EMA_DECAY, 313, 4.0) == DEFAULT_EMA_DECAY
    capped = decay_spanning_epochs(DEFAULT_EMA_DECAY, 79, 4.0)
    assert capped == pytest.approx(1 - 1 / 316)
    assert decay_spanning_epochs(DEFAULT_EMA_DECAY, 79, None) == DEFAULT_EMA_DECAY
    assert decay_spanning_epochs(0.9, 0, 4.0) == 0.9  # no steps: nothing to cap


@pytest.mark.parametrize("epochs", [0, -1.0, True, "4", float("inf"), float("nan")])
def test_ema_max_epochs_must_be_a_positive_finite_number(epochs):
    with pytest.raises(ValueError, match="ema_max_epochs"):
        check_ema_max_epochs(epochs)
    with pytest.raises(ValueError, match="ema_max_epochs"):
        model = build(1)
        model.fit(
            [loader_for(model)],
            n_epochs=1,
            progress_bar=False,
            ema_max_epochs=epochs,
        )


def test_checkpointing_keeps_the_best_checkpoint_not_the_average(tmp_path):
    def run(ema_decay):
        model = build(1)
        model.fit(
            [loader_for(model)],
            n_epochs=2,
            lr=0.05,
            seed=0,
            progress_bar=False,
            ema_decay=ema_decay,
            logging=True,
            checkpointing=True,
            log_manager_config={"counter_unit": "epochs", "evaluation_freq": 1},
            checkpointer_config={"checkpoint_dir": str(tmp_path / str(ema_decay))},
            log_writer_config={"log_dir": str(tmp_path / "logs")},
        )
        return model.state_dict()

    off, default = run(None), run(DEFAULT_EMA_DECAY)
    for name in off:
        assert torch.equal(off[name], default[name]), name


def test_fit_refuses_a_bad_decay_before_training():
    model = build(1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match="ema_decay"):
        model.fit([loader_for(model)], n_epochs=1, progress_bar=False, ema_decay=1.5)
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name]), name


def test_the_average_follows_a_module_moved_to_another_dtype():
    net = nn.Linear(2, 1, bias=False)
    set_weight(net, 0.0)
    average = WeightAverage(net, decay=0.5)
    average.update()  # the tensors are now cached for the steps that follow
    net.double()
    set_weight(net, 1.0)
    average.update()
    with average.swapped_in():
        assert net.weight.dtype == torch.float64
        # step 2 moves the average (0) towards 1 by 1 - min(0.5, 3 / 12)
        expected = torch.full((1, 2), 0.75, dtype=torch.float64)
        torch.testing.assert_close(net.weight, expected)
