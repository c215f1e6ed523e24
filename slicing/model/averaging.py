"""An exponential moving average of a model's weights, kept while it trains."""

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn
from torch.optim.optimizer import register_optimizer_step_post_hook

__all__ = [
    "DEFAULT_EMA_DECAY",
    "DEFAULT_EMA_MAX_EPOCHS",
    "WeightAverage",
    "check_ema_decay",
    "check_ema_max_epochs",
    "decay_spanning_epochs",
]

FULL_CHECK_EVERY = 256
"""``WeightAverage.update`` re-reads the module's weights every this many steps."""

DEFAULT_EMA_DECAY = 0.999
"""Per-step decay of the weight average ``SliceAwareClassifier.fit`` keeps (issue 17,
step 12 in ``BENCHMARKS.md``): it averages over about the last 1,000 steps."""


DEFAULT_EMA_MAX_EPOCHS = 4.0
"""The longest span, in epochs, of the average ``SliceAwareClassifier.fit`` keeps (issue
17, step 13): with few steps per epoch (large batches, small data) 1,000 steps cover
many epochs, over which the weights drift rather than swing, and the average lags."""


def check_ema_decay(decay: float | None) -> float | None:
    """``decay`` if it is ``None`` or a number in ``[0, 1)``; a ``ValueError`` if not."""
    if decay is None:
        return None
    if isinstance(decay, bool) or not isinstance(decay, (int, float)):
        raise ValueError(f"ema_decay must be a number in [0, 1) or None; got {decay!r}")
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"ema_decay must be in [0, 1); got {decay!r}")
    return float(decay)


def check_ema_max_epochs(epochs: float | None) -> float | None:
    """``epochs`` if it is ``None`` or a positive number; a ``ValueError`` if not."""
    if epochs is None:
        return None
    if isinstance(epochs, bool) or not isinstance(epochs, (int, float)):
        raise ValueError(
            f"ema_max_epochs must be a positive number or None; got {epochs!r}"
        )
    if not epochs > 0 or epochs == float("inf"):
        raise ValueError(f"ema_max_epochs must be positive and finite; got {epochs!r}")
    return float(epochs)


def decay_spanning_epochs(
    decay: float, steps_per_epoch: int, max_epochs: float | None
) -> float:
    """``decay``, lowered where needed so that the average spans at most ``max_epochs``
    epochs of ``steps_per_epoch`` steps (``1 / (1 - decay)`` steps).

    ``max_epochs=None`` leaves ``decay`` as it is.

    Examples
    --------
    >>> decay_spanning_epochs(0.999, steps_per_epoch=313, max_epochs=4)  # 1,000 < 1,252
    0.999
    >>> round(decay_spanning_epochs(0.999, steps_per_epoch=79, max_epochs=4), 5)
    0.99684
    """
    if max_epochs is None or steps_per_epoch < 1:
        return decay
    return min(decay, 1.0 - 1.0 / (max_epochs * steps_per_epoch))


