"""Indicator and predictor losses of all slices, as batched tensor operations."""

import torch
import torch.nn.functional as F

from slicing.model.batched_ops import contiguous_gradient

__all__ = [
    "DEFAULT_BALANCE_POWER",
    "DEFAULT_MEMBER_WEIGHT_DECAY",
    "TYPICAL_MEMBER_PROBABILITY_DECAY",
    "balance_power",
    "balanced_member_weight",
    "check_member_weight_decay",
    "label_distribution",
    "member_trust",
    "slice_losses",
    "updated_typical_member_probability",
]

# Members of a slice weigh (non-members / members) ** DEFAULT_BALANCE_POWER in its
# indicator loss; see slice_losses.
DEFAULT_BALANCE_POWER = 1.0
# ... and that weight fades as the indicator learns the member; see slice_losses.
DEFAULT_MEMBER_WEIGHT_DECAY = 2.0
# A small slice's typical member probability is a running mean that keeps this much
# of itself per batch with members; see updated_typical_member_probability.
TYPICAL_MEMBER_PROBABILITY_DECAY = 0.99


def label_distribution(
    labels: torch.Tensor, cardinality: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Turn hard or soft labels into class distributions plus a "label known" mask.

    Parameters
    ----------
    labels
        Hard labels ``(batch,)`` with ``-1`` meaning "no label", or soft labels
        ``(batch, cardinality)`` (rows of ``-1`` meaning "no label"), as produced by
        snorkel's ``LabelModel.predict_proba``.
    cardinality
        Number of classes.

    Returns
    -------
    tuple of torch.Tensor
        Distributions ``(batch, cardinality)`` (zero rows where unknown) and a bool
        mask ``(batch,)`` of rows that have a label.

    Examples
    --------
    >>> import torch
    >>> distribution, known = label_distribution(torch.tensor([1, -1]), 2)
    >>> distribution
    tensor([[0., 1.],
            [0., 0.]])
    >>> known
    tensor([ True, False])
    """
    if labels.dim() == 1:
        known = labels != -1
        distribution = F.one_hot(labels.clamp(min=0).long(), cardinality).float()
        return distribution * known.unsqueeze(1), known
    known = (labels != -1).any(dim=1)
    return labels.float() * known.unsqueeze(1), known


def balance_power(balance_indicators: bool | float) -> float:
    """The power of ``balance_indicators``: ``True`` is ``DEFAULT_BALANCE_POWER``.

    Raises
    ------
    ValueError
        For a number outside ``[0, 1]``.

    Examples
    --------
    >>> balance_power(True), balance_power(False), balance_power(0.25)
    (1.0, 0.0, 0.25)
    """
    if isinstance(balance_indicators, bool):
        return DEFAULT_BALANCE_POWER if balance_indicators else 0.0
    power = float(balance_indicators)
    if not 0.0 <= power <= 1.0:
        raise ValueError(
            "balance_indicators must be True, False or a power in [0, 1]; "
            f"got {balance_indicators!r}"
        )
    return power


def balanced_member_weight(membership: torch.Tensor, power: float) -> torch.Tensor:
    """The full weight of each slice's members in its indicator loss:
    ``(non-members / members) ** power`` in the batch (each count at least 1).

    Parameters
    ----------
    membership
        ``(batch, n_slices)``, 1.0 where row ``b`` is in slice ``j``, else 0.0.
    power
        The balance power (``balance_power(balance_indicators)``).

    Returns
    -------
    torch.Tensor
        ``(n_slices,)``.

    Examples
    --------
    >>> import torch
    >>> membership = torch.tensor([[1.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
    >>> balanced_member_weight(membership, 1.0).tolist()  # 3 / 1, and 1 / 4 for all
    [3.0, 0.25]
    """
    n_members = membership.sum(dim=0).clamp(min=1.0)
    n_others = (1.0 - membership).sum(dim=0).clamp(min=1.0)
    return (n_others / n_members).pow(power)


def check_member_weight_decay(member_weight_decay: float) -> float:
    """``member_weight_decay`` as a float, checked: a finite number >= 0.

    Raises
    ------
    ValueError
        For a negative, infinite or non-numeric value.

    Examples
    --------
    >>> check_member_weight_decay(2)
    2.0
    """
    try:
        decay = float(member_weight_decay)
    except (TypeError, ValueError):
        decay = float("nan")
    if not (0.0 <= decay < float("inf")):
        raise ValueError(
            "member_weight_decay must be a finite number >= 0; "
            f"got {member_weight_decay!r}"
        )
    return decay


def updated_typical_member_probability(
    typical: torch.Tensor, probability: torch.Tensor, membership: torch.Tensor
) -> torch.Tensor:
    """One batch's step of each slice's running mean membership probability of its
    members (``p_bar`` of ``member_trust``).

    A slice with members in the batch keeps ``TYPICAL_MEMBER_PROBABILITY_DECAY``
    (0.99) of its mean and takes the rest from the batch's mean over its members; a
    slice without members keeps its mean.

    Parameters
    ----------
    typical
        ``(n_slices,)``: the running means so far (``SliceHeadsModule`` starts them
        at 0.5).
    probability
        ``(batch, n_slices)``: the indicators' membership probabilities
        ``sigmoid(q)``, not differentiated.
    membership
        Bool ``(batch, n_slices)``: row ``b`` is in slice ``j``.

    Returns
    -------
    torch.Tensor
        ``(n_slices,)``, a new tensor.

    Examples
    --------
    >>> import torch
    >>> probability = torch.tensor([[0.9, 0.2], [0.7, 0.4]])
    >>> membership = torch.tensor([[True, False], [True, False]])
    >>> updated_typical_member_probability(torch.tensor([0.5, 0.5]), probability,
    ...                                    membership).tolist()  # 0.99 * 0.5 + 0.01 * 0.8
    [0.503000020980835, 0.5]
    """
    members = membership.to(probability.dtype)
    n_members = members.sum(dim=0)
    batch_mean = (probability * members).sum(dim=0) / n_members.clamp(min=1)
    return torch.where(
        n_members > 0,
        TYPICAL_MEMBER_PROBABILITY_DECAY * typical
        + (1.0 - TYPICAL_MEMBER_PROBABILITY_DECAY) * batch_mean,
        typical,
    )


def member_trust(probability: torch.Tensor, typical: torch.Tensor) -> torch.Tensor:
    """How much of its up-weight a small slice's member keeps: ``min(1, p / (p_bar /
    2))``, ``p`` its membership probability and ``p_bar`` the slice's typical
    member's (``updated_typical_member_probability``).

    A member the indicator rates at least half as likely as the slice's typical
    member keeps the full weight; one it rates far below (under SF noise, mostly
    the SF's false positives, scattered where no indicator can follow) weighs
    proportionally less. See ``slice_losses``.

    Parameters
    ----------
    probability
        ``(batch, n_slices)``: ``sigmoid(q)``, not differentiated.
    typical
        ``(n_slices,)``: ``p_bar``.

    Returns
    -------
    torch.Tensor
        ``(batch, n_slices)`` in ``[0, 1]``.

    Examples
    --------
    >>> import torch
    >>> member_trust(torch.tensor([[0.9], [0.2], [0.05]]), torch.tensor([0.8])).tolist()
    [[1.0], [0.5], [0.125]]
    """
    return (probability / (0.5 * typical).clamp(min=1e-6)).clamp(max=1.0)


def slice_losses(
    indicator_logits: torch.Tensor,
    predictor_logits: torch.Tensor,
    membership: torch.Tensor,
    labels: torch.Tensor,
    balance_indicators: bool | float = True,
    member_weight_decay: float = DEFAULT_MEMBER_WEIGHT_DECAY,
    base_row_weights: torch.Tensor | None = None,
    full_weight_slices: torch.Tensor | None = None,
    typical_member_probability: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed indicator and predictor losses of all slices of a batch.

    Each slice contributes the mean loss over its rows, as one snorkel task per slice
    would: the indicator loss is the binary cross-entropy of ``q_i`` against slice
    membership over the whole batch; the predictor loss is the cross-entropy of
    ``p_i`` against the label, over the slice's members only. A slice with no
    labelled member in the batch contributes exactly zero (no NaN).

    Critical slices are small (1-4% of rows), so a plain mean gives an indicator
    almost no signal from its members and it drifts to "never in the slice", which
    switches the slice expert off. With ``balance_indicators`` the members' terms of
    slice ``i`` are weighted by ``(non-members / members) ** power`` in the batch:
    on the synthetic study weighting (power 0.5) raised s2 F1 from 62 ± 34 to 84 ± 9
    over 5 seeds (``bench/synthetic.py --ablation``).

    The weight has a price: it moves the optimum of ``q_i`` from the membership
    log-odds up by ``power * log(non-members / members)`` (4.6 at power 1 for a 1%
    slice), so the indicator also claims some rows just outside the slice. A lower
    power claims fewer but lets small slices go in some seeds. The default, power 1
    (members and non-members weigh the same in total), was chosen on issue 17's
    seven geometries (``bench/geometries.py``, 5 seeds, lr 0.001, attention
    ``softmax(Q)``): against power 0.5 it cost at most 0.2 overall F1 and made the
    slices reliable, e.g. five slices of 0.5-1% went from 81.2 ± 10.8 to 89.9 ± 2.8
    mean slice F1 and the held-out task from 87.2 ± 7.1 to 91.4 ± 3.7. Power 0.25
    lost most of a thin strip there (with the paper's attention, 84.9 -> 66.9).

    Once a slice is learned the full weight only pushes its boundary outwards, so by
    default it fades with the indicator's confidence (``member_weight_decay``,
    issue 17's step 7): a member the indicator already recognises weighs about 1,
    and one it still misses keeps the full weight, so small slices are still
    learned while the learned boundary relaxes towards the calibrated one. On the
    real tables of ``bench/real_data.py`` (slices of 5-23% of the rows, 10 seeds)
    it raised overall / mean slice F1 from 51.0 / 51.9 to 51.8 / 52.7 on ``fair``
    and from 91.6 / 78.6 to 92.2 / 79.8 on the spam comments; BENCHMARKS.md
    ("Issue 17: why the defaults ... changed", step 7) has the synthetic suite.

    Slices too small for that (``SliceAwareClassifier``'s small slices,
    ``full_weight_slices``) keep the full weight ``w``, about 99 for a 1% slice,
    except for the members their indicator rates far below the slice's typical
    member (``typical_member_probability``, ``member_trust``): under SF noise those
    are mostly the SF's false positives, scattered where no indicator can follow,
    and at the full weight each of them pulled the indicator as hard as a true
    member (issue 17's step 17). On the held-out task with 20% SF noise (5 seeds)
    the thin strip's indicator then rated its true members 0.87 instead of 0.72 on
    average and the rows just outside it 0.13 instead of 0.25; the mean slice F1
    went from 91.2 +- 5.0 to 91.1 +- 3.0 and with 40% noise from 78.6 +- 11.6 to
    81.2 +- 8.3, every other setting of the suite within its seed spread.

    Parameters
    ----------
    indicator_logits
        ``(batch, n_slices)``.
    predictor_logits
        ``(batch, n_slices, cardinality)``.
    membership
        Bool ``(batch, n_slices)``: row ``b`` is in slice ``j``.
    labels
        Hard ``(batch,)`` or soft ``(batch, cardinality)`` labels; see
        ``label_distribution``.
    balance_indicators
        Up-weight slice members in the indicator loss, as described above: ``True``
        for power ``DEFAULT_BALANCE_POWER`` (1), a number in ``[0, 1]`` for that
        power, ``False`` (or 0) for the plain mean.
    member_weight_decay
        Exponent ``gamma >= 0`` of the decay of a member's weight as its indicator
        learns it: the weight ``w`` becomes ``1 + (w - 1) * (1 - sigmoid(q)) **
        gamma`` (``sigmoid(q)`` not differentiated), so a member the indicator
        already recognises weighs about 1 and one it still misses weighs ``w``.
        ``0`` keeps the full weight ``w`` for every member.
    full_weight_slices
        Bool ``(n_slices,)``: slices whose members keep the full weight ``w``
        whatever ``member_weight_decay`` (``SliceAwareClassifier`` passes its small
        slices); ``None`` for none.
    typical_member_probability
        ``(n_slices,)``: each slice's typical member probability ``p_bar``
        (``updated_typical_member_probability``). With ``full_weight_slices``, a
        member of those slices weighs ``1 + (w - 1) * member_trust(sigmoid(q),
        p_bar)`` instead of ``w``; ``None`` keeps ``w``.
    base_row_weights
        ``None``: the last column (the base slice) is a slice like the others, its
        predictor loss the mean over its members. Otherwise ``(batch,)`` weights of
        the base predictor's rows (``SliceAwareClassifier`` passes the attention the
        base gets on each row; see its ``base_predictor_rows``): its loss is the
        weighted mean over the labelled rows.

    Returns
    -------
    tuple of torch.Tensor
        Scalar indicator loss and scalar predictor loss.

    Examples
    --------
    >>> import torch
    >>> membership = torch.tensor([[True, True], [False, True]])
    >>> indicator_loss, predictor_loss = slice_losses(
    ...     torch.zeros(2, 2), torch.zeros(2, 2, 2), membership, torch.tensor([0, 1]),
    ...     balance_indicators=False)
    >>> round(indicator_loss.item(), 4), round(predictor_loss.item(), 4)  # 2 * ln 2
    (1.3863, 1.3863)
    """
    member_weights = membership.to(indicator_logits.dtype)
    per_row_indicator = F.binary_cross_entropy_with_logits(
        indicator_logits, member_weights, reduction="none"
    )
    power = balance_power(balance_indicators)
    if power > 0:
        positive_weight = balanced_member_weight(member_weights, power)
        decay = check_member_weight_decay(member_weight_decay)
        trusted = full_weight_slices is not None and (
            typical_member_probability is not None
        )
        if decay > 0 or trusted:
            probability = torch.sigmoid(indicator_logits.detach())
            kept = (1.0 - probability).pow(decay) if decay > 0 else 1.0
            if full_weight_slices is not None:
                full_kept = (
                    1.0
                    if typical_member_probability is None
                    else member_trust(probability, typical_member_probability)
                )
                kept = torch.where(full_weight_slices, full_kept, kept)
            positive_weight = 1.0 + (positive_weight - 1.0) * kept
        per_row_indicator = per_row_indicator * torch.where(
            membership, positive_weight, torch.ones_like(per_row_indicator)
        )
    indicator_loss = per_row_indicator.mean(dim=0)
    membership = member_weights

    distribution, known = label_distribution(labels, predictor_logits.shape[-1])
    # Classes on the first axis: a softmax and a sum over the last axis of 2 classes
    # run a loop per row; over the first they run down whole rows of the batch. The
    # same numbers with 2 or 3 classes (bit for bit, values and gradients; handed
    # back contiguous, the gradient is the one the layers before expect) in 2.6x less
    # time (forward and backward, 65 slices, batch 64, one thread).
    log_probs = F.log_softmax(
        contiguous_gradient(predictor_logits).movedim(-1, 0), dim=0
    )
    per_row = -(log_probs * distribution.t().unsqueeze(-1)).sum(dim=0)
    weights = membership * known.unsqueeze(1).to(membership.dtype)
    if base_row_weights is not None:  # ``weights`` is a fresh product: no copy
        weights[:, -1] = 0.0
    counts = weights.sum(dim=0)
    predictor_loss = (per_row * weights).sum(dim=0) / counts.clamp(min=1.0)
    predictor_total = predictor_loss.sum()
    if base_row_weights is not None:
        base_weights = base_row_weights * known.to(base_row_weights.dtype)
        predictor_total = predictor_total + (
            per_row[:, -1] * base_weights
        ).sum() / base_weights.sum().clamp(min=1e-6)
    return indicator_loss.sum(), predictor_total
