import pytest
import torch

from slicing.model.heads import (
    IndicatorAsTwoClassLogits,
    SliceHeadsModule,
    SliceHeadsOutput,
    SliceIndicators,
    SmallSliceIndicators,
)


def make_heads(
    n_slices: int = 3, head_dim: int = 4, expert_dim: int = 5, **options
) -> SliceHeadsModule:
    names = [f"s{i}" for i in range(n_slices - 1)] + ["base"]
    return SliceHeadsModule(head_dim, expert_dim, names, cardinality=3, **options)


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_batched_experts_equal_one_linear_map_per_slice():
    torch.manual_seed(0)
    heads = make_heads()
    z = torch.randn(7, 4)
    out = heads(z)
    for index in range(heads.n_slices):
        columns = slice(index * 5, (index + 1) * 5)
        expected = z @ heads.expert_weight[:, columns] + heads.expert_bias[columns]
        torch.testing.assert_close(out["expert_representations"][:, index], expected)
        torch.testing.assert_close(
            out["predictor_logits"][:, index], heads.predictor(expected)
        )
    torch.testing.assert_close(out["indicator_logits"], heads.indicator(z))


def test_parameters_per_slice_is_one_expert_map_plus_one_indicator_logit():
    grown = count(make_heads(n_slices=6)) - count(make_heads(n_slices=5))
    assert grown == make_heads().parameters_per_slice() == 4 * 5 + 5 + 4 + 1
    assert type(make_heads().indicator) is torch.nn.Linear  # the paper's, by default


@pytest.mark.parametrize(
    "indicator_dim, per_slice",
    [(0, 4 + 1), (3, 4 * 3 + 3 + 3 + 1), (None, 4 * 4 + 4 + 4 + 1)],
)
def test_indicator_dim_sets_the_indicator_size(indicator_dim, per_slice):
    heads = make_heads(indicator_dim=indicator_dim)
    grown = count(make_heads(n_slices=6, indicator_dim=indicator_dim)) - count(
        make_heads(n_slices=5, indicator_dim=indicator_dim)
    )
    assert grown == heads.parameters_per_slice() == 4 * 5 + 5 + per_slice
    expected_type = torch.nn.Linear if indicator_dim == 0 else SliceIndicators
    assert type(heads.indicator) is expected_type
    assert heads.indicator_dim == (4 if indicator_dim is None else indicator_dim)


def test_indicator_mlps_equal_one_small_mlp_per_slice():
    torch.manual_seed(0)
    indicators = SliceIndicators(head_dim=4, n_slices=3, hidden_dim=2)
    z = torch.randn(7, 4)
    logits = indicators(z)
    for index in range(3):
        rows = slice(index * 2, (index + 1) * 2)
        hidden = torch.relu(
            z @ indicators.hidden.weight[rows].T + indicators.hidden.bias[rows]
        )
        expected = hidden @ indicators.weight[index] + indicators.bias[index]
        torch.testing.assert_close(logits[:, index], expected)


def test_each_indicator_learns_a_slice_a_linear_indicator_cannot():
    """A band |z| < 0.5 is not linearly separable in z; one hidden layer fits it."""
    torch.manual_seed(0)
    z = torch.linspace(-2, 2, 400).unsqueeze(1)
    band = (z.abs() < 0.5).float().squeeze(1)
    accuracies = {}
    for hidden_dim in (0, 4):
        indicator = (
            SliceIndicators(1, 1, hidden_dim) if hidden_dim else torch.nn.Linear(1, 1)
        )
        optimizer = torch.optim.Adam(indicator.parameters(), lr=0.05)
        for _ in range(500):
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                indicator(z).squeeze(1), band
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        predicted = (indicator(z).squeeze(1) > 0).float()
        accuracies[hidden_dim] = (predicted == band).float().mean().item()
    assert accuracies[0] <= 0.76  # a linear indicator can only cut z at one point
    assert accuracies[4] >= 0.97


def test_output_gives_per_slice_columns_by_key():
    out = make_heads()(torch.randn(2, 4))
    assert isinstance(out, SliceHeadsOutput)
    torch.testing.assert_close(
        out[("predictor_logits", 2)], out["predictor_logits"][:, 2]
    )
    with pytest.raises(KeyError):
        out[("missing", 0)]


def test_indicator_as_two_class_logits_gives_sigmoid_under_softmax():
    q = torch.tensor([-2.0, 0.0, 3.0])
    probs = torch.softmax(IndicatorAsTwoClassLogits()(q), dim=1)[:, 1]
    torch.testing.assert_close(probs, torch.sigmoid(q))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"head_dim": 0}, "head_dim"),
        ({"expert_dim": -1}, "expert_dim"),
        ({"cardinality": 1}, "cardinality"),
        ({"slice_names": []}, "base slice"),
        ({"indicator_dim": -1}, "indicator_dim"),
        ({"indicator_dim": 2.0}, "indicator_dim"),
        ({"indicator_dim": True}, "indicator_dim"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    arguments = {
        "head_dim": 2,
        "expert_dim": 2,
        "slice_names": ["base"],
        "cardinality": 2,
    }
    with pytest.raises(ValueError, match=message):
        SliceHeadsModule(**{**arguments, **kwargs})


def test_wrong_representation_width_names_shapes():
    with pytest.raises(ValueError, match=r"\(batch, 4\); got \(2, 3\)"):
        make_heads()(torch.zeros(2, 3))


def test_small_slice_indicators_are_drawn_without_moving_the_random_state():
    torch.manual_seed(0)
    plain = make_heads()
    after_plain = torch.rand(1)
    torch.manual_seed(0)
    with_small = make_heads(small_slice_indicators=True)
    assert torch.equal(torch.rand(1), after_plain)  # the same stream follows
    for name, value in plain.state_dict().items():
        assert torch.equal(value, with_small.state_dict()[name]), name
    assert isinstance(with_small.small_slice_indicator, SmallSliceIndicators)
    assert with_small.small_slices.tolist() == [False, False, False]
    assert with_small.typical_member_probability.tolist() == [0.5, 0.5, 0.5]
    with_small.typical_member_probability.fill_(0.9)
    with_small.reset_parameters()  # as a batch norm resets its running statistics
    assert with_small.typical_member_probability.tolist() == [0.5, 0.5, 0.5]
    assert plain.typical_member_probability is None


def test_small_slices_read_the_mlp_and_the_others_the_linear_indicator():
    torch.manual_seed(0)
    heads = make_heads(small_slice_indicators=True)
    z = torch.randn(6, 4)
    # No slice marked small: the linear indicators alone, the MLP is not run.
    torch.testing.assert_close(heads(z)["indicator_logits"], heads.indicator(z))
    heads(z)["indicator_logits"].sum().backward()
    assert heads.small_slice_indicator.weight.grad is None
    heads.small_slices[0] = True
    logits = heads(z)["indicator_logits"]
    torch.testing.assert_close(logits[:, 0], heads.small_slice_indicator(z)[:, 0])
    torch.testing.assert_close(logits[:, 1:], heads.indicator(z)[:, 1:])
    assert heads.parameters_per_slice() == 4 * 5 + 5 + (4 + 1) + (4 * 4 + 4 + 4 + 1)


def test_small_slice_marks_without_mlp_when_the_indicators_are_mlps():
    heads = make_heads(indicator_dim=3, small_slice_indicators=True)
    assert heads.small_slice_indicator is None  # every slice has an MLP already
    assert heads.small_slices is not None  # the marks still set the member weight
    assert make_heads().small_slices is None
    assert "small_slices" not in make_heads().state_dict()
