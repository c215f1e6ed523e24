"""``SliceAwareClassifier``: Slice-based Learning on snorkel's ``MultitaskClassifier``.

The model is a ``MultitaskClassifier`` over the tasks of ``convert_to_slice_tasks``,
so snorkel's ``Trainer``, ``predict`` and ``score`` work with snorkel's keys. Two
things differ from ``snorkel.slicing``: training reads one ``(batch, k + 1)``
membership tensor and computes every slice loss in a few batched operations
(``calculate_loss``), and the model stays on the device it was given, without
``nn.DataParallel`` wrappers. This module builds, trains and saves the model;
prediction and scoring are in ``inference`` (its base class), and batching, devices,
seeding, label checks and persistence in ``data``, ``devices``, ``training``,
``labels`` and ``persistence``.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from snorkel.analysis import Scorer
from snorkel.classification import DictDataLoader, DictDataset, Trainer
from snorkel.classification.data import DEFAULT_INPUT_DATA_KEY, DEFAULT_TASK_NAME
from torch import nn

from slicing.model.averaging import (
    DEFAULT_EMA_DECAY,
    DEFAULT_EMA_MAX_EPOCHS,
    WeightAverage,
    check_ema_decay,
    check_ema_max_epochs,
    decay_spanning_epochs,
)
from slicing.model.combiner import SliceCombinerModule
from slicing.model.data import collate_stacked, make_slice_dataloader
from slicing.model.devices import Device, resolve_device
from slicing.model.heads import (
    INDICATOR_LOGITS,
    INITIAL_TYPICAL_MEMBER_PROBABILITY,
    PREDICTOR_LOGITS,
    SliceHeadsModule,
)
from slicing.model.inference import SliceAwareInference
from slicing.model.labels import validate_base_labels
from slicing.model.losses import (
    DEFAULT_MEMBER_WEIGHT_DECAY,
    balance_power,
    check_member_weight_decay,
    slice_losses,
    updated_typical_member_probability,
)
from slicing.model.persistence import load_checked_state, save_state
from slicing.model.tasks import (
    check_slice_names,
    convert_to_slice_tasks,
    find_slice_heads,
    make_base_task,
    slice_membership_label,
    slice_part_name,
)
from slicing.model.training import ForeachTrainer, start_training

__all__ = [
    "BASE_PREDICTOR_ROWS",
    "DEFAULT_SMALL_SLICE_FRACTION",
    "SliceAwareClassifier",
    "collate_stacked",
]

BASE_PREDICTOR_ROWS = ("all", "attention")
"""The values of ``SliceAwareClassifier(base_predictor_rows=...)``."""

DEFAULT_SMALL_SLICE_FRACTION = 0.03
"""Slices whose SF marks fewer than this share of the training rows are small."""


def _default_scorer(cardinality: int) -> Scorer:
    return Scorer(metrics=["accuracy", "f1" if cardinality == 2 else "f1_macro"])


class SliceAwareClassifier(SliceAwareInference):
    """A classifier that commits extra capacity to slices (Chen et al., 2019).

    Backbone ``z = f(x)``; per slice ``i`` (plus a ``base`` slice covering all rows)
    an indicator logit ``q_i`` (linear in ``z`` as in the paper; a small MLP for
    the slices under ``small_slice_fraction`` of the rows, or for every slice with
    ``indicator_dim``), an expert ``r_i = W_i z + b_i`` and a shared
    prediction head ``p_i = g(r_i)``; the final head (``g`` itself by default) reads
    ``sum_i a_i r_i`` with ``a = softmax(Q)`` by default, where ``Q`` is each user
    slice's indicator logit (its membership log-odds) and 0 for the base slice; the
    paper's ``softmax(Q + confidence(P))`` is ``SliceCombinerModule(mode="full")``
    (see its ``mode`` for why it is not the default).
    Inference needs only the inputs: slicing functions are not needed at serving
    time. Train single-threaded (``torch.set_num_threads(1)``) unless the backbone
    is large: on a shared 2-core machine two threads ran up to 15x slower per epoch.

    Parameters
    ----------
    base_architecture
        Module mapping ``X_dict[input_data_key]`` to a ``(batch, head_dim)``
        representation.
    head_dim
        Size of the backbone representation.
    slice_names
        Names of the slices (SFs), in slice-matrix column order; may be empty.
    input_data_key
        Field of ``X_dict`` fed to ``base_architecture``.
    task_name
        Name of the base task (and of its label in ``Y_dict``).
    scorer
        Scorer of the base task; accuracy and F1 (macro F1 for more than two
        classes) by default.
    cardinality
        Number of classes, at least 2.
    expert_dim
        Size of each slice expert representation; defaults to ``head_dim``.
    indicator_dim
        Hidden units of each slice's indicator MLP: ``0`` (default) for the paper's
        linear indicator, ``None`` for ``head_dim`` units. An MLP learns slices the
        representation does not make linearly separable, and copes better with
        noisy SFs (see ``slicing.model.heads.SliceIndicators``).
    small_slice_fraction
        Slices whose SF marks fewer than this share of the training rows (measured
        by ``fit``, or ``mark_small_slices`` in a training loop of your own) are
        *small*: their indicator is an MLP of ``head_dim`` hidden units (with
        linear indicators) and their members keep the full up-weight in the
        indicator loss (``member_weight_decay`` does not fade it) as far as the
        indicator trusts them: a member it rates below half the slice's typical
        member weighs proportionally less, so that an SF's scattered false
        positives do not pull the indicator outwards
        (``slicing.model.losses.member_trust``; the typical member's probability
        is the heads' buffer ``typical_member_probability``). ``None``: no
        slice is small. A linear indicator misses a small slice the representation
        does not separate (a thin strip, or any small slice under SF noise) and
        its expert is then never asked; broad slices do better with the linear
        indicator and the fading weight. On issue 17's 20 geometry settings (5
        seeds) the mean slice F1 rose from 92.4 to 96.0 and overall F1 from 99.34
        to 99.51; with a 20% noisy SF on a thin strip, from 64.4 to 91.2
        (``BENCHMARKS.md``). A model in which no slice is small trains exactly as
        with ``None``.
    combiner
        The attention module; ``SliceCombinerModule()`` by default (pass e.g.
        ``SliceCombinerModule(temperature=2.0, mode="indicator")``).
    share_final_head
        Use the shared slice predictor head as the final head (default); see
        ``convert_to_slice_tasks``.
    balance_indicators
        Up-weight slice members in the indicator losses by ``(non-members /
        members) ** power``: ``True`` (default) for power 1, a power in ``[0,
        1]``, or ``False``; see ``slicing.model.losses.slice_losses``.
    member_weight_decay
        How fast a member's up-weight fades as its indicator learns it (exponent
        ``gamma >= 0``; ``0`` keeps the full weight); see
        ``slicing.model.losses.slice_losses``.
    base_predictor_rows
        Which rows train the base slice's predictor: ``"attention"`` (default:
        each row in proportion to the attention the base slice gets there, not
        differentiated, so the rows the slice experts answer barely train it) or
        ``"all"`` (every labelled row equally, as in the paper and
        snorkel.slicing). Trained on every row, the base expert also learns the
        slices' labels and, being smooth, answers with them on the rows around
        the slices.
    device
        Where the model lives and computes: ``"cpu"``, ``"cuda:1"``, a
        ``torch.device`` or snorkel's int convention (``-1`` for the CPU). A CUDA
        device on a machine without CUDA falls back to the CPU with a warning, as
        in snorkel.
    **multitask_kwargs
        Passed to ``MultitaskClassifier`` (e.g. ``name``). ``dataparallel`` must be
        left unset or ``False``.

    Attributes
    ----------
    base_task
        The slice-aware base task (the one inside this model).
    slice_names
        See above.
    target_device
        The ``torch.device`` the model computes on.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from torch import nn
    >>> from snorkel.classification import DictDataset
    >>> from slicing.matrix import make_slice_matrix
    >>> _ = torch.manual_seed(0)
    >>> X = torch.randn(64, 2)
    >>> Y = (X[:, 0] > 0).long()
    >>> S = make_slice_matrix((X[:, 1] > 1).numpy()[:, None], ["top"])
    >>> model = SliceAwareClassifier(nn.Linear(2, 8), head_dim=8, slice_names=["top"])
    >>> dataset = DictDataset.from_tensors(X, Y, split="train")
    >>> loader = model.make_slice_dataloader(dataset, S, batch_size=16, shuffle=True)
    >>> _ = model.fit([loader], n_epochs=2, lr=0.05, seed=0, progress_bar=False)
    >>> model.predict(X[:3]).shape
    (3,)
    >>> model.predict(loader)["probs"]["task"].shape  # snorkel's dict for a loader
    torch.Size([64, 2])
    >>> sorted(model.score_slices([loader]))[:2]
    ['task/SnorkelDataset/train/accuracy', 'task/SnorkelDataset/train/f1']
    """

    def __init__(
        self,
        base_architecture: nn.Module,
        head_dim: int,
        slice_names: Sequence[str],
        input_data_key: str = DEFAULT_INPUT_DATA_KEY,
        task_name: str = DEFAULT_TASK_NAME,
        scorer: Scorer | None = None,
        *,
        cardinality: int = 2,
        expert_dim: int | None = None,
        indicator_dim: int | None = 0,
        small_slice_fraction: float | None = DEFAULT_SMALL_SLICE_FRACTION,
        combiner: SliceCombinerModule | None = None,
        share_final_head: bool = True,
        balance_indicators: bool | float = True,
        member_weight_decay: float = DEFAULT_MEMBER_WEIGHT_DECAY,
        base_predictor_rows: str = "attention",
        device: Device = "cpu",
        **multitask_kwargs: Any,
    ) -> None:
        if multitask_kwargs.pop("dataparallel", False):
            raise ValueError(
                "SliceAwareClassifier does not wrap modules in nn.DataParallel; "
                "got dataparallel=True"
            )
        if not isinstance(cardinality, int) or cardinality < 2:
            raise ValueError(f"cardinality must be an int >= 2; got {cardinality!r}")
        slice_names = check_slice_names(slice_names)
        small_slice_fraction = _check_small_slice_fraction(small_slice_fraction)
        target_device = resolve_device(device)
        original_task = make_base_task(
            base_architecture,
            head_dim,
            cardinality=cardinality,
            input_data_key=input_data_key,
            task_name=task_name,
            scorer=scorer if scorer is not None else _default_scorer(cardinality),
        )
        tasks = convert_to_slice_tasks(
            original_task,
            slice_names,
            expert_dim=expert_dim,
            indicator_dim=indicator_dim,
            small_slice_indicators=small_slice_fraction is not None,
            combiner=combiner,
            share_final_head=share_final_head,
        )
        multitask_kwargs.setdefault("name", f"{task_name}_sliceaware_classifier")
        # device=-1 keeps snorkel's own device handling out of the way; ours follows.
        super().__init__(tasks=tasks, device=-1, dataparallel=False, **multitask_kwargs)
        self.base_task = tasks[-1]
        self.slice_names = slice_names
        self.input_data_key = input_data_key
        self.cardinality = cardinality
        balance_power(balance_indicators)  # a ValueError now, not at the first batch
        self.balance_indicators = balance_indicators
        self.member_weight_decay = check_member_weight_decay(member_weight_decay)
        if base_predictor_rows not in BASE_PREDICTOR_ROWS:
            raise ValueError(
                f"base_predictor_rows must be one of {BASE_PREDICTOR_ROWS}; got "
                f"{base_predictor_rows!r}"
            )
        self.base_predictor_rows = base_predictor_rows
        self.small_slice_fraction = small_slice_fraction
        self.target_device = target_device
        self.to(target_device)
        small_slice_indicator = self.slice_heads.small_slice_indicator
        if small_slice_indicator is not None:
            # Drawn last, from a fork of the random state after construction (so
            # the model's other weights and later draws are a model's without it).
            small_slice_indicator.reset_parameters()

    @property
    def slice_heads(self) -> SliceHeadsModule:
        """The batched indicator, expert and predictor heads of all slices."""
        heads = find_slice_heads(self.base_task)
        assert heads is not None
        return heads

    @property
    def expert_dim(self) -> int:
        """Size of each slice expert representation."""
        return self.slice_heads.expert_dim

    def _move_to_device(self) -> None:
        device = getattr(self, "target_device", None)
        if device is not None:
            self.to(device)

    @property
    def small_slices(self) -> list[str]:
        """Names of the slices marked small (see ``small_slice_fraction``)."""
        small = self.slice_heads.small_slices
        if small is None:
            return []
        return [name for name, is_small in zip(self.slice_names, small) if is_small]

    def mark_small_slices(self, dataloaders: Sequence[DictDataLoader]) -> list[str]:
        """Mark the slices covering less than ``small_slice_fraction`` of the rows.

        ``fit`` calls it with its training loaders; call it yourself before a
        training loop of your own. The marks are saved with the model.

        Parameters
        ----------
        dataloaders
            Training loaders from ``make_slice_dataloader``; their rows are counted.

        Returns
        -------
        list of str
            The names of the small slices: none without ``small_slice_fraction``;
            without training rows the marks are left as they were.

        Examples
        --------
        >>> import numpy as np, torch
        >>> from torch import nn
        >>> from snorkel.classification import DictDataset
        >>> from slicing.matrix import make_slice_matrix
        >>> X, Y = torch.randn(100, 2), torch.zeros(100, dtype=torch.long)
        >>> rare = np.arange(100) < 2  # 2% of the rows
        >>> S = make_slice_matrix(np.stack([rare, ~rare], 1), ["rare", "common"])
        >>> model = SliceAwareClassifier(nn.Linear(2, 4), 4, ["rare", "common"])
        >>> loader = model.make_slice_dataloader(
        ...     DictDataset.from_tensors(X, Y, split="train"), S)
        >>> model.mark_small_slices([loader])
        ['rare']
        """
        small = self.slice_heads.small_slices
        if small is None or self.small_slice_fraction is None:
            return []
        membership_key = slice_membership_label(self.base_task.name)
        memberships = [
            dataloader.dataset.Y_dict[membership_key]
            for dataloader in dataloaders
            if membership_key in dataloader.dataset.Y_dict
        ]
        rows = sum(len(membership) for membership in memberships)
        if rows == 0:
            return self.small_slices
        members = sum(
            membership.sum(dim=0, dtype=torch.float64) for membership in memberships
        )
        small.copy_(members / rows < self.small_slice_fraction)
        return self.small_slices

    def make_slice_dataloader(
        self, dataset: DictDataset, S: np.ndarray | None, **dataloader_kwargs: Any
    ) -> DictDataLoader:
        """A ``DictDataLoader`` over ``dataset`` with the slice membership label added.

        ``S`` has this model's slice names as fields, in order (``None`` for a model
        without slices); the caller's ``dataset`` is left unchanged. See
        :func:`slicing.model.data.make_slice_dataloader` for the parameters and
        errors.
        """
        return make_slice_dataloader(
            dataset, S, self.base_task, self.slice_names, **dataloader_kwargs
        )

    def calculate_loss(
        self, X_dict: dict[str, Any], Y_dict: dict[str, torch.Tensor]
    ) -> tuple[dict[str, torch.Tensor], dict[str, float]]:
        """Losses of one batch: every labelled task, plus all slice losses at once.

        Labels named after a task are handled as in ``MultitaskClassifier``. The
        membership label of ``add_slice_labels`` adds two entries, computed in
        batched form over all ``k + 1`` slices: ``<task>_slice_indicators`` and
        ``<task>_slice_predictors`` (each a sum over slices of per-slice means).
        """
        base_name = self.base_task.name
        membership_key = slice_membership_label(base_name)
        labels_to_tasks = self._get_labels_to_tasks(Y_dict.keys())
        task_names = set(labels_to_tasks.values())
        if membership_key in Y_dict:
            if base_name not in Y_dict:
                raise ValueError(
                    f"the batch has slice labels but no labels for base task "
                    f"{base_name!r}; got labels {sorted(Y_dict)}"
                )
            task_names.add(base_name)
        outputs = self.forward(X_dict, task_names)

        loss_dict: dict[str, torch.Tensor] = {}
        count_dict: dict[str, float] = {}
        for label_name, task_name in labels_to_tasks.items():
            labels = Y_dict[label_name].to(self.target_device)
            active = labels != -1 if labels.dim() == 1 else (labels != -1).any(dim=1)
            if not active.any():
                continue
            logits = outputs[self.op_sequences[task_name][-1].name]
            loss_dict[label_name] = self.loss_funcs[task_name](
                logits[active], labels[active]
            )
            count_dict[label_name] = float(active.sum())

        if membership_key in Y_dict:
            heads_output = outputs[slice_part_name(base_name, "heads")]
            indicator_loss, predictor_loss = self.batch_slice_losses(
                heads_output[INDICATOR_LOGITS],
                heads_output[PREDICTOR_LOGITS],
                Y_dict[membership_key].to(self.target_device),
                Y_dict[base_name].to(self.target_device),
            )
            batch_size = float(len(Y_dict[membership_key]))
            for part, loss in [
                ("indicators", indicator_loss),
                ("predictors", predictor_loss),
            ]:
                loss_dict[slice_part_name(base_name, part)] = loss
                count_dict[slice_part_name(base_name, part)] = batch_size
        return loss_dict, count_dict

    def batch_slice_losses(
        self,
        indicator_logits: torch.Tensor,
        predictor_logits: torch.Tensor,
        membership: torch.Tensor,
        labels: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The summed indicator and predictor losses of one batch.

        ``calculate_loss`` calls this with the slice heads' outputs; it is
        ``slicing.model.losses.slice_losses`` with this model's
        ``balance_indicators`` and ``member_weight_decay``, its small slices'
        members keeping the full weight as far as the indicator trusts them
        (``typical_member_probability``, which a training batch moves). A subclass
        may override it to train with other slice losses (``bench/geometries.py``
        does).

        Parameters
        ----------
        indicator_logits
            ``(batch, k + 1)``, the base slice last.
        predictor_logits
            ``(batch, k + 1, cardinality)``.
        membership
            Bool ``(batch, k + 1)``: row ``b`` is in slice ``j``.
        labels
            Hard ``(batch,)`` or soft ``(batch, cardinality)`` labels.

        Returns
        -------
        tuple of torch.Tensor
            Scalar indicator loss and scalar predictor loss.

        Examples
        --------
        The model's options reach the losses:

        >>> import torch
        >>> from torch import nn
        >>> from slicing.model.losses import slice_losses
        >>> model = SliceAwareClassifier(
        ...     nn.Linear(2, 4), 4, ["short"], balance_indicators=False)
        >>> batch = (torch.randn(3, 2), torch.randn(3, 2, 2),
        ...          torch.tensor([[True, True], [False, True], [False, True]]),
        ...          torch.tensor([0, 1, 1]))
        >>> mine = model.batch_slice_losses(*batch)
        >>> base_weights = model.base_attention(*batch[:2])  # base_predictor_rows
        >>> plain = slice_losses(
        ...     *batch, balance_indicators=False, base_row_weights=base_weights,
        ...     full_weight_slices=model.slice_heads.small_slices,
        ...     typical_member_probability=model.slice_heads.typical_member_probability)
        >>> all(torch.equal(a, b) for a, b in zip(mine, plain))
        True
        """
        return slice_losses(
            indicator_logits,
            predictor_logits,
            membership,
            labels,
            balance_indicators=self.balance_indicators,
            member_weight_decay=self.member_weight_decay,
            base_row_weights=self.base_predictor_row_weights(
                indicator_logits, predictor_logits, membership
            ),
            full_weight_slices=self.slice_heads.small_slices,
            typical_member_probability=self.typical_member_probability(
                indicator_logits, membership
            ),
        )

    def typical_member_probability(
        self, indicator_logits: torch.Tensor, membership: torch.Tensor
    ) -> torch.Tensor | None:
        """Each slice's typical member probability for the losses of this batch.

        The heads' running mean (``SliceHeadsModule.typical_member_probability``),
        first moved by this batch while gradients are on (training; a validation
        loss under ``torch.no_grad`` leaves it as it is); ``None`` without small
        slices. ``slice_losses`` weighs a small slice's members by it
        (``slicing.model.losses.member_trust``).
        """
        typical = self.slice_heads.typical_member_probability
        small = self.slice_heads.small_slices
        if typical is None or small is None or not small.any():
            return None  # no slice reads it
        if torch.is_grad_enabled():
            with torch.no_grad():
                typical.copy_(
                    updated_typical_member_probability(
                        typical, torch.sigmoid(indicator_logits.detach()), membership
                    )
                )
        return typical

    def base_predictor_row_weights(
        self,
        indicator_logits: torch.Tensor,
        predictor_logits: torch.Tensor,
        membership: torch.Tensor,
    ) -> torch.Tensor | None:
        """Weights of the rows of a batch in the base predictor's loss, or ``None``.

        ``None`` (``base_predictor_rows="all"``): every labelled row counts the
        same. With ``"attention"``, each row's base attention (``base_attention``).
        A subclass may override it to try other weights (``bench/geometries.py``).
        """
        if self.base_predictor_rows == "all":
            return None
        return self.base_attention(indicator_logits, predictor_logits)

    @torch.no_grad()
    def base_attention(
        self, indicator_logits: torch.Tensor, predictor_logits: torch.Tensor
    ) -> torch.Tensor:
        """The attention the base slice gets on each row, ``(batch,)``, computed by
        the combiner from the slice heads' outputs and not differentiated."""
        weights = self.slice_combiner.attention_weights(
            indicator_logits, predictor_logits
        )
        return weights[:, -1]

    def fit(
        self,
        dataloaders: Sequence[DictDataLoader],
        *,
        seed: int | None = None,
        reinitialize: bool | None = None,
        progress_bar: bool = True,
        ema_decay: float | None = DEFAULT_EMA_DECAY,
        ema_max_epochs: float | None = DEFAULT_EMA_MAX_EPOCHS,
        **trainer_kwargs: Any,
    ) -> Trainer:
        """Train with snorkel's ``Trainer``; with a seed, from fresh seeded weights.

        Parameters
        ----------
        dataloaders
            Loaders from ``make_slice_dataloader``; split ``"train"`` is trained on,
            and its rows mark the small slices (``mark_small_slices``). Their
            base-task labels are checked first (``validate_base_labels``).
        seed
            Seeds ``random``, ``numpy`` and ``torch`` and, by default, redraws every
            parameter from it (as scikit-learn's ``random_state`` does), so the same
            seed gives the same model however the model was built or trained
            before, in this process or another. ``None``: no seeding, and training
            continues from the current weights.
        reinitialize
            Redraw the weights before training; defaults to ``seed is not None``.
            Pass ``False`` with a seed to keep the current weights (a pretrained
            backbone, or a second round of training).
        progress_bar
            Show a tqdm progress bar per epoch.
        ema_decay
            Per-step decay of an exponential moving average of the weights, which
            becomes the model's weights when training ends
            (:class:`slicing.model.averaging.WeightAverage`; the default averages
            about the last 1,000 steps, or the last ``ema_max_epochs`` epochs if
            those are fewer). It takes out most of the swing of the last
            epochs: on issue 17's 20 geometry settings the seed spread of the mean
            slice F1 fell from 4.5 to 2.7 and overall F1 rose in every one
            (``BENCHMARKS.md``, step 12). ``None`` keeps the last step's weights, as
            does ``checkpointing=True`` (the best checkpoint is kept): choosing an
            epoch on validation data replaces the average.
        ema_max_epochs
            The longest span of the average, in epochs: where ``ema_decay`` would
            span more (few batches per epoch: large batches or small data), the
            decay is lowered to span this many
            (:func:`slicing.model.averaging.decay_spanning_epochs`). Across many
            epochs the weights still drift and the average lags them: with batch 128
            on issue 17's geometries, 1,000 steps are 13 epochs, and capping the
            span at 4 raised overall F1 in each of the four settings measured
            (``BENCHMARKS.md``, step 13). ``None``: no cap.
        **trainer_kwargs
            Passed to ``Trainer`` (``n_epochs``, ``lr``, ``optimizer``, ...). The
            optimizer updates all parameters in one call per step
            (:class:`slicing.model.training.ForeachTrainer`).

        Returns
        -------
        Trainer
            The trainer, for its logs.

        Raises
        ------
        ValueError
            If a loader's base-task labels are invalid or all ``-1``.
        """
        for dataloader in dataloaders:
            labels = dataloader.dataset.Y_dict.get(self.base_task.name)
            if labels is not None:
                validate_base_labels(labels, self.base_task.name, self.cardinality)
        ema_decay = check_ema_decay(ema_decay)
        ema_max_epochs = check_ema_max_epochs(ema_max_epochs)
        trainer = ForeachTrainer(progress_bar=progress_bar, seed=seed, **trainer_kwargs)
        train_loaders = [
            dataloader
            for dataloader in dataloaders
            if dataloader.dataset.split == trainer.config.train_split
        ]
        self.mark_small_slices(train_loaders)
        start_training(self, seed=seed, reinitialize=reinitialize)
        if ema_decay is None or trainer.config.checkpointing:
            trainer.fit(self, list(dataloaders))
            return trainer
        steps_per_epoch = sum(len(dataloader) for dataloader in train_loaders)
        ema_decay = decay_spanning_epochs(ema_decay, steps_per_epoch, ema_max_epochs)
        average = WeightAverage(self, ema_decay)
        with average.following_optimizers():
            trainer.fit(self, list(dataloaders))
        average.copy_to_module()  # without a step, the average is the start weights
        return trainer

    def _metadata(self) -> dict[str, Any]:
        heads = self.slice_heads
        return {
            "task_name": self.base_task.name,
            "slice_names": list(self.slice_names),
            "cardinality": self.cardinality,
            "head_dim": heads.head_dim,
            "expert_dim": heads.expert_dim,
            "indicator_dim": heads.indicator_dim,
            "small_slice_indicators": heads.small_slices is not None,
        }

    def save(self, model_path: str) -> None:
        """Save the weights with the slice names, cardinality and dimensions.

        Directories are created; errors raise (snorkel's ``save`` logs and goes on).
        """
        save_state(model_path, self.state_dict(), self._metadata())

    def load(self, model_path: str) -> None:
        """Load weights saved by ``save`` into this model, on its own device.

        Raises
        ------
        ValueError
            If the file was saved for other slice names (or the same names in
            another order), another task, cardinality or dimensions; the message
            lists the saved and this model's values. Files from versions that
            stored no metadata load with a warning, unchecked.

        A file saved without small-slice indicators (``small_slice_fraction=None``,
        or a version before them) loads into a model with them: no slice is then
        marked small, so the model computes what the saved one did (its
        small-slice indicators keep their current weights until ``fit`` marks a
        slice small). A file saved before the heads kept their typical member
        probabilities (``SliceHeadsModule.typical_member_probability``) loads with
        them at 0.5, as a new model starts.
        """
        state = load_checked_state(
            model_path,
            self._metadata(),
            map_location=self.target_device,
            accepted=[("small_slice_indicators", False, True)],
        )
        heads = self.slice_heads
        if heads.small_slices is not None:
            prefix = next(
                name[: -len("small_slices")]
                for name, buffer in self.named_buffers()
                if buffer is heads.small_slices
            )
            state = dict(state)
            if prefix + "small_slices" not in state:  # saved without them
                for name, value in heads.state_dict().items():
                    if name.startswith("small_slice"):
                        state.setdefault(prefix + name, value)
                state[prefix + "small_slices"] = torch.zeros_like(heads.small_slices)
            if heads.typical_member_probability is not None:
                # Saved before the running mean was kept: it starts afresh.
                state.setdefault(
                    prefix + "typical_member_probability",
                    torch.full_like(
                        heads.typical_member_probability,
                        INITIAL_TYPICAL_MEMBER_PROBABILITY,
                    ),
                )
        self.load_state_dict(state)


def _check_small_slice_fraction(fraction: float | None) -> float | None:
    """``small_slice_fraction`` as a float in ``(0, 1]``, or ``None``."""
    if fraction is None:
        return None
    try:
        value = float(fraction)
    except (TypeError, ValueError):
        value = float("nan")
    if isinstance(fraction, bool) or not 0.0 < value <= 1.0:
        raise ValueError(
            f"small_slice_fraction must be None or a number in (0, 1]; got {fraction!r}"
        )
    return value
