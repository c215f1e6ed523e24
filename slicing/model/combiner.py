"""Attention over slice experts: ``z' = sum_i a_i r_i`` with ``a = softmax(Q + |P|)``."""

from collections.abc import Mapping
from typing import Literal, get_args

import torch
import torch.nn.functional as F
from torch import nn

from slicing.model.batched_ops import weighted_sum_over_slices

__all__ = [
    "AttentionMode",
    "IndicatorScore",
    "SliceCombinerModule",
    "prediction_confidence",
]

AttentionMode = Literal["full", "indicator", "confidence", "uniform"]
AttentionMode.__doc__ = """The attention of :class:`SliceCombinerModule` (its ``mode``).

``"indicator"`` (``Q`` only, the default), ``"full"`` (``Q + confidence``, the
paper's formula), ``"confidence"`` (confidence only) or ``"uniform"`` (plain average).
"""
ATTENTION_MODES: tuple[str, ...] = get_args(AttentionMode)
IndicatorScore = Literal["logit_vs_base", "log_probability", "logit"]
INDICATOR_SCORES: tuple[str, ...] = get_args(IndicatorScore)


def prediction_confidence(predictor_logits: torch.Tensor) -> torch.Tensor:
    """Confidence of each slice predictor: the margin between its top two logits.

    For two classes this is ``|l_1 - l_0|``, the absolute value of the binary logit
    the paper uses, so confident negatives weigh as much as confident positives. For
    more classes it stays a logit-scale quantity: how far the predicted class is
    ahead of the runner-up.

    Parameters
    ----------
    predictor_logits
        Tensor of shape ``(..., cardinality)`` with ``cardinality >= 2``.

    Returns
    -------
    torch.Tensor
        Non-negative tensor of shape ``(...)``.

    Examples
    --------
    >>> import torch
    >>> prediction_confidence(torch.tensor([[2.0, -1.0], [-1.0, 2.0]]))
    tensor([3., 3.])
    >>> prediction_confidence(torch.tensor([[0.0, 5.0, 4.0]]))
    tensor([1.])
    """
    if predictor_logits.shape[-1] < 2:
        raise ValueError(
            "predictor logits need at least 2 classes in the last dimension; "
            f"got shape {tuple(predictor_logits.shape)}"
        )
    top_two = predictor_logits.topk(2, dim=-1).values
    return top_two[..., 0] - top_two[..., 1]


