"""Prediction and scoring of a slice-aware model, on snorkel's contract.

``SliceAwareInference`` holds what a trained ``SliceAwareClassifier`` does with
inputs: class probabilities and classes from inputs alone, snorkel's
``predict``/``score`` dicts for a ``DictDataLoader`` (slice membership expanded into
snorkel's per-slice label sets), ``score_slices``, the learned slice indicators and
the attention over the experts.
``SliceAwareClassifier`` (``slicing.model.classifier``) builds, trains and saves it.
"""

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from snorkel.classification import DictDataLoader, Task
from snorkel.classification.multitask_classifier import MultitaskClassifier
from snorkel.classification.utils import metrics_dict_to_dataframe
from snorkel.utils import probs_to_preds
from torch import nn

from slicing.model.data import Inputs, iter_input_batches
from slicing.model.devices import move_tensor
from slicing.model.heads import INDICATOR_LOGITS, PREDICTOR_LOGITS
from slicing.model.scoring import (
    LabelPredictions,
    as_prediction_dict,
    predict_label_sets,
    score_label_sets,
)
from slicing.model.tasks import (
    BASE_SLICE,
    indicator_task_name,
    predictor_task_name,
    slice_membership_label,
    slice_part_name,
)
from slicing.model.training import eval_mode

__all__ = ["SliceAwareInference"]


