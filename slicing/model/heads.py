"""All per-slice heads of a slice-aware model, computed as a few batched tensor ops.

Slice-based Learning (Chen et al., NeurIPS 2019, section 3.2) gives every slice ``i``
an indicator logit ``q_i`` (is the point in the slice?), an expert representation
``r_i = W_i z + b_i`` and a prediction ``p_i = g(r_i)`` through a head ``g`` shared by
all slices. Building these as ``2 (k + 1)`` separate modules makes training cost grow
with the number of Python calls; here all indicators are one module (one or two
matmuls), all expert transforms are one matmul, and the shared head is applied to all
experts at once.
"""

import math

import torch
from torch import nn

__all__ = [
    "IndicatorAsTwoClassLogits",
    "SliceHeadsModule",
    "SliceHeadsOutput",
    "SliceIndicators",
    "SmallSliceIndicators",
]

# Keys of the dict returned by ``SliceHeadsModule.forward``.
INDICATOR_LOGITS = "indicator_logits"
EXPERT_REPRESENTATIONS = "expert_representations"
PREDICTOR_LOGITS = "predictor_logits"
# Where a slice's running mean of its members' membership probability starts.
INITIAL_TYPICAL_MEMBER_PROBABILITY = 0.5


class SliceIndicators(nn.Module):
    """Slice indicators as one small MLP per slice, batched over slices.

    ``q_i = v_i relu(U_i z + c_i) + b_i``. The paper's indicator is linear in the
    backbone representation ``z`` (as in ``snorkel.slicing``). A slice that ``z`` does
    not make linearly separable (a thin strip, or a slice whose SF is noisy) then gets
    an indicator that never rises above even odds on its members, and its expert,
    accurate on them, is never asked: on issue 17's held-out task with 20% SF noise a
    linear indicator gave a thin strip 0.39 mean membership probability on its
    members (F1 0 in that seed) while its expert was right on all of them. A hidden
    layer of ``hidden_dim`` units per slice fits such slices and claims fewer rows
    outside them (``SliceHeadsModule(..., indicator_dim=...)``; BENCHMARKS.md,
    "Issue 17: why the defaults ... changed"). For every slice it is not the
    default: it cost overall F1 where slices are broad or follow the base task's
    boundary (see the README, "Defaults, and why"). Slices under 3% of the rows get
    one by default (``SmallSliceIndicators``, ``SliceAwareClassifier``'s
    ``small_slice_fraction``).

    Parameters
    ----------
    head_dim
        Size of the backbone representation ``z``.
    n_slices
        Number of slices (including the base slice).
    hidden_dim
        Hidden units per slice.

    Attributes
    ----------
    hidden
        ``nn.Linear(head_dim, n_slices * hidden_dim)``: all hidden layers.
    weight
        Parameter ``(n_slices, hidden_dim)``: each slice's output weights.
    bias
        Parameter ``(n_slices,)``: each slice's output bias.

    Examples
    --------
    >>> import torch
    >>> indicators = SliceIndicators(head_dim=4, n_slices=3, hidden_dim=5)
    >>> indicators(torch.zeros(2, 4)).shape
    torch.Size([2, 3])
    >>> sum(p.numel() for p in indicators.parameters()) // 3  # per slice: 4*5+5+5+1
    31
    """

    def __init__(self, head_dim: int, n_slices: int, hidden_dim: int) -> None:
        super().__init__()
        self.n_slices = n_slices
        self.hidden_dim = hidden_dim
        self.hidden = nn.Linear(head_dim, n_slices * hidden_dim)
        self.weight = nn.Parameter(torch.empty(n_slices, hidden_dim))
        self.bias = nn.Parameter(torch.empty(n_slices))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Initialise each slice's output layer as ``nn.Linear(hidden_dim, 1)`` would."""
        bound = 1.0 / math.sqrt(self.hidden_dim)
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, representation: torch.Tensor) -> torch.Tensor:
        """Indicator logits ``(batch, n_slices)`` of representations ``(batch, head_dim)``."""
        hidden = torch.relu(self.hidden(representation))
        hidden = hidden.view(-1, self.n_slices, self.hidden_dim)
        # A multiply and a sum: torch.einsum("bnh,nh->bn") took 2.6x as long
        # (forward and backward, 65 slices, batch 64, one thread).
        return (hidden * self.weight).sum(dim=-1) + self.bias


