"""Batching for the slice-aware model: a faster ``collate_dicts`` and input batches.

Training reads snorkel ``DictDataLoader`` batches collated by :func:`collate_stacked`;
inference reads only the inputs, given in any of the forms of :data:`Inputs`, in
slices of rows (:func:`iter_input_batches`).
"""

from collections.abc import Iterator, Sequence
from typing import Any, TypeAlias

import numpy as np
import torch
from snorkel.classification import DictDataLoader, DictDataset, Task
from snorkel.classification.data import Batch
from snorkel.classification.utils import list_to_tensor
from torch.utils.data import DataLoader

from slicing.matrix import validate_slice_matrix
from slicing.model.tasks import add_slice_labels

__all__ = ["Inputs", "collate_stacked", "iter_input_batches", "make_slice_dataloader"]

Inputs: TypeAlias = torch.Tensor | dict[str, Any] | DictDataset | DataLoader
"""Model inputs: a tensor (the input field), a dict of fields, a dataset or a loader."""


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


def make_slice_dataloader(
    dataset: DictDataset,
    S: np.ndarray | None,
    base_task: Task,
    slice_names: Sequence[str],
    **dataloader_kwargs: Any,
) -> DictDataLoader:
    """A ``DictDataLoader`` over ``dataset`` with the slice membership label added.

    The caller's ``dataset`` is left unchanged: the loader reads a new
    ``DictDataset`` sharing its inputs and label tensors.

    Parameters
    ----------
    dataset
        Dataset with the base task's labels: hard ``(n,)`` class ids or soft
        ``(n, c)`` distributions (``-1`` or rows of ``-1`` for no label).
    S
        Slice matrix with ``slice_names`` as fields, in order, one row per data
        point (this package's bool record array or snorkel's int64 recarray).
        ``None`` for a model without slices.
    base_task, slice_names
        The model's slice-aware base task and user slice names.
    **dataloader_kwargs
        Passed to ``DictDataLoader`` (``batch_size``, ``shuffle``, ...). The
        default ``collate_fn`` is :func:`collate_stacked`.

    Raises
    ------
    ValueError
        On missing or invalid base labels (see
        :func:`slicing.model.labels.validate_base_labels`), or a slice matrix whose
        names or length do not match.
    """
    if S is not None:
        validate_slice_matrix(S, names=slice_names, n_rows=len(dataset))
    elif slice_names:
        raise ValueError(
            f"this model has slices {list(slice_names)}; a slice matrix S is needed"
        )
    slice_dataset = DictDataset(
        dataset.name, dataset.split, dataset.X_dict, dict(dataset.Y_dict)
    )
    dataloader_kwargs.setdefault("collate_fn", collate_stacked)
    dataloader = DictDataLoader(slice_dataset, **dataloader_kwargs)
    add_slice_labels(dataloader, base_task, S)
    return dataloader


def iter_input_batches(
    X: Inputs, input_data_key: str, *, batch_size: int
) -> Iterator[dict[str, Any]]:
    """Yield the input fields of ``X`` in consecutive batches of ``batch_size`` rows.

    Parameters
    ----------
    X
        A tensor (taken as the field ``input_data_key``), a dict of input fields, a
        ``DictDataset`` or a ``DataLoader`` over one (its batching and order are not
        used: rows come in dataset order). Labels, if any, are ignored.
    input_data_key
        The field the model's backbone reads; it must be present.
    batch_size
        Rows per batch.

    Raises
    ------
    TypeError
        If ``X`` is none of the accepted types.
    ValueError
        If ``X`` lacks the field ``input_data_key``.

    Examples
    --------
    >>> import torch
    >>> [batch["x"].tolist() for batch in iter_input_batches(torch.arange(5), "x",
    ...                                                       batch_size=2)]
    [[0, 1], [2, 3], [4]]
    """
    if isinstance(X, DataLoader):
        X = X.dataset
    if isinstance(X, DictDataset):
        X = X.X_dict
    if isinstance(X, torch.Tensor):
        X = {input_data_key: X}
    if not isinstance(X, dict):
        raise TypeError(
            "expected inputs as a tensor, a dict of fields, a DictDataset or a "
            f"DictDataLoader; got {type(X).__name__}"
        )
    if input_data_key not in X:
        raise ValueError(
            f"inputs lack the field {input_data_key!r}; got fields {sorted(X)}"
        )
    n_rows = len(X[input_data_key])
    for start in range(0, n_rows, batch_size):
        yield {key: value[start : start + batch_size] for key, value in X.items()}
