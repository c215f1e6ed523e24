"""Adam that updates all of a parameter group's weights as one flat tensor per step.

A slice-aware model holds a dozen small weight tensors more than its backbone (the
slices' expert maps, indicators, shared head, combiner). On the CPU torch's
``foreach`` Adam still loops over tensors, about ten calls per tensor and step, so
with small networks the update rather than the arithmetic sets the pace.
``FlatAdam`` keeps each group's weights and moments as views into one flat tensor
and updates that tensor with torch's own ``adam`` function, once per group: the
same element-wise update, so the same weights bit for bit (test), in a fraction
of the calls.
"""

from typing import Any

import torch
from torch.optim.adam import adam

__all__ = ["FlatAdam"]


def _adam_step_without_hooks() -> Any:
    """``Adam.step`` without the wrapper that runs the optimizer step hooks.

    torch wraps the ``step`` of each optimizer class it builds (``hooked``); a
    ``FlatAdam.step`` that falls back on ``Adam.step`` runs the hooks itself, once.
    """
    step = torch.optim.Adam.step
    return step.__wrapped__ if getattr(step, "hooked", False) else step


class FlatAdam(torch.optim.Adam):
    """``torch.optim.Adam`` (multi-tensor) with each group's state in one flat tensor.

    At its first step a group's parameters that have gradients move into one flat
    tensor (each parameter's ``data`` becomes a view of it, the ``Parameter``
    objects stay the same), and their moments and step counts are views into flat
    tensors too, stored in ``state`` as ``Adam`` stores them. A step then updates
    the flat tensors with torch's ``adam`` function (multi-tensor) when every
    flattened parameter, and no other, has a gradient and all have taken the same
    number of steps; any other step (a parameter without a gradient this time,
    ``amsgrad``, ``fused``, ``capturable``, ``differentiable``, sparse or complex
    gradients, mixed devices or dtypes, state loaded with ``load_state_dict``) is
    ``Adam.step`` on the same state, element for element the same update.

    With ``max_grad_norm`` it also clips the gradients first, as
    ``torch.nn.utils.clip_grad_norm_`` over all its parameters would (the same
    norms, so the same factor), with one multiply on the flat gradient instead of
    one per tensor: ``slicing.model.training.ForeachTrainer`` moves snorkel's
    ``grad_clip`` here.

    Parameters
    ----------
    params, **kwargs
        As ``torch.optim.Adam``; ``foreach`` defaults to ``True``.
    max_grad_norm
        Clip the gradients of all parameters to this total 2-norm before each
        step; ``None`` (the default) or 0: no clipping.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    >>> optimizer = FlatAdam(net.parameters(), lr=0.1)
    >>> net(torch.ones(2, 3)).sum().backward()
    >>> optimizer.step()
    >>> flat = optimizer.flat_parameters(0)
    >>> flat.numel() == sum(p.numel() for p in net.parameters())
    True
    >>> net[0].weight.untyped_storage().data_ptr() == flat.untyped_storage().data_ptr()
    True
    """

    def __init__(
        self, params: Any, max_grad_norm: float | None = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("foreach", True)
        super().__init__(params, **kwargs)
        self.max_grad_norm = float(max_grad_norm) if max_grad_norm else None
        # Per group: the flattened parameters (in order), or None before the first
        # step, and the flat tensors their data, moments and step counts live in.
        self._flat: list[dict[str, Any] | None] = [None] * len(self.param_groups)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        super().add_param_group(param_group)
        if hasattr(self, "_flat"):
            self._flat.append(None)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        # The loaded state is in tensors of its own: with it, ``_flat_plan``
        # sends every step through Adam.step.
        self._flat = [None] * len(self.param_groups)

    def flat_parameters(self, group_index: int) -> torch.Tensor | None:
        """The flat tensor holding group ``group_index``'s flattened weights, if any."""
        flat = self._flat[group_index]
        return None if flat is None else flat["param"]

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:  # type: ignore[override]
        """One Adam step: on the flat tensors where it can, else ``Adam.step``."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        plans = [
            self._flat_plan(index, group)
            for index, group in enumerate(self.param_groups)
        ]
        if not all(plans):
            self._clip_each_gradient()
            # Adam's step without the hook wrapper torch puts around every
            # optimizer class's ``step``: this step's hooks run once, around it.
            _adam_step_without_hooks()(self)
            for flat in self._flat:
                if flat is not None:
                    flat["uniform"] = None  # recheck the step counts
            return loss
        grads = [
            torch.cat([p.grad.reshape(-1) for p in flat["params"]])
            for flat in self._flat
        ]
        # Every plan holds: the flattened parameters are exactly those with a
        # gradient, in the order ``_gradient_owners`` walks them.
        factor = self._clip_factor(
            [p.grad for flat in self._flat for p in flat["params"]]
        )
        if factor is not None:
            torch._foreach_mul_(grads, factor)
        for group, flat, grad in zip(self.param_groups, self._flat, grads):
            self._flat_step(group, flat, grad)
        return loss

    def _clip_factor(self, gradients: list[torch.Tensor]) -> torch.Tensor | None:
        """``clip_grad_norm_``'s factor for ``gradients`` (``None``: no clipping).

        The same arithmetic: one 2-norm per gradient, the norm of those norms,
        ``max_grad_norm / (norm + 1e-6)`` capped at 1.
        """
        if self.max_grad_norm is None:
            return None
        if not gradients:
            return None
        norms = torch._foreach_norm(gradients, 2.0)
        total = torch.linalg.vector_norm(torch.stack(norms), 2.0)
        return torch.clamp(self.max_grad_norm / (total + 1e-6), max=1.0)

    def _clip_each_gradient(self) -> None:
        if self.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(self._gradient_owners(), self.max_grad_norm)

    def _gradient_owners(self) -> list[torch.Tensor]:
        return [
            p
            for group in self.param_groups
            for p in group["params"]
            if p.grad is not None
        ]

    def _flat_plan(self, index: int, group: dict[str, Any]) -> bool:
        """Whether group ``index`` can take a flat step now; flattens it if new."""
        if (
            group["amsgrad"]
            or group["fused"]
            or group["capturable"]
            or group["differentiable"]
            or not group["foreach"]
            or getattr(self, "grad_scale", None) is not None
        ):
            return False
        flat = self._flat[index]
        with_grad = [p for p in group["params"] if p.grad is not None]
        if flat is None:
            if not with_grad or any(self.state.get(p) for p in group["params"]):
                return False  # nothing to flatten, or state from plain steps
            if not self._flattenable(with_grad):
                return False
            self._flat[index] = self._flatten(with_grad)
            return True
        if len(with_grad) != len(flat["params"]) or any(
            a is not b for a, b in zip(with_grad, flat["params"])
        ):
            return False
        if not all(
            p.data.data_ptr() == view for p, view in zip(with_grad, flat["ptrs"])
        ):
            return False  # a parameter's data was replaced (e.g. ``module.to``)
        if flat["uniform"] is None:
            flat["uniform"] = bool((flat["steps"] == flat["steps"][0]).all())
        return flat["uniform"]

    @staticmethod
    def _flattenable(params: list[torch.Tensor]) -> bool:
        first = params[0]
        return all(
            p.device == first.device
            and p.dtype == first.dtype
            and p.dtype.is_floating_point
            and not p.is_sparse
            and not p.grad.is_sparse
            and p.grad.dtype == p.dtype
            for p in params
        )

    def _flatten(self, params: list[torch.Tensor]) -> dict[str, Any]:
        flat_param = torch.cat([p.detach().reshape(-1) for p in params])
        exp_avg = torch.zeros_like(flat_param)
        exp_avg_sq = torch.zeros_like(flat_param)
        # One float step count per parameter, as Adam keeps them (0-d CPU tensors).
        steps = torch.zeros(len(params), dtype=torch.get_default_dtype())
        offset = 0
        for index, p in enumerate(params):
            size = p.numel()
            p.data = flat_param[offset : offset + size].view_as(p)
            self.state[p] = {
                "step": steps[index],
                "exp_avg": exp_avg[offset : offset + size].view_as(p),
                "exp_avg_sq": exp_avg_sq[offset : offset + size].view_as(p),
            }
            offset += size
        return {
            "params": params,
            "ptrs": [p.data.data_ptr() for p in params],
            "param": flat_param,
            "exp_avg": exp_avg,
            "exp_avg_sq": exp_avg_sq,
            "steps": steps,
            "uniform": True,
        }

    def _flat_step(
        self, group: dict[str, Any], flat: dict[str, Any], grad: torch.Tensor
    ) -> None:
        beta1, beta2 = group["betas"]
        steps = flat["steps"]  # all equal here; adam counts the first one up
        adam(
            [flat["param"]],
            [grad],
            [flat["exp_avg"]],
            [flat["exp_avg_sq"]],
            [],
            [steps[0]],
            foreach=True,
            capturable=False,
            differentiable=False,
            fused=None,
            grad_scale=None,
            found_inf=None,
            has_complex=False,
            decoupled_weight_decay=group["decoupled_weight_decay"],
            amsgrad=False,
            beta1=beta1,
            beta2=beta2,
            lr=group["lr"],
            weight_decay=group["weight_decay"],
            eps=group["eps"],
            maximize=group["maximize"],
        )
        steps[1:].add_(1.0)