class SmallSliceIndicators(SliceIndicators):
    """``SliceIndicators`` whose weights are drawn from a fork of torch's random state.

    ``SliceHeadsModule(..., small_slice_indicators=True)`` holds one beside the
    linear indicators, for the slices it marks small. Drawing it leaves torch's
    random state as it was, so the rest of the model (and the shuffling that
    follows) gets the same weights and batches as a model without it: where no
    slice is small, training is exactly that of a model without it.
    ``reset_parameters`` redraws the hidden layer too (``resets_submodules``), so
    ``slicing.model.training.reinitialize_parameters`` does not redraw it from the
    unforked state.

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> state = torch.get_rng_state()
    >>> indicators = SmallSliceIndicators(head_dim=4, n_slices=3, hidden_dim=4)
    >>> torch.equal(state, torch.get_rng_state())
    True
    """

    resets_submodules = True

    def __init__(self, head_dim: int, n_slices: int, hidden_dim: int) -> None:
        with torch.random.fork_rng(devices=[]):  # built on the CPU
            super().__init__(head_dim, n_slices, hidden_dim)

    def reset_parameters(self) -> None:
        """Redraw the hidden and output layers, as construction draws them, from a
        fork of the random state (of the CPU and of the CUDA devices they live on)."""
        devices = sorted(
            {p.device.index or 0 for p in self.parameters() if p.device.type == "cuda"}
        )
        with torch.random.fork_rng(devices=devices):
            self.hidden.reset_parameters()
            super().reset_parameters()


