import pytest
import torch
import torch.nn.functional as F

from slicing.model.losses import (
    DEFAULT_BALANCE_POWER,
    DEFAULT_MEMBER_WEIGHT_DECAY,
    balance_power,
    check_member_weight_decay,
    label_distribution,
    member_trust,
    slice_losses,
    updated_typical_member_probability,
)


def reference_losses(q, p, membership, labels):
    """One snorkel task per slice, in a Python loop (what the batched form replaces)."""
    indicator, predictor = 0.0, 0.0
    for j in range(q.shape[1]):
        two_class = torch.stack([torch.zeros_like(q[:, j]), q[:, j]], dim=1)
        indicator = indicator + F.cross_entropy(two_class, membership[:, j].long())
        members = membership[:, j] & (labels != -1)
        if members.any():
            predictor = predictor + F.cross_entropy(p[members, j], labels[members])
    return indicator, predictor


def test_batched_losses_equal_one_task_per_slice():
    torch.manual_seed(0)
    q, p = torch.randn(16, 4), torch.randn(16, 4, 3)
    membership = torch.rand(16, 4) < 0.4
    membership[:, -1] = True
    labels = torch.randint(-1, 3, (16,))
    indicator, predictor = slice_losses(
        q, p, membership, labels, balance_indicators=False
    )
    expected_indicator, expected_predictor = reference_losses(q, p, membership, labels)
    torch.testing.assert_close(indicator, expected_indicator)
    torch.testing.assert_close(predictor, expected_predictor)


def test_slice_without_members_in_batch_contributes_zero_and_no_nan():
    q, p = (
        torch.zeros(3, 2, requires_grad=True),
        torch.zeros(3, 2, 2, requires_grad=True),
    )
    membership = torch.tensor([[False, True]] * 3)
    indicator, predictor = slice_losses(q, p, membership, torch.tensor([0, 1, 1]))
    (indicator + predictor).backward()
    assert torch.isfinite(indicator) and torch.isfinite(predictor)
    torch.testing.assert_close(predictor, torch.log(torch.tensor(2.0)))
    assert p.grad[:, 0].abs().sum() == 0 and torch.isfinite(q.grad).all()


def test_soft_labels_match_hard_labels_when_one_hot_and_mix_otherwise():
    torch.manual_seed(1)
    q, p = torch.randn(5, 2), torch.randn(5, 2, 2)
    membership = torch.ones(5, 2, dtype=torch.bool)
    hard = torch.tensor([0, 1, 1, 0, 1])
    soft = F.one_hot(hard, 2).float()
    torch.testing.assert_close(
        slice_losses(q, p, membership, hard), slice_losses(q, p, membership, soft)
    )
    half = torch.full((5, 2), 0.5)
    _, predictor = slice_losses(q, p, membership, half)
    expected = -(F.log_softmax(p, -1) * 0.5).sum(-1).mean(0).sum()
    torch.testing.assert_close(predictor, expected)


def test_label_distribution_marks_unlabelled_soft_rows():
    distribution, known = label_distribution(
        torch.tensor([[0.2, 0.8], [-1.0, -1.0]]), 2
    )
    assert known.tolist() == [True, False]
    assert distribution[1].abs().sum() == 0


@pytest.mark.parametrize("balance, power", [(0.25, 0.25), (True, 1.0), (1.0, 1.0)])
def test_balanced_indicator_loss_weights_members_by_a_power_of_imbalance(
    balance, power
):
    q = torch.zeros(5, 2)
    membership = torch.tensor([[True, True]] + [[False, True]] * 4)
    labels = torch.zeros(5, dtype=torch.long)
    p = torch.zeros(5, 2, 2)
    balanced, _ = slice_losses(
        q, p, membership, labels, balance_indicators=balance, member_weight_decay=0
    )
    plain, _ = slice_losses(q, p, membership, labels, balance_indicators=False)
    ln2 = torch.log(torch.tensor(2.0))
    # slice 0: one member weighted (4/1) ** power plus four non-members, over 5 rows;
    # slice 1 (all members, like the base slice): weight (1/5) ** power
    expected = ln2 * (4**power + 4) / 5 + ln2 * (1 / 5) ** power
    torch.testing.assert_close(balanced, expected)
    torch.testing.assert_close(plain, 2 * ln2)