class SliceAwareInference(MultitaskClassifier):
    """Inference and scoring for a ``MultitaskClassifier`` built from slice tasks.

    Not built directly: ``SliceAwareClassifier`` sets the attributes below.

    Attributes
    ----------
    base_task
        The slice-aware base task.
    slice_names
        The user slices, in column order.
    input_data_key
        Field of the inputs the backbone reads.
    cardinality
        Number of classes.
    target_device
        Device the model computes on; inputs are moved there.
    """

    base_task: Task
    slice_names: list[str]
    input_data_key: str
    cardinality: int
    target_device: torch.device

    @property
    def slice_combiner(self) -> nn.Module:
        """The attention module that combines the slice experts and the base."""
        return self.module_pool[slice_part_name(self.base_task.name, "combiner")]

    def forward(self, X_dict: dict[str, Any], task_names: Any) -> dict[str, Any]:
        """Run the named tasks on a batch; tensors are moved to the model's device."""
        moved = {
            key: move_tensor(value, self.target_device) for key, value in X_dict.items()
        }
        return super().forward(moved, task_names)

    def predict_proba(self, X: Inputs, *, batch_size: int = 1024) -> np.ndarray:
        """Class probabilities of the base task, ``(n, cardinality)``.

        Needs only the inputs (no slice matrix): see :data:`slicing.model.data.Inputs`.
        """
        base_name = self.base_task.name
        with eval_mode(self), torch.no_grad():
            batches = [
                self._calculate_probs(batch, [base_name])[base_name]
                for batch in iter_input_batches(
                    X, self.input_data_key, batch_size=batch_size
                )
            ]
        if not batches:
            return np.zeros((0, self.cardinality), dtype=np.float32)
        return np.concatenate(batches)

    def predict(
        self,
        X: Inputs,
        return_preds: bool = False,
        remap_labels: Mapping[str, str | None] | None = None,
        *,
        batch_size: int = 1024,
    ) -> Any:
        """Predictions for a ``DictDataLoader`` (snorkel's dict) or for inputs (classes).

        Parameters
        ----------
        X
            A ``DictDataLoader``: returns ``MultitaskClassifier.predict``'s dict
            ``{"golds": {label: ...}, "probs": {label: ...}}`` (plus ``"preds"`` with
            ``return_preds=True``) of float tensors, keyed by label set, with the
            slice membership label expanded into snorkel's per-slice
            ``<task>_slice:<name>_ind`` / ``_pred`` label sets.
            Any other :data:`slicing.model.data.Inputs` (a tensor, a dict of fields,
            a ``DictDataset``): returns the base task's classes, an ``(n,)`` ndarray.
        return_preds, remap_labels
            As in ``MultitaskClassifier.predict``; only for a ``DictDataLoader``.
        batch_size
            Rows per forward pass for inputs other than a ``DictDataLoader``.
        """
        if not isinstance(X, DictDataLoader):
            if return_preds or remap_labels:
                raise ValueError(
                    "return_preds and remap_labels apply to a DictDataLoader; got "
                    f"{type(X).__name__}"
                )
            return probs_to_preds(self.predict_proba(X, batch_size=batch_size))
        with eval_mode(self), torch.no_grad():
            label_sets = self._predict_label_sets(X, remap_labels)
        return as_prediction_dict(label_sets, return_preds=return_preds)

    def _predict_label_sets(
        self, dataloader: DictDataLoader, remap_labels: Any = None
    ) -> LabelPredictions:
        return predict_label_sets(
            self,
            dataloader,
            base_task_name=self.base_task.name,
            slice_names=self.slice_names,
            remap_labels=remap_labels,
        )

    def score(
        self,
        dataloaders: Sequence[DictDataLoader],
        remap_labels: Mapping[str, str | None] | None = None,
        as_dataframe: bool = False,
    ) -> dict[str, float] | pd.DataFrame:
        """Scores of every label set, keyed ``<label>/<dataset>/<split>/<metric>``.

        As ``MultitaskClassifier.score`` (snorkel's ``Trainer`` logs it), with the
        membership label expanded into snorkel's per-slice label sets: each slice's
        ``<task>_slice:<name>_ind`` (indicator head) and ``_pred`` (slice predictor
        head) are scored too. A label set without labelled rows scores NaN.
        """
        scores: dict[str, float] = {}
        with eval_mode(self), torch.no_grad():
            for loader in dataloaders:
                prefix = f"{loader.dataset.name}/{loader.dataset.split}"
                label_sets = self._predict_label_sets(loader, remap_labels)
                scores.update(score_label_sets(label_sets, self.scorers, prefix=prefix))
        return metrics_dict_to_dataframe(scores) if as_dataframe else scores

    def score_slices(
        self, dataloaders: Sequence[DictDataLoader], as_dataframe: bool = False
    ) -> dict[str, float] | pd.DataFrame:
        """Score the base task's final predictions overall and on every slice.

        Keys follow ``snorkel.slicing``: ``<task>/<dataset>/<split>/<metric>`` overall
        and ``<task>_slice:<name>_pred/<dataset>/<split>/<metric>`` per slice
        (including ``base``), all scored from the base task's head; slices are
        matched by exact name. A slice without labelled members scores NaN. For the
        monitoring table (support, intervals, status), pass arrays to
        ``slicing.monitor.slice_scores(golds, S, probs=model.predict_proba(X))``.
        """
        base_name = self.base_task.name
        needed = [base_name, slice_membership_label(base_name)]
        for dataloader in dataloaders:
            dataset = dataloader.dataset
            if missing := [label for label in needed if label not in dataset.Y_dict]:
                raise ValueError(
                    f"dataset {dataset.name!r} ({dataset.split}) lacks labels {missing};"
                    f" got {sorted(dataset.Y_dict)}; build its loader with "
                    "make_slice_dataloader"
                )
        remap: dict[str, str | None] = {}
        for name in [*self.slice_names, BASE_SLICE]:
            remap[predictor_task_name(base_name, name)] = base_name
            remap[indicator_task_name(base_name, name)] = None
        return self.score(dataloaders, remap_labels=remap, as_dataframe=as_dataframe)

    def _slice_head_outputs(
        self, X: Inputs, batch_size: int
    ) -> Iterator[dict[str, torch.Tensor]]:
        """The base task's slice heads' outputs, one dict per batch of ``X``."""
        base_name = self.base_task.name
        with eval_mode(self), torch.no_grad():
            for batch in iter_input_batches(
                X, self.input_data_key, batch_size=batch_size
            ):
                yield self.forward(batch, {base_name})[
                    slice_part_name(base_name, "heads")
                ]

    def predict_slice_indicators(
        self, X: Inputs, *, batch_size: int = 1024
    ) -> pd.DataFrame:
        """The learned slice indicators: probability that each row is in each slice.

        Needs only the inputs. Pass the frame to monitoring (e.g.
        ``SFAnalysis(S).indicator_agreement(indicators)``) to see how well the model
        learned to recognise each slice without the SFs.

        Returns
        -------
        pd.DataFrame
            ``(n, k)`` probabilities, one column per slice in ``slice_names``.
        """
        n_slices = len(self.slice_names)
        chunks = [np.zeros((0, n_slices))]
        for heads in self._slice_head_outputs(X, batch_size):
            # The last column is the base slice (always 1): not a user slice.
            chunks.append(
                torch.sigmoid(heads[INDICATOR_LOGITS][:, :n_slices]).cpu().numpy()
            )
        return pd.DataFrame(np.concatenate(chunks), columns=self.slice_names)

    def predict_slice_attention(
        self, X: Inputs, *, batch_size: int = 1024
    ) -> pd.DataFrame:
        """Each row's attention over the slice experts and the base slice.

        The weights the combiner gives each expert's representation for the final
        prediction (they sum to 1 per row). Compare them with the SFs on validation
        data to see which expert answers which rows: a slice whose expert takes
        most of the attention on many rows outside it claims more than it should
        (see the README's "Defaults, and why" for when that costs overall quality).

        Returns
        -------
        pd.DataFrame
            ``(n, k + 1)`` weights, one column per slice in ``slice_names``, then
            ``"base"``.

        Examples
        --------
        >>> import torch
        >>> from torch import nn
        >>> from slicing import SliceAwareClassifier
        >>> model = SliceAwareClassifier(nn.Linear(2, 4), head_dim=4, slice_names=["a"])
        >>> weights = model.predict_slice_attention(torch.zeros(3, 2))
        >>> list(weights.columns), weights.sum(axis=1).round(6).tolist()
        (['a', 'base'], [1.0, 1.0, 1.0])
        """
        combiner = self.slice_combiner
        chunks = [np.zeros((0, len(self.slice_names) + 1))]
        for heads in self._slice_head_outputs(X, batch_size):
            weights = combiner.attention_weights(
                heads[INDICATOR_LOGITS], heads[PREDICTOR_LOGITS]
            )
            chunks.append(weights.cpu().numpy())
        return pd.DataFrame(
            np.concatenate(chunks), columns=[*self.slice_names, BASE_SLICE]
        )