class SliceHeadsModule(nn.Module):
    """Indicator logits, expert representations and predictor logits for all slices.

    Parameters
    ----------
    head_dim
        Size of the backbone representation ``z``.
    expert_dim
        Size of each slice expert representation ``r_i``.
    slice_names
        Names of the slices, in column order, *including* the base slice. Kept so
        that every column can be paired with its slice by identity.
    cardinality
        Number of classes of the base task (at least 2).
    indicator_dim
        Hidden units of each slice's indicator MLP (``SliceIndicators``): ``0`` (the
        default) for the paper's linear indicator, ``None`` for ``head_dim`` units.
    small_slice_indicators
        Hold a boolean buffer ``small_slices`` (all ``False`` at first; the
        classifier sets it from the training data) and, with linear indicators, an
        MLP indicator (``SmallSliceIndicators``, ``head_dim`` hidden units) that
        replaces the linear one for the slices marked small. The MLP is computed
        only while some slice is marked small.

    Attributes
    ----------
    expert_weight
        Parameter of shape ``(head_dim, n_slices * expert_dim)``: all expert maps.
    expert_bias
        Parameter of shape ``(n_slices * expert_dim,)``.
    indicator
        ``nn.Linear(head_dim, n_slices)`` (or, with ``indicator_dim``,
        ``SliceIndicators``): one indicator logit per slice.
    small_slice_indicator
        With ``small_slice_indicators`` and linear indicators, the
        ``SmallSliceIndicators`` read by the small slices; otherwise ``None``.
    small_slices
        With ``small_slice_indicators``, a bool buffer ``(n_slices,)``: the slices
        marked small; otherwise ``None``.
    typical_member_probability
        With ``small_slice_indicators``, a float buffer ``(n_slices,)``: each
        slice's running mean of its members' membership probability, from 0.5,
        which ``SliceAwareClassifier`` updates on every training batch while some
        slice is marked small, and its small slices' member weights read
        (``slicing.model.losses.member_trust``); otherwise ``None``.
    predictor
        ``nn.Linear(expert_dim, cardinality)``: the prediction head shared by slices.

    Raises
    ------
    ValueError
        If a dimension is not positive, fewer than 2 classes, or no slice names.

    Examples
    --------
    >>> import torch
    >>> heads = SliceHeadsModule(head_dim=4, expert_dim=3, slice_names=["a", "base"],
    ...                          cardinality=2)
    >>> out = heads(torch.zeros(5, 4))
    >>> [tuple(out[key].shape) for key in sorted(out)]
    [(5, 2, 3), (5, 2), (5, 2, 2)]
    >>> heads.parameters_per_slice()  # a 3x4 expert map + one indicator logit
    20
    >>> SliceHeadsModule(4, 3, ["a", "base"], 2, indicator_dim=4).parameters_per_slice()
    40
    >>> small = SliceHeadsModule(4, 3, ["a", "base"], 2, small_slice_indicators=True)
    >>> small.parameters_per_slice()  # plus an MLP indicator, 4 hidden units
    45
    >>> _ = small.small_slices.copy_(torch.tensor([True, False]))
    >>> out = small(torch.ones(5, 4))["indicator_logits"]
    >>> torch.equal(out[:, 0], small.small_slice_indicator(torch.ones(5, 4))[:, 0])
    True
    """

    def __init__(
        self,
        head_dim: int,
        expert_dim: int,
        slice_names: list[str],
        cardinality: int,
        indicator_dim: int | None = 0,
        small_slice_indicators: bool = False,
    ) -> None:
        super().__init__()
        for label, value in [("head_dim", head_dim), ("expert_dim", expert_dim)]:
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{label} must be a positive int; got {value!r}")
        indicator_dim = head_dim if indicator_dim is None else indicator_dim
        if (
            not isinstance(indicator_dim, int)
            or isinstance(indicator_dim, bool)
            or indicator_dim < 0
        ):
            raise ValueError(
                "indicator_dim must be None, 0 (linear indicators) or a positive int; "
                f"got {indicator_dim!r}"
            )
        if not isinstance(cardinality, int) or cardinality < 2:
            raise ValueError(
                f"cardinality must be an int >= 2 (number of classes); got {cardinality!r}"
            )
        if not slice_names:
            raise ValueError("slice_names must hold at least the base slice")
        self.head_dim = head_dim
        self.expert_dim = expert_dim
        self.slice_names = list(slice_names)
        self.cardinality = cardinality
        self.indicator_dim = indicator_dim
        n_slices = len(self.slice_names)
        self.expert_weight = nn.Parameter(torch.empty(head_dim, n_slices * expert_dim))
        self.expert_bias = nn.Parameter(torch.empty(n_slices * expert_dim))
        self.indicator: nn.Module = (
            SliceIndicators(head_dim, n_slices, indicator_dim)
            if indicator_dim
            else nn.Linear(head_dim, n_slices)
        )
        self.small_slice_indicator: SmallSliceIndicators | None = (
            SmallSliceIndicators(head_dim, n_slices, head_dim)
            if small_slice_indicators and not indicator_dim
            else None
        )
        self.small_slices: torch.Tensor | None
        self.register_buffer(
            "small_slices",
            torch.zeros(n_slices, dtype=torch.bool) if small_slice_indicators else None,
        )
        self.typical_member_probability: torch.Tensor | None
        self.register_buffer(
            "typical_member_probability",
            torch.full((n_slices,), INITIAL_TYPICAL_MEMBER_PROBABILITY)
            if small_slice_indicators
            else None,
        )
        self.predictor = nn.Linear(expert_dim, cardinality)
        self.reset_parameters()

    @property
    def n_slices(self) -> int:
        """Number of slices, including the base slice."""
        return len(self.slice_names)

    def reset_parameters(self) -> None:
        """Initialise every expert map as ``nn.Linear(head_dim, expert_dim)`` would,
        and start the typical member probabilities afresh (as a batch norm's
        ``reset_parameters`` resets its running statistics).

        The indicator and predictor are submodules with their own
        ``reset_parameters``; torch's convention is that each module resets only the
        parameters it holds directly.
        """
        bound = 1.0 / math.sqrt(self.head_dim)
        nn.init.uniform_(self.expert_weight, -bound, bound)
        nn.init.uniform_(self.expert_bias, -bound, bound)
        if self.typical_member_probability is not None:
            self.typical_member_probability.fill_(INITIAL_TYPICAL_MEMBER_PROBABILITY)

    def parameters_per_slice(self) -> int:
        """Parameters each slice adds: its expert map and its indicator(s)."""
        expert = self.head_dim * self.expert_dim + self.expert_dim
        if self.indicator_dim:
            indicator = (self.head_dim + 2) * self.indicator_dim + 1
        else:
            indicator = self.head_dim + 1
        if self.small_slice_indicator is not None:
            indicator += (self.head_dim + 2) * self.head_dim + 1
        return expert + indicator

    def indicator_logits(self, representation: torch.Tensor) -> torch.Tensor:
        """Indicator logits ``(batch, n_slices)``: each slice's own indicator, the
        MLP for the slices marked small."""
        small = self.small_slices
        if self.small_slice_indicator is None or small is None or not small.any():
            return self.indicator(representation)
        small_logits = self.small_slice_indicator(representation)
        return torch.where(small, small_logits, self.indicator(representation))

    def forward(self, representation: torch.Tensor) -> "SliceHeadsOutput":
        """Compute all slice heads for a batch of backbone representations.

        Parameters
        ----------
        representation
            Backbone output ``z`` of shape ``(batch, head_dim)``.

        Returns
        -------
        SliceHeadsOutput
            ``indicator_logits`` ``(batch, n_slices)``, ``expert_representations``
            ``(batch, n_slices, expert_dim)`` and ``predictor_logits``
            ``(batch, n_slices, cardinality)``; column ``j`` is ``slice_names[j]``.
        """
        if representation.dim() != 2 or representation.shape[1] != self.head_dim:
            raise ValueError(
                f"expected a representation of shape (batch, {self.head_dim}); "
                f"got {tuple(representation.shape)}"
            )
        experts = torch.addmm(self.expert_bias, representation, self.expert_weight)
        experts = experts.view(-1, self.n_slices, self.expert_dim)
        return SliceHeadsOutput(
            {
                INDICATOR_LOGITS: self.indicator_logits(representation),
                EXPERT_REPRESENTATIONS: experts,
                PREDICTOR_LOGITS: self.predictor(experts),
            }
        )