def test_default_balance_weighs_members_and_non_members_equally_then_decays():
    assert balance_power(True) == DEFAULT_BALANCE_POWER == 1.0
    assert DEFAULT_MEMBER_WEIGHT_DECAY == 2.0
    assert balance_power(False) == balance_power(0) == 0.0


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_balance_power_outside_zero_one_is_refused(bad):
    with pytest.raises(ValueError, match="power in \\[0, 1\\]"):
        balance_power(bad)


def test_decaying_member_weight_fades_with_the_indicators_confidence():
    # Slice 0: one member among five rows, weight w = 4 at power 1. Its indicator
    # logit is 0 (sigmoid 1/2), so with gamma 2 the weight is 1 + 3 * (1/2) ** 2.
    q = torch.tensor([[0.0], [0.0], [0.0], [0.0], [0.0]])
    membership = torch.tensor([[True], [False], [False], [False], [False]])
    labels = torch.zeros(5, dtype=torch.long)
    p = torch.zeros(5, 1, 2)
    ln2 = torch.log(torch.tensor(2.0))
    decayed, _ = slice_losses(q, p, membership, labels)  # the default, gamma 2
    full, _ = slice_losses(q, p, membership, labels, member_weight_decay=0.0)
    torch.testing.assert_close(decayed, ln2 * (1 + 3 * 0.25 + 4) / 5)
    torch.testing.assert_close(full, ln2 * (4 + 4) / 5)


def test_full_weight_slices_keep_the_full_member_weight_under_decay():
    # Two slices, each with one member among five rows (w = 4), logit 0 everywhere.
    q = torch.zeros(5, 2)
    membership = torch.zeros(5, 2, dtype=torch.bool)
    membership[0] = True
    labels = torch.zeros(5, dtype=torch.long)
    p = torch.zeros(5, 2, 2)
    ln2 = torch.log(torch.tensor(2.0))
    decayed = ln2 * (1 + 3 * 0.25 + 4) / 5
    full = ln2 * (4 + 4) / 5
    loss, _ = slice_losses(
        q, p, membership, labels, full_weight_slices=torch.tensor([True, False])
    )
    torch.testing.assert_close(loss, full + decayed)
    none, _ = slice_losses(
        q, p, membership, labels, full_weight_slices=torch.tensor([False, False])
    )
    torch.testing.assert_close(none, 2 * decayed)


def test_typical_member_probability_moves_towards_the_batch_members_mean():
    typical = torch.tensor([0.5, 0.5, 0.3])
    probability = torch.tensor([[0.9, 0.1, 0.7], [0.5, 0.3, 0.2]])
    membership = torch.tensor([[True, False, False], [True, True, False]])
    moved = updated_typical_member_probability(typical, probability, membership)
    # Slice 0's members average 0.7, slice 1's one member 0.3; slice 2 has none.
    expected = torch.tensor([0.99 * 0.5 + 0.01 * 0.7, 0.99 * 0.5 + 0.01 * 0.3, 0.3])
    torch.testing.assert_close(moved, expected)
    assert torch.equal(typical, torch.tensor([0.5, 0.5, 0.3]))  # a new tensor


def test_member_trust_is_full_from_half_the_typical_member_and_proportional_below():
    probability = torch.tensor([[0.4, 0.3], [0.9, 0.0], [0.1, 0.2]])
    trust = member_trust(probability, torch.tensor([0.8, 0.0]))
    torch.testing.assert_close(trust[:, 0], torch.tensor([1.0, 1.0, 0.25]))
    # A slice whose members were never rated (p_bar 0) trusts every member.
    assert trust[:, 1].tolist() == [1.0, 0.0, 1.0]


def test_full_weight_slice_members_far_below_the_typical_member_weigh_less():
    # One member among five rows (w = 4), rated 0.1 where the typical member is
    # rated 0.8: trust 0.1 / 0.4 = 1/4, so it weighs 1 + 3 / 4.
    q = torch.zeros(5, 1)
    q[0, 0] = torch.logit(torch.tensor(0.1))
    membership = torch.tensor([[True], [False], [False], [False], [False]])
    labels = torch.zeros(5, dtype=torch.long)
    p = torch.zeros(5, 1, 2)
    member_bce = -torch.log(torch.tensor(0.1))
    others = 4 * torch.log(torch.tensor(2.0))
    full = torch.tensor([True])
    typical = torch.tensor([0.8])
    for decay in [DEFAULT_MEMBER_WEIGHT_DECAY, 0.0]:  # with or without fading
        trusted, _ = slice_losses(
            q,
            p,
            membership,
            labels,
            member_weight_decay=decay,
            full_weight_slices=full,
            typical_member_probability=typical,
        )
        torch.testing.assert_close(trusted, (1.75 * member_bce + others) / 5)
    untrusted, _ = slice_losses(q, p, membership, labels, full_weight_slices=full)
    torch.testing.assert_close(untrusted, (4 * member_bce + others) / 5)
    # Slices not kept at full weight fade as before: 1 + 3 * 0.9 ** 2.
    faded, _ = slice_losses(
        q,
        p,
        membership,
        labels,
        full_weight_slices=torch.tensor([False]),
        typical_member_probability=typical,
    )
    torch.testing.assert_close(faded, ((1 + 3 * 0.81) * member_bce + others) / 5)


