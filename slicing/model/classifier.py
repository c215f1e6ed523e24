"""``SliceAwareClassifier``: Slice-based Learning on snorkel's ``MultitaskClassifier``.

The model is a ``MultitaskClassifier`` over the tasks of ``convert_to_slice_tasks``,
so snorkel's ``Trainer``, ``predict`` and ``score`` work unchanged. Two things differ
from ``snorkel.slicing``: training reads one ``(batch, k + 1)`` membership tensor and
computes every slice loss in a few batched operations (``calculate_loss``), and the
model stays on the device it was given, without ``nn.DataParallel`` wrappers.

Threads: the models this is meant for are small, and torch's intra-op parallelism
costs more than it gains on them; on a shared 2-core machine, two threads ran up to
15x slower per epoch than one. Call ``torch.set_num_threads(1)`` before training
unless the backbone is large.
"""

import os
import random
from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import torch
from snorkel.analysis import Scorer
from snorkel.classification import DictDataLoader, DictDataset, Operation, Task, Trainer
from snorkel.classification.data import DEFAULT_INPUT_DATA_KEY, DEFAULT_TASK_NAME, Batch
from snorkel.classification.multitask_classifier import MultitaskClassifier
from snorkel.classification.utils import list_to_tensor, metrics_dict_to_dataframe
from snorkel.utils import probs_to_preds
from torch import nn
from torch.utils.data import DataLoader

from slicing.matrix import validate_slice_matrix
from slicing.model.combiner import SliceCombinerModule
from slicing.model.heads import (
    INDICATOR_LOGITS,
    PREDICTOR_LOGITS,
    SliceHeadsModule,
)
from slicing.model.losses import slice_losses
from slicing.model.tasks import (
    BASE_SLICE,
    add_slice_labels,
    check_slice_names,
    convert_to_slice_tasks,
    find_slice_heads,
    predictor_task_name,
    slice_membership_label,
)

__all__ = ["SliceAwareClassifier", "collate_stacked"]

Inputs: TypeAlias = torch.Tensor | dict[str, Any] | DictDataset | DataLoader


def _default_scorer(cardinality: int) -> Scorer:
    return Scorer(metrics=["accuracy", "f1" if cardinality == 2 else "f1_macro"])


def _as_torch_device(device: str | int | torch.device) -> torch.device:
    if isinstance(device, int):  # snorkel's convention: -1 is the CPU
        return torch.device("cpu") if device < 0 else torch.device("cuda", device)
    return torch.device(device)


def _move(value: Any, device: torch.device) -> Any:
    return value.to(device) if isinstance(value, torch.Tensor) else value


def collate_stacked(batch: list[Batch]) -> Batch:
    """snorkel's ``collate_dicts``, with equal-shaped tensors stacked in one call.

    snorkel copies 1-D items (feature vectors, slice membership rows) one by one
    into a padded tensor; when they all have the same shape the result equals
    ``torch.stack``, which is one call. Other fields are merged as snorkel does.

    Examples
    --------
    >>> import torch
    >>> items = [({"x": torch.tensor([1, 2])}, {"y": torch.tensor(0)})] * 2
    >>> collate_stacked(items)
    ({'x': tensor([[1, 2],
            [1, 2]])}, {'y': tensor([0, 0])})
    """
    X_items, Y_items = zip(*batch, strict=True)
    return _merge_fields(X_items, labels=False), _merge_fields(Y_items, labels=True)


def _merge_fields(items: Sequence[dict[str, Any]], labels: bool) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for name in items[0]:
        values = [item[name] for item in items]
        first = values[0]
        if isinstance(first, torch.Tensor) and all(
            isinstance(value, torch.Tensor) and value.shape == first.shape
            for value in values
        ):
            merged[name] = torch.stack(values)
        elif labels or isinstance(first, torch.Tensor):
            merged[name] = list_to_tensor(values)
        else:  # non-tensor input fields stay lists, as in collate_dicts
            merged[name] = values
    return merged


