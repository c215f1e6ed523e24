"""snorkel's predict/score contract for a model whose slice labels are one tensor.

``MultitaskClassifier.predict`` and ``score`` key everything by label set; a
``snorkel.slicing`` dataset holds one ``_ind`` and one ``_pred`` label set per slice.
Here the batches' membership label is expanded into those label sets as they stream
past, so callers (snorkel's ``Trainer`` among them) see snorkel's keys unchanged.
"""

from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from snorkel.analysis import Scorer
from snorkel.classification import DictDataLoader
from snorkel.classification.multitask_classifier import MultitaskClassifier
from snorkel.utils import probs_to_preds

from slicing.model.tasks import (
    BASE_SLICE,
    indicator_task_name,
    predictor_task_name,
    slice_membership_label,
)

__all__ = [
    "LabelPredictions",
    "as_prediction_dict",
    "expand_slice_labels",
    "predict_label_sets",
    "score_label_set",
    "score_label_sets",
]

# label name -> (task name, golds, probs); golds are (n,) or soft (n, c).
LabelPredictions = dict[str, tuple[str, np.ndarray, np.ndarray]]


def expand_slice_labels(
    Y_dict: dict[str, torch.Tensor], base_task_name: str, slice_names: Sequence[str]
) -> dict[str, torch.Tensor]:
    """snorkel.slicing's per-slice label sets, computed from the membership label.

    ``snorkel.slicing`` stores ``<task>_slice:<name>_ind`` (0/1 membership) and
    ``<task>_slice:<name>_pred`` (the base labels, ``-1`` outside the slice) for
    every slice; this package stores one membership tensor instead. Prediction and
    scoring expand it on the fly, so their outputs keep snorkel's keys. Labels other
    than the membership label are passed through; ``Y_dict`` is not modified.

    Parameters
    ----------
    Y_dict
        Labels of a batch or dataset, with the base task's labels.
    base_task_name
        Name of the base task.
    slice_names
        The model's user slice names, in column order (``base`` is appended).

    Examples
    --------
    >>> import torch
    >>> Y = {"task": torch.tensor([1, 0]),
    ...      "task_slice_membership": torch.tensor([[True, True], [False, True]])}
    >>> expanded = expand_slice_labels(Y, "task", ["short"])
    >>> list(expanded)
    ['task', 'task_slice:short_ind', 'task_slice:short_pred', 'task_slice:base_ind', 'task_slice:base_pred']
    >>> expanded["task_slice:short_pred"]
    tensor([ 1, -1])
    """
    membership_key = slice_membership_label(base_task_name)
    expanded = {key: value for key, value in Y_dict.items() if key != membership_key}
    if membership_key not in Y_dict or base_task_name not in Y_dict:
        return expanded
    membership = Y_dict[membership_key]
    golds = Y_dict[base_task_name]
    for index, name in enumerate([*slice_names, BASE_SLICE]):
        members = membership[:, index].bool()
        expanded[indicator_task_name(base_task_name, name)] = members.long()
        outside = ~members if golds.dim() == 1 else ~members[:, None]
        expanded[predictor_task_name(base_task_name, name)] = golds.masked_fill(
            outside, -1
        )
    return expanded


def predict_label_sets(
    model: MultitaskClassifier,
    dataloader: DictDataLoader,
    *,
    base_task_name: str,
    slice_names: Sequence[str],
    remap_labels: Mapping[str, str | None] | None = None,
) -> LabelPredictions:
    """Golds and probabilities of every label set of ``dataloader`` that has a task.

    Parameters
    ----------
    model
        The classifier; must be in eval mode (the caller's job).
    dataloader
        Batches of ``(X_dict, Y_dict)``.
    base_task_name, slice_names
        Of the model: the membership label is expanded with
        :func:`expand_slice_labels`.
    remap_labels
        As in ``MultitaskClassifier.predict``: label set -> task to read
        predictions from, or ``None`` to leave the label set out.
    """
    golds: dict[str, list[np.ndarray]] = defaultdict(list)
    probs: dict[str, list[np.ndarray]] = defaultdict(list)
    labels_to_tasks: dict[str, str] | None = None
    for X_batch, Y_batch in dataloader:
        label_sets = expand_slice_labels(Y_batch, base_task_name, slice_names)
        if labels_to_tasks is None:
            labels_to_tasks = model._get_labels_to_tasks(
                label_sets.keys(), remap_labels=dict(remap_labels or {})
            )
        batch_probs = model._calculate_probs(X_batch, set(labels_to_tasks.values()))
        for label, task in labels_to_tasks.items():
            golds[label].append(label_sets[label].cpu().numpy())
            probs[label].append(np.asarray(batch_probs[task]))
    return {
        label: (task, np.concatenate(golds[label]), np.concatenate(probs[label]))
        for label, task in (labels_to_tasks or {}).items()
    }


def score_label_set(
    scorer: Scorer, golds: np.ndarray, probs: np.ndarray
) -> dict[str, float]:
    """Score the labelled rows of one label set; NaN for each metric if there are none.

    Soft golds ``(n, c)`` are scored by their most likely class; rows of ``-1``
    (hard or soft) are left out, as snorkel leaves out abstains.

    Examples
    --------
    >>> import numpy as np
    >>> from snorkel.analysis import Scorer
    >>> probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6]])
    >>> score_label_set(Scorer(metrics=["accuracy"]), np.array([0, 0, -1]), probs)
    {'accuracy': 0.5}
    >>> score_label_set(Scorer(metrics=["accuracy"]), np.array([-1, -1, -1]), probs)
    {'accuracy': nan}
    """
    if golds.ndim == 2:
        unlabelled = (golds == -1).all(axis=1)
        golds = np.where(unlabelled, -1, golds.argmax(axis=1))
    golds = golds.astype(np.int64)
    labelled = golds != -1
    if not labelled.any():
        return dict.fromkeys(scorer.metrics, float("nan"))
    probs = probs[labelled]
    return scorer.score(golds[labelled], probs_to_preds(probs), probs)


def as_prediction_dict(
    label_sets: LabelPredictions, *, return_preds: bool
) -> dict[str, dict[str, torch.Tensor]]:
    """``MultitaskClassifier.predict``'s result: float tensors keyed by label set."""
    results = {
        "golds": {label: torch.Tensor(g) for label, (_, g, _) in label_sets.items()},
        "probs": {label: torch.Tensor(p) for label, (_, _, p) in label_sets.items()},
    }
    if return_preds:
        results["preds"] = {
            label: torch.Tensor(probs_to_preds(p))
            for label, (_, _, p) in label_sets.items()
        }
    return results


def score_label_sets(
    label_sets: LabelPredictions, scorers: Mapping[str, Scorer], *, prefix: str
) -> dict[str, float]:
    """Scores keyed ``<label>/<prefix>/<metric>``, each by its task's scorer."""
    return {
        f"{label}/{prefix}/{metric}": value
        for label, (task, golds, probs) in label_sets.items()
        for metric, value in score_label_set(scorers[task], golds, probs).items()
    }
