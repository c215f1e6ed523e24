import pytest
import torch

from slicing.model.heads import (
    IndicatorAsTwoClassLogits,
    SliceHeadsModule,
    SliceHeadsOutput,
)


def make_heads(
    n_slices: int = 3, head_dim: int = 4, expert_dim: int = 5
) -> SliceHeadsModule:
    names = [f"s{i}" for i in range(n_slices - 1)] + ["base"]
    return SliceHeadsModule(head_dim, expert_dim, names, cardinality=3)


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