class WeightAverage:
    """An exponential moving average of ``module``'s floating-point weights.

    Call ``update`` after each optimizer step; ``copy_to_module`` ends training with
    the average in the module, and ``swapped_in`` lends it to the module for a block
    (e.g. to validate mid-training). The average covers every floating-point
    parameter and buffer (so a batch norm's running statistics match its weights);
    other buffers keep the module's values. Step ``t`` moves the average towards the
    module's weights by ``1 - min(decay, (1 + t) / (10 + t))``, so the first steps
    are not outweighed by the initial weights (as in TensorFlow's
    ``ExponentialMovingAverage`` with ``num_updates``).

    Averaging the last steps' weights (Polyak averaging) removes most of the
    epoch-to-epoch swing of a model trained with a constant learning rate: on issue
    17's geometries the seed spread of the mean slice F1 fell from 4.5 to 2.7.

    Parameters
    ----------
    module
        The model being trained; the average starts at its current weights.
    decay
        Per-step decay in ``[0, 1)``; the average spans about ``1 / (1 - decay)``
        steps.

    Attributes
    ----------
    updates
        Steps averaged so far.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> net = nn.Linear(1, 1, bias=False)
    >>> _ = nn.init.zeros_(net.weight)
    >>> average = WeightAverage(net, decay=0.5)
    >>> with torch.no_grad():
    ...     _ = net.weight.fill_(1.0)
    >>> average.update()  # step 1 moves it 1 - min(0.5, 2 / 11) = 9 / 11 of the way
    >>> with average.swapped_in():
    ...     round(net.weight.item(), 3)
    0.818
    >>> net.weight.item()
    1.0
    >>> average.copy_to_module()
    >>> round(net.weight.item(), 3)
    0.818
    """

    def __init__(self, module: nn.Module, decay: float = DEFAULT_EMA_DECAY) -> None:
        checked = check_ema_decay(decay)
        if checked is None:
            raise ValueError("WeightAverage needs a decay; got None")
        self.module = module
        self.decay = checked
        self.updates = 0
        self._tracked = self._weights()
        self._averages = [tensor.detach().clone() for tensor in self._tracked]

    def _weights(self) -> list[torch.Tensor]:
        # The parameters themselves, not detached views: a view would keep the old
        # storage when ``module.to(...)`` swaps a parameter's data. Only read or
        # written under ``torch.no_grad()``.
        tensors = list(self.module.parameters()) + list(self.module.buffers())
        return [tensor for tensor in tensors if tensor.is_floating_point()]

    def _checked_weights(self) -> list[torch.Tensor]:
        weights = self._weights()
        if len(weights) != len(self._averages) or any(
            w.shape != a.shape for w, a in zip(weights, self._averages)
        ):
            raise RuntimeError(
                "the module's weights changed shape or number since the "
                "WeightAverage was made; make a new one"
            )
        for index, (weight, average) in enumerate(zip(weights, self._averages)):
            if average.device != weight.device or average.dtype != weight.dtype:
                self._averages[index] = average.to(weight.device, weight.dtype)
        self._tracked = weights
        return weights

    @torch.no_grad()
    def update(self) -> None:
        """Move the average towards the module's current weights (one step)."""
        # The full check walks the module; per step the tensors found last time
        # serve, re-checked every FULL_CHECK_EVERY steps (and by copy_to_module and
        # swapped_in). Hot-path cost is one fused lerp over the weights.
        if self.updates % FULL_CHECK_EVERY == 0:
            self._checked_weights()
        step = self.updates + 1
        decay = min(self.decay, (1 + step) / (10 + step))
        try:
            torch._foreach_lerp_(self._averages, self._tracked, 1.0 - decay)
        except RuntimeError:  # moved to another device or dtype since the last check
            torch._foreach_lerp_(self._averages, self._checked_weights(), 1.0 - decay)
        self.updates += 1

    @torch.no_grad()
    def copy_to_module(self) -> None:
        """Put the average into the module's weights (the end of training)."""
        for weight, average in zip(self._checked_weights(), self._averages):
            weight.copy_(average)

    @contextmanager
    def swapped_in(self) -> Iterator[nn.Module]:
        """The module with the average as its weights for the block, then its own."""
        weights = self._checked_weights()
        with torch.no_grad():
            own = [weight.clone() for weight in weights]
            for weight, average in zip(weights, self._averages):
                weight.copy_(average)
        try:
            yield self.module
        finally:
            with torch.no_grad():
                for weight, kept in zip(weights, own):
                    weight.copy_(kept)

    @contextmanager
    def following_optimizers(self) -> Iterator["WeightAverage"]:
        """``update`` after every step of an optimizer over the module, for the block.

        For training loops that create their optimizer inside (snorkel's
        ``Trainer``): a global optimizer step hook, removed when the block ends,
        updates the average after each ``step()`` of any optimizer holding one of
        the module's parameters.
        """
        own = {id(parameter) for parameter in self.module.parameters()}
        follows: dict[int, bool] = {}  # id(optimizer) -> it steps the module

        def after_step(optimizer: torch.optim.Optimizer, *_: object) -> None:
            key = id(optimizer)
            if key not in follows:
                follows[key] = any(
                    id(parameter) in own
                    for group in optimizer.param_groups
                    for parameter in group["params"]
                )
            if follows[key]:
                self.update()

        handle = register_optimizer_step_post_hook(after_step)
        try:
            yield self
        finally:
            handle.remove()
