"""Module state around training and inference: eval mode, seeds, fresh weights, and
the trainer ``fit`` runs."""

import random
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from snorkel.classification import Trainer
from torch import nn

from slicing.model.optimizer import FlatAdam

__all__ = [
    "ForeachTrainer",
    "eval_mode",
    "reinitialize_parameters",
    "seed_everything",
    "start_training",
]


@contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """Put ``module`` in eval mode for the block, then restore every submodule's mode.

    Restores each submodule's own ``training`` flag, so a submodule the user froze
    in eval mode (e.g. a batch norm) stays frozen after prediction.

    Examples
    --------
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Linear(2, 2), nn.Dropout())
    >>> with eval_mode(net):
    ...     net.training
    False
    >>> net.training
    True
    """
    modes = [(submodule, submodule.training) for submodule in module.modules()]
    module.eval()
    try:
        yield module
    finally:
        for submodule, training in modes:
            submodule.training = training


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, numpy's global generator and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def reinitialize_parameters(module: nn.Module) -> list[str]:
    """Redraw every parameter of ``module`` with its submodules' ``reset_parameters``.

    Submodules are visited in registration order, so after ``seed_everything`` the
    same architecture gets the same weights, whatever it was built or trained with.

    Parameters
    ----------
    module
        The model; each submodule that defines ``reset_parameters`` (every torch
        layer with weights does) resets the parameters it holds directly. A
        submodule whose ``resets_submodules`` attribute is true resets its own
        submodules too (e.g. ``slicing.model.heads.SmallSliceIndicators``, which
        draws from a fork of the random state); they are not visited again.

    Returns
    -------
    list of str
        Names of the parameters no ``reset_parameters`` covered (they keep their
        values); empty when every parameter was redrawn.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Linear(2, 2))
    >>> net.register_parameter("scale", nn.Parameter(torch.ones(1)))
    >>> _ = torch.manual_seed(0); reinitialize_parameters(net)
    ['scale']
    >>> first = net[0].weight.detach().clone()
    >>> _ = torch.manual_seed(0); _ = reinitialize_parameters(net)
    >>> torch.equal(first, net[0].weight)
    True
    """
    covered: set[int] = set()
    reset_by_parent: set[int] = set()
    for submodule in module.modules():
        if id(submodule) in reset_by_parent:
            continue
        reset = getattr(submodule, "reset_parameters", None)
        if callable(reset):
            reset()
            whole = getattr(submodule, "resets_submodules", False)
            covered.update(id(p) for p in submodule.parameters(recurse=whole))
            if whole:
                reset_by_parent.update(map(id, submodule.modules()))
    return [
        name
        for name, parameter in module.named_parameters()
        if id(parameter) not in covered
    ]


def start_training(
    module: nn.Module, *, seed: int | None, reinitialize: bool | None
) -> None:
    """Seed every random source and, by default with a seed, redraw the weights.

    ``reinitialize=None`` means ``seed is not None``: a seeded ``fit`` starts from
    weights drawn from the seed, so it repeats exactly in any process. Parameters
    that no ``reset_parameters`` covers keep their values, with a warning.
    """
    if seed is not None:
        seed_everything(seed)
    if reinitialize if reinitialize is not None else seed is not None:
        kept = reinitialize_parameters(module)
        if kept:
            warnings.warn(
                f"fit could not redraw parameters {kept} (their modules have no "
                "reset_parameters); they keep their current values, so training "
                "repeats exactly only if those are equal",
                stacklevel=3,
            )


class ForeachTrainer(Trainer):
    """snorkel's ``Trainer`` with less work per step around the same arithmetic.

    - The optimizer updates all parameters in a few calls per step. snorkel builds
      ``torch.optim.Adam`` (or SGD, Adamax) with torch's default ``foreach=None``,
      which on the CPU updates the parameters one tensor at a time: about 30
      microseconds per parameter tensor and step, a fifth of a slice-aware model's
      epoch at k = 64 on a small network. This trainer sets ``foreach=True`` and
      replaces Adam by :class:`slicing.model.optimizer.FlatAdam`, the same update
      on one flat tensor, which also does snorkel's gradient clipping
      (``grad_clip``; the loop's own clipping is off while ``fit`` runs).
    - snorkel's ``_logging`` switches the whole model to eval mode and back after
      every step; here only around an evaluation or a checkpoint.

    The same weights, bit for bit, as snorkel's ``Trainer`` (after an epoch of
    ``bench/train_scaling.py`` at k = 64; ``test/model/test_training.py``). On
    that epoch these changes save 13% (0.76 against 0.88 s).

    Examples
    --------
    >>> from torch import nn
    >>> trainer = ForeachTrainer(n_epochs=1, progress_bar=False)
    >>> trainer._set_optimizer(nn.Linear(2, 2))
    >>> type(trainer.optimizer).__name__, trainer.optimizer.param_groups[0]["foreach"]
    ('FlatAdam', True)
    """

    def _set_optimizer(self, model: nn.Module) -> None:
        super()._set_optimizer(model)
        for group in self.optimizer.param_groups:
            if group.get("foreach") is None:
                group["foreach"] = True
        if type(self.optimizer) is torch.optim.Adam:
            # FlatAdam clips as snorkel's loop would, with one multiply: the loop
            # skips its clipping while ``fit`` runs (``grad_clip`` 0).
            self.optimizer = FlatAdam(
                self.optimizer.param_groups, max_grad_norm=self.config.grad_clip
            )
            self.config = self.config._replace(grad_clip=0.0)

    def fit(self, model: nn.Module, dataloaders: list[Any]) -> None:
        """snorkel's ``Trainer.fit``; ``config.grad_clip`` reads as given after it."""
        grad_clip = self.config.grad_clip
        try:
            super().fit(model, dataloaders)
        finally:
            self.config = self.config._replace(grad_clip=grad_clip)

    def _logging(
        self, model: nn.Module, dataloaders: list[Any], batch_size: int
    ) -> dict[str, float]:
        """snorkel's ``Trainer._logging``, with the model in eval mode only while it
        is evaluated or checkpointed.

        snorkel switches the whole model to eval mode and back after every step,
        a walk over every submodule twice per step, though a step that neither
        evaluates nor checkpoints never reads the mode.
        """
        self.log_manager.update(batch_size)
        metric_dict: dict[str, float] = dict(self._aggregate_losses())
        if self.log_manager.trigger_evaluation():
            model.eval()
            metric_dict.update(
                self._evaluate(model, dataloaders, self.config.valid_split)
            )
            self._log_metrics(metric_dict)
            self._reset_losses()
            model.train()
        if self.log_manager.trigger_checkpointing():
            model.eval()
            self._checkpoint_model(model, metric_dict)
            self._reset_losses()
            model.train()
        return metric_dict