class SliceCombinerModule(nn.Module):
    """Combine slice expert representations with attention, as in the paper.

    ``a = softmax((Q + confidence(P)) / temperature)`` over the ``k + 1`` slices,
    where ``Q`` scores slice membership from the indicator logits ``q`` and ``P`` are
    the slice predictor logits; the result is ``sum_i a_i r_i``. All three inputs come from one batched tensor whose
    column ``i`` belongs to slice ``i``, so indicators and experts are paired by
    identity (never by sorting names).

    Parameters
    ----------
    temperature
        Divides the attention scores; larger values give flatter attention.
    mode
        ``"indicator"`` (``Q`` only, the default), ``"full"`` (``Q + confidence``,
        the paper's formula), ``"confidence"`` (confidence only) or ``"uniform"``
        (plain average); the ablations of the paper's Figure 3.

        Why ``"indicator"``: a slice expert is trained on its members only, so just
        outside the slice it still answers with the members' labels, and confidently;
        the base predictor there is unsure, pulled by the members' labels. With
        ``"full"`` the confidence term hands those near-misses to the slice expert,
        which gets them wrong. On issue 17's held-out task (``bench/geometries.py``,
        5 seeds, lr 0.001, 150 epochs, balance power 0.5) ``"full"`` made 152 errors
        per 10,000 points in a band of width 0.1 around the slices (snorkel.slicing:
        57), 107 of them answered by a slice expert; ``"indicator"`` made 117, 26 by
        a slice expert. With balance power 1 (and linear indicators), ``"indicator"``
        scored F1 98.0 overall and 91.4 ± 3.7 on the mean slice against ``"full"``'s
        97.7 and 83.8 ± 8.2 (BENCHMARKS.md, "Issue 17: why the defaults ...
        changed"). Where slices are broad and experts are good beyond them,
        ``"full"`` can be better: on the spam comments, with today's defaults
        otherwise, it scored 93.8 overall F1 against 92.2 (``bench/real_data.py``,
        10 seeds).
    indicator_score
        How the indicator logits ``q`` enter the attention as ``Q``. The last column
        is the base slice (``convert_to_slice_tasks`` appends it last).

        ``"logit_vs_base"`` (default): ``Q_i = q_i``, the log-odds that the row is in
        slice ``i``, for every user slice, and ``Q_base = 0`` (even odds) for the
        base slice. A slice expert is preferred over the base expert where its
        membership odds are above 1, by as much as those odds say, and the base
        slice, whose indicator target is always 1, cannot outgrow the others.
        ``"log_probability"``: ``Q = log sigmoid(q)`` for all slices, the
        log-likelihood of membership. It is bounded by 0, so a slice member can at
        best tie with the base slice and only the confidence term can prefer its
        expert. ``"logit"``: ``Q = q`` for all slices, the paper read literally; the
        base slice's logit then grows without bound during training and drowns
        every other slice.

        On the synthetic study (``bench/synthetic.py``, lr 0.001, 150 epochs, 5
        seeds) the smallest slice's F1 was 90.5 +- 3.1 with ``"logit_vs_base"``
        against 82.0 +- 7.8 with ``"log_probability"`` (snorkel.slicing: 77.7 +-
        8.3); BENCHMARKS.md records both, and the raw ``"logit"`` in its ablation.
    detach_indicator
        Stop the attention's gradient from flowing into the indicator logits. Off by
        default: the base loss may then raise a slice's indicator where its expert
        helps. In the ablation (``bench/synthetic.py --ablation``, lr 0.01, 25
        epochs, 5 seeds) the two were close: F1 95.6 / 83.8 on the slices with the
        gradient, 93.9 / 85.7 detached.
    detach_confidence
        Stop the attention's gradient from flowing into the predictor logits through
        the confidence term (default): the predictors then learn only from their own
        loss and cannot inflate their logits to capture attention (with the
        gradient, the smallest slice's F1 fell from 83.8 +- 8.7 to 75.8 +- 10.6 in
        the same ablation).
    slice_ind_key, slice_pred_key, slice_pred_feat_key
        Suffixes of the output names when the module is called snorkel's way, with
        one dict of per-slice outputs (see :meth:`forward`); snorkel's defaults.

    Raises
    ------
    ValueError
        On an unknown mode or indicator score, or a non-positive temperature.

    Examples
    --------
    >>> import torch
    >>> combiner = SliceCombinerModule(mode="indicator", indicator_score="logit")
    >>> indicator_logits = torch.tensor([[3.0, 1.0]]).log()  # weights 3/4 and 1/4
    >>> predictor_logits = torch.zeros(1, 2, 2)
    >>> experts = torch.tensor([[[1.0, 1.0], [5.0, 5.0]]])
    >>> combiner(indicator_logits, predictor_logits, experts)
    tensor([[2., 2.]])
    >>> SliceCombinerModule(mode="uniform")(indicator_logits, predictor_logits, experts)
    tensor([[3., 3.]])
    """

    def __init__(
        self,
        temperature: float = 1.0,
        *,
        mode: AttentionMode = "indicator",
        detach_indicator: bool = False,
        detach_confidence: bool = True,
        indicator_score: IndicatorScore = "logit_vs_base",
        slice_ind_key: str = "_ind_head",
        slice_pred_key: str = "_pred_head",
        slice_pred_feat_key: str = "_pred_transform",
    ) -> None:
        super().__init__()
        if mode not in ATTENTION_MODES:
            raise ValueError(f"mode must be one of {ATTENTION_MODES}; got {mode!r}")
        if indicator_score not in INDICATOR_SCORES:
            raise ValueError(
                f"indicator_score must be one of {INDICATOR_SCORES}; "
                f"got {indicator_score!r}"
            )
        if not temperature > 0:
            raise ValueError(f"temperature must be positive; got {temperature!r}")
        self.temperature = float(temperature)
        self.mode = mode
        self.detach_indicator = detach_indicator
        self.detach_confidence = detach_confidence
        self.indicator_score = indicator_score
        self.output_suffixes = (slice_ind_key, slice_pred_key, slice_pred_feat_key)

    def indicator_scores(
        self, indicator_logits: torch.Tensor, *, has_base: bool = True
    ) -> torch.Tensor:
        """``Q``: the indicator term of the attention scores, ``(batch, n_slices)``.

        ``has_base``: the last column is the base slice (always, inside the model).

        Examples
        --------
        >>> import torch
        >>> q = torch.tensor([[2.0, -3.0, 9.0]])  # two user slices, then the base
        >>> SliceCombinerModule().indicator_scores(q)
        tensor([[ 2., -3.,  0.]])
        """
        if self.indicator_score == "log_probability":
            return F.logsigmoid(indicator_logits)
        if self.indicator_score == "logit" or not has_base:
            return indicator_logits
        base = torch.zeros_like(indicator_logits[:, -1:])
        return torch.cat([indicator_logits[:, :-1], base], dim=1)

    def attention_weights(
        self,
        indicator_logits: torch.Tensor,
        predictor_logits: torch.Tensor,
        *,
        has_base: bool = True,
    ) -> torch.Tensor:
        """Attention over slices, shape ``(batch, n_slices)``, rows summing to 1."""
        if self.mode == "uniform":
            return torch.full_like(indicator_logits, 1.0 / indicator_logits.shape[1])
        terms = []
        if self.mode in ("full", "indicator"):
            if self.detach_indicator:
                indicator_logits = indicator_logits.detach()
            terms.append(self.indicator_scores(indicator_logits, has_base=has_base))
        if self.mode in ("full", "confidence"):
            terms.append(self.confidence_scores(predictor_logits))
        # No zeros to add to and no division by a temperature of 1: the same
        # numbers, with fewer operations to run and differentiate every batch.
        scores = terms[0] if len(terms) == 1 else terms[0] + terms[1]
        if self.temperature != 1.0:
            scores = scores / self.temperature
        return F.softmax(scores, dim=1)

    def confidence_scores(self, predictor_logits: torch.Tensor) -> torch.Tensor:
        """The confidence term of the attention scores, ``(batch, n_slices)``.

        Examples
        --------
        >>> import torch
        >>> SliceCombinerModule().confidence_scores(torch.tensor([[[0.0, 2.0]]]))
        tensor([[2.]])
        """
        confidence = prediction_confidence(predictor_logits)
        return confidence.detach() if self.detach_confidence else confidence

    def forward(
        self,
        indicator_logits: torch.Tensor | Mapping[str, torch.Tensor],
        predictor_logits: torch.Tensor | None = None,
        expert_representations: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Return the attention-weighted sum of expert representations.

        Parameters
        ----------
        indicator_logits
            ``(batch, n_slices)``; or, as ``snorkel.slicing`` calls it, one dict of
            per-slice outputs ``<prefix><slice_ind_key>`` (two-class indicator
            logits), ``<prefix><slice_pred_key>`` (predictor logits) and
            ``<prefix><slice_pred_feat_key>`` (expert representations), paired by
            prefix, with the prefix ending ``:base`` (if any) as the base slice. The
            indicator logit is then the log-odds of membership ``l_1 - l_0``.
        predictor_logits
            ``(batch, n_slices, cardinality)``; not given with a dict.
        expert_representations
            ``(batch, n_slices, expert_dim)``; not given with a dict.

        Returns
        -------
        torch.Tensor
            ``(batch, expert_dim)``.

        Raises
        ------
        ValueError
            On mismatched shapes, or a dict whose per-slice outputs are incomplete.
        NotImplementedError
            For a dict whose predictor heads have fewer than 2 classes (as snorkel).
        """
        has_base = True
        if isinstance(indicator_logits, Mapping):
            indicator_logits, predictor_logits, expert_representations, has_base = (
                self._stack_outputs(indicator_logits)
            )
        if predictor_logits is None or expert_representations is None:
            raise ValueError(
                "pass indicator logits, predictor logits and expert representations, "
                "or one dict of per-slice outputs"
            )
        batch, n_slices = indicator_logits.shape
        if predictor_logits.shape[:2] != (
            batch,
            n_slices,
        ) or expert_representations.shape[:2] != (batch, n_slices):
            raise ValueError(
                "indicator logits, predictor logits and expert representations must "
                f"share (batch, n_slices) = {(batch, n_slices)}; got "
                f"{tuple(predictor_logits.shape)} and "
                f"{tuple(expert_representations.shape)}"
            )
        weights = self.attention_weights(
            indicator_logits, predictor_logits, has_base=has_base
        )
        return weighted_sum_over_slices(weights, expert_representations)

    def _stack_outputs(
        self, outputs: Mapping[str, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, bool]:
        """snorkel's per-slice output dict as batched tensors, base slice last."""
        ind_key, pred_key, feat_key = self.output_suffixes
        prefixes = sorted(
            (key[: -len(ind_key)] for key in outputs if str(key).endswith(ind_key)),
            key=lambda prefix: (prefix.endswith(":base"), prefix),
        )
        missing = [
            prefix + suffix
            for prefix in prefixes
            for suffix in (pred_key, feat_key)
            if prefix + suffix not in outputs
        ]
        if not prefixes or missing:
            raise ValueError(
                f"expected outputs <slice>{ind_key}, <slice>{pred_key} and "
                f"<slice>{feat_key} for every slice; missing {missing or [ind_key]}, "
                f"got keys {sorted(map(str, outputs))}"
            )
        indicators = torch.stack([outputs[p + ind_key] for p in prefixes], dim=1)
        predictors = torch.stack([outputs[p + pred_key] for p in prefixes], dim=1)
        if predictors.shape[-1] < 2:
            raise NotImplementedError(
                "SliceCombinerModule requires output shape [..., c] with c >= 2 for "
                f"predictor heads; got {tuple(predictors.shape)}"
            )
        if indicators.dim() != 3 or indicators.shape[-1] != 2:
            raise ValueError(
                "indicator heads must output two-class logits (batch, 2); got "
                f"{tuple(indicators.shape)} stacked over slices"
            )
        experts = torch.stack([outputs[p + feat_key] for p in prefixes], dim=1)
        membership_log_odds = indicators[..., 1] - indicators[..., 0]
        has_base = prefixes[-1].endswith(":base")
        return membership_log_odds, predictors, experts, has_base

    def extra_repr(self) -> str:
        return (
            f"mode={self.mode!r}, temperature={self.temperature}, "
            f"detach_indicator={self.detach_indicator}, "
            f"detach_confidence={self.detach_confidence}, "
            f"indicator_score={self.indicator_score!r}"
        )