class SliceHeadsOutput(dict):
    """Output of ``SliceHeadsModule``: three batched tensors, plus per-slice columns.

    Besides its three keys, a key ``(field, index)`` returns column ``index`` of that
    field, computed on demand. snorkel ``Operation`` inputs of the form
    ``(op_name, key)`` read dict outputs by key, so every per-slice task reads its
    column from one batched output, through one shared parameter-free module,
    instead of owning a module per slice.

    Examples
    --------
    >>> import torch
    >>> output = SliceHeadsOutput(indicator_logits=torch.tensor([[0.5, 2.0]]))
    >>> output[("indicator_logits", 1)]
    tensor([2.])
    """

    def __missing__(self, key: object) -> torch.Tensor:
        if isinstance(key, tuple) and len(key) == 2 and key[0] in self:
            field, index = key
            return self[field][:, index]
        raise KeyError(key)


class IndicatorAsTwoClassLogits(nn.Module):
    """Map an indicator logit ``q`` of shape ``(batch,)`` to logits ``[0, q]``.

    snorkel's default softmax output and cross-entropy loss then give ``sigmoid(q)``
    and the binary cross-entropy of the paper, so indicator tasks are ordinary
    two-class snorkel tasks.

    Examples
    --------
    >>> import torch
    >>> IndicatorAsTwoClassLogits()(torch.tensor([2.0]))
    tensor([[0., 2.]])
    """

    def forward(self, indicator_logit: torch.Tensor) -> torch.Tensor:
        return torch.stack([torch.zeros_like(indicator_logit), indicator_logit], dim=1)