class SliceAwareClassifier(MultitaskClassifier):
    """A classifier that commits extra capacity to slices (Chen et al., 2019).

    Backbone ``z = f(x)``; per slice ``i`` (plus a ``base`` slice covering all rows)
    an indicator logit ``q_i``, an expert ``r_i = W_i z + b_i`` and a shared
    prediction head ``p_i = g(r_i)``; the final head (``g`` itself by default) reads
    ``sum_i a_i r_i`` with ``a = softmax(Q + confidence(P))``, where ``Q`` is each
    user slice's indicator logit (its membership log-odds) and 0 for the base slice.
    Inference needs only the inputs: slicing functions are not needed at serving
    time. Train single-threaded (``torch.set_num_threads(1)``) unless the backbone
    is large.

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
    combiner
        The attention module; ``SliceCombinerModule()`` by default (pass e.g.
        ``SliceCombinerModule(temperature=2.0, mode="indicator")``).
    share_final_head
        Use the shared slice predictor head as the final head (default); see
        ``convert_to_slice_tasks``.
    balance_indicators
        Up-weight slice members in the indicator losses (default); see
        ``slicing.model.losses.slice_losses``.
    device
        Where the model lives and computes: ``"cpu"``, ``"cuda:1"``, a
        ``torch.device`` or snorkel's int convention (``-1`` for the CPU).
    **multitask_kwargs
        Passed to ``MultitaskClassifier`` (e.g. ``name``). ``dataparallel`` must be
        left unset or ``False``.

    Attributes
    ----------
    base_task
        The slice-aware base task (the one inside this model).
    slice_names
        See above.

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
        cardinality: int = 2,
        expert_dim: int | None = None,
        combiner: SliceCombinerModule | None = None,
        share_final_head: bool = True,
        balance_indicators: bool = True,
        device: str | int | torch.device = "cpu",
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
        original_task = Task(
            name=task_name,
            module_pool=nn.ModuleDict(
                {
                    "base_architecture": base_architecture,
                    "prediction_head": nn.Linear(head_dim, cardinality),
                }
            ),
            op_sequence=[
                Operation(
                    name="input_op",
                    module_name="base_architecture",
                    inputs=[("_input_", input_data_key)],
                ),
                Operation(
                    name="head_op", module_name="prediction_head", inputs=["input_op"]
                ),
            ],
            scorer=scorer if scorer is not None else _default_scorer(cardinality),
        )
        tasks = convert_to_slice_tasks(
            original_task,
            slice_names,
            expert_dim=expert_dim,
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
        self.balance_indicators = balance_indicators
        self.target_device = _as_torch_device(device)
        self.to(self.target_device)

    # ------------------------------------------------------------------ structure
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

    def forward(self, X_dict: dict[str, Any], task_names: Any) -> dict[str, Any]:
        """Run the named tasks on a batch; tensors are moved to the model's device."""
        moved = {key: _move(value, self.target_device) for key, value in X_dict.items()}
        return super().forward(moved, task_names)

    # ------------------------------------------------------------------- training
    def make_slice_dataloader(
        self, dataset: DictDataset, S: np.ndarray | None, **dataloader_kwargs: Any
    ) -> DictDataLoader:
        """A ``DictDataLoader`` over ``dataset`` with slice labels added.

        The caller's ``dataset`` is left unchanged: the loader reads a new
        ``DictDataset`` sharing its inputs and label tensors.

        Parameters
        ----------
        dataset
            Dataset with the base task's labels (hard ``(n,)`` or soft ``(n, c)``).
        S
            Slice matrix with ``slice_names`` as fields, in order, one row per data
            point (this package's bool record array or snorkel's int64 recarray).
            ``None`` for a model without slices.
        **dataloader_kwargs
            Passed to ``DictDataLoader`` (``batch_size``, ``shuffle``, ...). The
            default ``collate_fn`` is ``collate_stacked``.

        Raises
        ------
        ValueError
            On missing or out-of-range base labels, or a slice matrix whose names or
            length do not match.
        """
        if S is not None:
            validate_slice_matrix(S, names=self.slice_names, n_rows=len(dataset))
        elif self.slice_names:
            raise ValueError(
                f"this model has slices {self.slice_names}; a slice matrix S is needed"
            )
        slice_dataset = DictDataset(
            name=dataset.name,
            split=dataset.split,
            X_dict=dataset.X_dict,
            Y_dict=dict(dataset.Y_dict),
        )
        dataloader_kwargs.setdefault("collate_fn", collate_stacked)
        dataloader = DictDataLoader(slice_dataset, **dataloader_kwargs)
        add_slice_labels(dataloader, self.base_task, S)
        return dataloader

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
            heads_output = outputs[f"{base_name}_slice_heads"]
            indicator_loss, predictor_loss = slice_losses(
                heads_output[INDICATOR_LOGITS],
                heads_output[PREDICTOR_LOGITS],
                Y_dict[membership_key].to(self.target_device),
                Y_dict[base_name].to(self.target_device),
                balance_indicators=self.balance_indicators,
            )
            batch_size = float(len(Y_dict[membership_key]))
            loss_dict[f"{base_name}_slice_indicators"] = indicator_loss
            loss_dict[f"{base_name}_slice_predictors"] = predictor_loss
            count_dict[f"{base_name}_slice_indicators"] = batch_size
            count_dict[f"{base_name}_slice_predictors"] = batch_size
        return loss_dict, count_dict

    def fit(
        self,
        dataloaders: list[DictDataLoader],
        seed: int | None = None,
        progress_bar: bool = True,
        **trainer_kwargs: Any,
    ) -> Trainer:
        """Train with snorkel's ``Trainer``, seeding every random source first.

        Parameters
        ----------
        dataloaders
            Loaders from ``make_slice_dataloader``; split ``"train"`` is trained on.
        seed
            Seeds ``random``, ``numpy`` and ``torch`` (snorkel's ``Trainer`` accepts
            a seed but does not use it), so the same seed gives the same model.
        progress_bar
            Show a tqdm progress bar per epoch.
        **trainer_kwargs
            Passed to ``Trainer`` (``n_epochs``, ``lr``, ``optimizer``, ...).

        Returns
        -------
        Trainer
            The trainer, for its logs.
        """
        if seed is not None:
            random.seed(seed)
            np.random.seed(seed)
            torch.manual_seed(seed)
        trainer = Trainer(progress_bar=progress_bar, seed=seed, **trainer_kwargs)
        trainer.fit(self, dataloaders)
        return trainer

    # ------------------------------------------------------------------ inference
    def _iter_input_batches(self, X: Inputs, batch_size: int) -> Any:
        if isinstance(X, DataLoader):
            X = X.dataset
        if isinstance(X, DictDataset):
            X = X.X_dict
        if isinstance(X, torch.Tensor):
            X = {self.input_data_key: X}
        if not isinstance(X, dict):
            raise TypeError(
                "expected inputs as a tensor, a dict of fields, a DictDataset or a "
                f"DictDataLoader; got {type(X).__name__}"
            )
        if self.input_data_key not in X:
            raise ValueError(
                f"inputs lack the field {self.input_data_key!r}; got fields {sorted(X)}"
            )
        n_rows = len(X[self.input_data_key])
        for start in range(0, n_rows, batch_size):
            yield {key: value[start : start + batch_size] for key, value in X.items()}

    @torch.no_grad()
    def predict_proba(self, X: Inputs, batch_size: int = 1024) -> np.ndarray:
        """Class probabilities of the base task, ``(n, cardinality)``.

        Needs only the inputs (no slice matrix): a tensor for ``input_data_key``, a
        dict of input fields, a ``DictDataset`` or a ``DictDataLoader``.
        """
        was_training = self.training
        self.eval()
        base_name = self.base_task.name
        batches = [
            self._calculate_probs(batch, [base_name])[base_name]
            for batch in self._iter_input_batches(X, batch_size)
        ]
        self.train(was_training)
        if not batches:
            return np.zeros((0, self.cardinality), dtype=np.float32)
        return np.concatenate(batches)

    @torch.no_grad()
    def predict(
        self, X: Inputs, *args: Any, batch_size: int = 1024, **kwargs: Any
    ) -> Any:
        """Predicted classes of the base task for inputs, ``(n,)`` ints.

        Called with a ``DictDataLoader`` and snorkel's arguments (``return_preds``,
        ``remap_labels``) it behaves as ``MultitaskClassifier.predict`` and returns
        its dict of golds, probabilities and predictions (``score`` relies on it).
        """
        if isinstance(X, DataLoader) and (args or kwargs):
            return super().predict(X, *args, **kwargs)
        return probs_to_preds(self.predict_proba(X, batch_size=batch_size))

    @torch.no_grad()
    def score_slices(
        self,
        dataloaders: list[DictDataLoader],
        as_dataframe: bool = False,
        as_table: bool = False,
    ) -> dict[str, float] | pd.DataFrame:
        """Score the base task's final predictions overall and on every slice.

        Slices are identified by exact name from the membership label added by
        ``make_slice_dataloader`` / ``add_slice_labels``. Keys follow
        ``snorkel.slicing``: ``<task>/<dataset>/<split>/<metric>`` overall and
        ``<task>_slice:<name>_pred/<dataset>/<split>/<metric>`` per slice (including
        ``base``). A slice without labelled members scores NaN.

        With ``as_table=True`` the result is instead the monitoring table of
        :meth:`slice_table` (support, metrics with intervals, difference to overall,
        status) for every loader, stacked under a ``dataset/split`` index level.
        """
        if as_table:
            tables = {
                f"{loader.dataset.name}/{loader.dataset.split}": self.slice_table(
                    loader
                )
                for loader in dataloaders
            }
            return pd.concat(tables, names=["dataset/split"])
        base_name = self.base_task.name
        membership_key = slice_membership_label(base_name)
        scorer = self.scorers[base_name]
        all_slice_names = self.slice_names + [BASE_SLICE]
        scores: dict[str, float] = {}
        for dataloader in dataloaders:
            dataset = dataloader.dataset
            Y_dict = dataset.Y_dict
            if membership_key not in Y_dict or base_name not in Y_dict:
                raise ValueError(
                    f"dataset {dataset.name!r} ({dataset.split}) lacks labels "
                    f"{base_name!r} and {membership_key!r}; build its loader with "
                    "make_slice_dataloader"
                )
            probs = self.predict_proba(dataset)
            preds = probs_to_preds(probs)
            golds = Y_dict[base_name].cpu().numpy()
            if golds.ndim == 2:
                golds = probs_to_preds(golds)
            membership = Y_dict[membership_key].cpu().numpy()
            prefix = f"{dataset.name}/{dataset.split}"
            rows = [(base_name, np.ones(len(golds), dtype=bool))] + [
                (predictor_task_name(base_name, name), membership[:, index])
                for index, name in enumerate(all_slice_names)
            ]
            for label, members in rows:
                members = members & (golds != -1)
                if members.any():
                    metric_scores = scorer.score(
                        golds[members], preds[members], probs[members]
                    )
                else:
                    metric_scores = dict.fromkeys(scorer.metrics, float("nan"))
                for metric, value in metric_scores.items():
                    scores[f"{label}/{prefix}/{metric}"] = value
        if as_dataframe:
            return metrics_dict_to_dataframe(scores)
        return scores

    @torch.no_grad()
    def predict_slice_indicators(
        self, X: Inputs, batch_size: int = 1024
    ) -> pd.DataFrame:
        """The learned slice indicators: probability that each row is in each slice.

        Needs only the inputs. Compare with the SFs' outputs (e.g.
        ``SFAnalysis(S).indicator_agreement(...)``) to see how well the model learned
        to recognise each slice without the SFs.

        Returns
        -------
        pd.DataFrame
            ``(n, k)`` probabilities, one column per slice in ``slice_names``.
        """
        was_training = self.training
        self.eval()
        base_name = self.base_task.name
        heads_key = f"{base_name}_slice_heads"
        chunks = [
            torch.sigmoid(self.forward(batch, {base_name})[heads_key][INDICATOR_LOGITS])
            .cpu()
            .numpy()
            for batch in self._iter_input_batches(X, batch_size)
        ]
        self.train(was_training)
        n_slices = len(self.slice_names)
        probs = np.concatenate(chunks) if chunks else np.zeros((0, n_slices + 1))
        # The last column is the base slice (always 1): not a user slice.
        return pd.DataFrame(probs[:, :n_slices], columns=self.slice_names)

    def slice_table(
        self,
        dataloader: DictDataLoader,
        metrics: Sequence[str] | None = None,
        ci: float | None = 0.95,
        min_support: int = 30,
    ) -> pd.DataFrame:
        """Per-slice scores of the final predictions, in the monitoring table form.

        The same table as :func:`slicing.monitor.scores.slice_scores` (support,
        metrics with intervals, difference to overall, status), for a loader built
        with :meth:`make_slice_dataloader`.

        Parameters
        ----------
        dataloader
            Loader with base-task labels and slice membership.
        metrics
            Metric names; the model scorer's metrics by default.
        ci, min_support
            As in ``slice_scores``.
        """
        from slicing.matrix import make_slice_matrix
        from slicing.monitor.scores import slice_scores

        dataset = dataloader.dataset
        membership_key = slice_membership_label(self.base_task.name)
        Y_dict = dataset.Y_dict
        if membership_key not in Y_dict or self.base_task.name not in Y_dict:
            raise ValueError(
                f"dataset {dataset.name!r} ({dataset.split}) lacks slice labels; build "
                "its loader with make_slice_dataloader"
            )
        if not self.slice_names:
            raise ValueError("this model has no slices to score")
        golds = Y_dict[self.base_task.name].cpu().numpy()
        if golds.ndim == 2:
            golds = probs_to_preds(golds)
        membership = Y_dict[membership_key].cpu().numpy()[:, : len(self.slice_names)]
        S = make_slice_matrix(membership.astype(bool), self.slice_names)
        metric_names = list(metrics or self.scorers[self.base_task.name].metrics)
        return slice_scores(
            golds,
            S,
            probs=self.predict_proba(dataset),
            metrics=metric_names,
            ci=ci,
            min_support=min_support,
        )

    # ------------------------------------------------------------------ save/load
    def save(self, model_path: str) -> None:
        """Save the weights to ``model_path`` (directories are created); errors raise."""
        directory = os.path.dirname(model_path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        torch.save(self.state_dict(), model_path)

    def load(self, model_path: str) -> None:
        """Load weights saved by ``save`` into this model, on its own device.

        The model must have been built with the same architecture and slice names.
        """
        state = torch.load(
            model_path, map_location=self.target_device, weights_only=True
        )
        self.load_state_dict(state)
