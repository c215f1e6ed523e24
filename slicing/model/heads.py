"""All per-slice heads of a slice-aware model, computed as a few batched tensor ops.

Slice-based Learning (Chen et al., NeurIPS 2019, section 3.2) gives every slice ``i``
an indicator logit ``q_i`` (is the point in the slice?), an expert representation
``r_i = W_i z + b_i`` and a prediction ``p_i = g(r_i)`` through a head ``g`` shared by
all slices. Building these as ``2 (k + 1)`` separate modules makes training cost grow
with the number of Python calls; here all indicator logits are one matmul, all expert
transforms are one matmul, and the shared head is applied to all experts at once.
"""

import math

import torch
from torch import nn

__all__ = ["IndicatorAsTwoClassLogits", "SliceHeadsModule", "SliceHeadsOutput"]

# Keys of the dict returned by ``SliceHeadsModule.forward``.
INDICATOR_LOGITS = "indicator_logits"
EXPERT_REPRESENTATIONS = "expert_representations"
PREDICTOR_LOGITS = "predictor_logits"


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

    Attributes
    ----------
    expert_weight
        Parameter of shape ``(head_dim, n_slices * expert_dim)``: all expert maps.
    expert_bias
        Parameter of shape ``(n_slices * expert_dim,)``.
    indicator
        ``nn.Linear(head_dim, n_slices)``: one indicator logit per slice.
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
    >>> heads.parameters_per_slice()  # one 3x4 linear map + one indicator logit
    20
    """

    def __init__(
        self,
        head_dim: int,
        expert_dim: int,
        slice_names: list[str],
        cardinality: int,
    ) -> None:
        super().__init__()
        for label, value in [("head_dim", head_dim), ("expert_dim", expert_dim)]:
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{label} must be a positive int; got {value!r}")
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
        n_slices = len(self.slice_names)
        self.expert_weight = nn.Parameter(torch.empty(head_dim, n_slices * expert_dim))
        self.expert_bias = nn.Parameter(torch.empty(n_slices * expert_dim))
        self.indicator = nn.Linear(head_dim, n_slices)
        self.predictor = nn.Linear(expert_dim, cardinality)
        self.reset_parameters()

    @property
    def n_slices(self) -> int:
        """Number of slices, including the base slice."""
        return len(self.slice_names)

    def reset_parameters(self) -> None:
        """Initialise every expert map as ``nn.Linear(head_dim, expert_dim)`` would.

        The indicator and predictor are ``nn.Linear`` submodules with their own
        ``reset_parameters``; torch's convention is that each module resets only the
        parameters it holds directly.
        """
        bound = 1.0 / math.sqrt(self.head_dim)
        nn.init.uniform_(self.expert_weight, -bound, bound)
        nn.init.uniform_(self.expert_bias, -bound, bound)

    def parameters_per_slice(self) -> int:
        """Parameters each slice adds: its expert map and its indicator logit."""
        expert = self.head_dim * self.expert_dim + self.expert_dim
        indicator = self.head_dim + 1
        return expert + indicator

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
                INDICATOR_LOGITS: self.indicator(representation),
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