def test_decayed_weight_of_a_recognised_member_is_about_one_and_not_differentiated():
    membership = torch.tensor([[True], [False], [False], [False]])
    labels = torch.zeros(4, dtype=torch.long)
    p = torch.zeros(4, 1, 2)
    for member_logit, weight in [(8.0, 1.0), (-8.0, 3.0)]:
        q = torch.tensor([[member_logit], [0.0], [0.0], [0.0]], requires_grad=True)
        loss, _ = slice_losses(q, p, membership, labels, member_weight_decay=2.0)
        loss.backward()
        # d/dq of weight * BCE(q, 1) with the weight held fixed: weight * (sigmoid - 1)
        expected = weight * (torch.sigmoid(q[0, 0].detach()) - 1) / 4
        torch.testing.assert_close(q.grad[0, 0], expected, atol=1e-3, rtol=1e-3)


def test_decay_changes_nothing_without_balancing():
    torch.manual_seed(2)
    q, p = torch.randn(8, 3), torch.randn(8, 3, 2)
    membership = torch.rand(8, 3) < 0.3
    labels = torch.randint(0, 2, (8,))
    torch.testing.assert_close(
        slice_losses(q, p, membership, labels, balance_indicators=False),
        slice_losses(
            q, p, membership, labels, balance_indicators=False, member_weight_decay=2.0
        ),
    )


@pytest.mark.parametrize("bad", [-1.0, float("inf"), float("nan"), "two"])
def test_member_weight_decay_must_be_a_finite_number_at_least_zero(bad):
    with pytest.raises(ValueError, match="member_weight_decay must be a finite"):
        check_member_weight_decay(bad)


def test_base_row_weights_make_the_base_predictor_loss_a_weighted_mean():
    torch.manual_seed(2)
    q, p = torch.randn(12, 3), torch.randn(12, 3, 2)
    membership = torch.rand(12, 3) < 0.3
    membership[:, -1] = True
    labels = torch.randint(-1, 2, (12,))
    _, plain = slice_losses(q, p, membership, labels)
    _, ones = slice_losses(q, p, membership, labels, base_row_weights=torch.ones(12))
    torch.testing.assert_close(ones, plain)  # equal weights: the plain mean
    weights = torch.rand(12)
    _, weighted = slice_losses(q, p, membership, labels, base_row_weights=weights)
    known = (labels != -1).float()
    ce = F.cross_entropy(p[:, -1], labels.clamp(min=0), reduction="none")
    expected_base = (ce * weights * known).sum() / (weights * known).sum()
    _, slices_only = slice_losses(
        q, p, torch.cat([membership[:, :-1], torch.zeros(12, 1, dtype=bool)], 1), labels
    )
    torch.testing.assert_close(weighted, slices_only + expected_base)


def test_rows_of_zero_base_weight_do_not_train_the_base_predictor():
    torch.manual_seed(3)
    q = torch.randn(8, 2)
    p = torch.randn(8, 2, 2, requires_grad=True)
    membership = torch.tensor([[True, True]] * 4 + [[False, True]] * 4)
    weights = torch.tensor([0.0] * 4 + [1.0] * 4)
    labels = torch.tensor([0, 1, 0, 1, 1, 0, 1, 0])
    _, predictor = slice_losses(q, p, membership, labels, base_row_weights=weights)
    predictor.backward()
    assert p.grad[:4, -1].abs().sum() == 0  # the members: their expert answers
    assert p.grad[4:, -1].abs().sum() > 0
    assert p.grad[:4, 0].abs().sum() > 0  # the slice's own expert still learns them
