import pytest
import torch
import torch.nn.functional as F

from slicing.model.batched_ops import contiguous_gradient, weighted_sum_over_slices


def gradients(output, inputs, upstream):
    needed = [tensor for tensor in inputs if tensor.requires_grad]
    return torch.autograd.grad(output, needed, upstream)


@pytest.mark.parametrize("scale", [0.01, 1.0, 30.0])
def test_weighted_sum_is_einsum_bit_for_bit(scale):
    generator = torch.Generator().manual_seed(int(scale * 100))
    for _ in range(20):
        weights = torch.softmax(
            torch.randn(64, 65, generator=generator) * 3, dim=1
        ).requires_grad_()
        experts = (
            torch.randn(64, 65, 13, generator=generator) * scale
        ).requires_grad_()
        upstream = torch.randn(64, 13, generator=generator)
        plain = torch.einsum("bs,bse->be", weights, experts)
        ours = weighted_sum_over_slices(weights, experts)
        assert torch.equal(ours, plain)
        for mine, theirs in zip(
            gradients(ours, [weights, experts], upstream),
            gradients(plain, [weights, experts], upstream),
        ):
            assert torch.equal(mine, theirs)
            assert mine.is_contiguous()


@pytest.mark.parametrize("needs", [(True, False), (False, True)])
def test_weighted_sum_computes_only_the_gradients_asked_for(needs):
    weights = torch.rand(3, 4).requires_grad_(needs[0])
    experts = torch.randn(3, 4, 2).requires_grad_(needs[1])
    upstream = torch.randn(3, 2)
    (gradient,) = gradients(
        weighted_sum_over_slices(weights, experts), [weights, experts], upstream
    )
    (expected,) = gradients(
        torch.einsum("bs,bse->be", weights, experts), [weights, experts], upstream
    )
    assert torch.equal(gradient, expected)


def test_weighted_sum_rejects_mismatched_shapes():
    with pytest.raises(RuntimeError):
        weighted_sum_over_slices(torch.rand(3, 4), torch.randn(3, 5, 2))


def test_contiguous_gradient_keeps_values_and_hands_back_a_contiguous_gradient():
    source = torch.randn(4, 5, 2, requires_grad=True)
    tensor = source * 2.0
    moved = contiguous_gradient(tensor).movedim(-1, 0)
    assert torch.equal(moved, tensor.movedim(-1, 0))
    upstream = torch.randn(2, 4, 5)
    (plain,) = torch.autograd.grad(tensor.movedim(-1, 0), tensor, upstream)
    (ours,) = torch.autograd.grad(moved, tensor, upstream)
    assert not plain.is_contiguous()
    assert ours.is_contiguous()
    assert torch.equal(ours, plain)


@pytest.mark.parametrize("cardinality", [2, 3])
def test_class_major_log_softmax_of_the_losses_is_the_plain_one_bit_for_bit(
    cardinality,
):
    """What ``slice_losses`` computes: the predictor loss per row and slice."""
    generator = torch.Generator().manual_seed(cardinality)
    for scale in (0.1, 1.0, 10.0, 50.0):
        logits = (
            torch.randn(64, 65, cardinality, generator=generator) * scale
        ).requires_grad_()
        distribution = F.one_hot(
            torch.randint(0, cardinality, (64,), generator=generator), cardinality
        ).float()
        plain = -(F.log_softmax(logits, dim=-1) * distribution.unsqueeze(1)).sum(-1)
        class_major = F.log_softmax(contiguous_gradient(logits).movedim(-1, 0), dim=0)
        ours = -(class_major * distribution.t().unsqueeze(-1)).sum(dim=0)
        upstream = torch.randn(64, 65, generator=generator)
        assert torch.equal(ours, plain)
        (mine,) = torch.autograd.grad(ours, logits, upstream)
        (theirs,) = torch.autograd.grad(plain, logits, upstream)
        assert torch.equal(mine, theirs)
