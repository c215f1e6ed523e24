"""Batching for the slice-aware model: a faster ``collate_dicts`` and input batches.

Training reads snorkel ``DictDataLoader`` batches collated by :func:`collate_stacked`;
inference reads only the inputs, given in any of the forms of :data:`Inputs`, in
slices of rows (:func:`iter_input_batches`).
"""

from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple, TypeAlias

import numpy as np
import torch
from snorkel.classification import DictDataLoader, DictDataset, Task
from snorkel.classification.data import Batch
from snorkel.classification.utils import list_to_tensor
from torch.utils.data import DataLoader

from slicing.matrix import validate_slice_matrix
from slicing.model.tasks import add_slice_labels

__all__ = [
    "BatchedDictDataset",
    "GatheredRows",
    "Inputs",
    "collate_stacked",
    "iter_input_batches",
    "make_slice_dataloader",
]

Inputs: TypeAlias = torch.Tensor | dict[str, Any] | DictDataset | DataLoader
"""Model inputs: a tensor (the input field), a dict of fields, a dataset or a loader."""


def collate_stacked(batch: "list[Batch] | GatheredRows") -> Batch:
    """snorkel's ``collate_dicts``, with equal-shaped tensors stacked in one call.

    snorkel copies 1-D items (feature vectors, slice membership rows) one by one
    into a padded tensor; when they all have the same shape the result equals
    ``torch.stack``, which is one call. Other fields are merged as snorkel does.
    Rows a :class:`BatchedDictDataset` already gathered (:class:`GatheredRows`) are
    returned as they are.

    Examples
    --------
    >>> import torch
    >>> items = [({"x": torch.tensor([1, 2])}, {"y": torch.tensor(0)})] * 2
    >>> collate_stacked(items)
    ({'x': tensor([[1, 2],
            [1, 2]])}, {'y': tensor([0, 0])})
    """
    if isinstance(batch, GatheredRows):
        return batch.X_dict, batch.Y_dict
    X_items, Y_items = zip(*batch, strict=True)
    return _merge_fields(X_items, labels=False), _merge_fields(Y_items, labels=True)


def _merge_fields(items: Sequence[dict[str, Any]], labels: bool) -> dict[str, Any]:
    return {
        name: _merge_values([item[name] for item in items], labels) for name in items[0]
    }


def _merge_values(values: list[Any], labels: bool) -> Any:
    """One field of a batch from its items' values, as ``collate_stacked`` merges."""
    first = values[0]
    if isinstance(first, torch.Tensor) and all(
        isinstance(value, torch.Tensor) and value.shape == first.shape
        for value in values
    ):
        return torch.stack(values)
    if labels or isinstance(first, torch.Tensor):
        return list_to_tensor(values)
    return values  # non-tensor input fields stay lists, as in collate_dicts


class GatheredRows(NamedTuple):
    """The fields of a batch's rows, gathered by :class:`BatchedDictDataset`."""

    X_dict: dict[str, Any]
    Y_dict: dict[str, Any]


class BatchedDictDataset(DictDataset):
    """A ``DictDataset`` whose loader fetches a batch's rows in one call per field.

    A ``DataLoader`` asks ``__getitems__`` for all rows of a batch at once (instead
    of ``__getitem__`` row by row and a collate over the items): a tensor field is
    indexed once with the batch's row ids, any other field is merged from its
    rows as :func:`collate_stacked` does, so :func:`collate_stacked` returns the
    same batch either way. ``make_slice_dataloader`` uses it with that collate.

    Examples
    --------
    >>> import torch
    >>> dataset = BatchedDictDataset(
    ...     "d", "train", {"x": torch.arange(6).view(3, 2)}, {"y": torch.tensor([0, 1, 1])})
    >>> rows = dataset.__getitems__([2, 0])
    >>> X, Y = collate_stacked([dataset[2], dataset[0]])  # row by row
    >>> torch.equal(rows.X_dict["x"], X["x"]) and torch.equal(rows.Y_dict["y"], Y["y"])
    True
    >>> rows.X_dict["x"].tolist(), rows.Y_dict["y"].tolist()
    ([[4, 5], [0, 1]], [1, 0])
    """

    def __getitems__(self, indices: Sequence[int]) -> GatheredRows:
        index = torch.as_tensor(indices, dtype=torch.long)
        return GatheredRows(
            _gather(self.X_dict, indices, index, labels=False),
            _gather(self.Y_dict, indices, index, labels=True),
        )


def _gather(
    fields: dict[str, Any], indices: Sequence[int], index: torch.Tensor, labels: bool
) -> dict[str, Any]:
    # Dense tensors are indexed once; anything else (lists, arrays, sparse tensors,
    # which cannot be indexed by a tensor) is read row by row and merged.
    return {
        name: values[index]
        if isinstance(values, torch.Tensor) and values.layout == torch.strided
        else _merge_values([values[i] for i in indices], labels)
        for name, values in fields.items()
    }


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
        default ``collate_fn`` is :func:`collate_stacked`; with it the loader reads
        a :class:`BatchedDictDataset`, which fetches a batch's rows in one call per
        field (the same batches, without a Python call per row).

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
    dataloader_kwargs.setdefault("collate_fn", collate_stacked)
    # With our collate, a batch's rows are fetched in one call per field.
    dataset_class = (
        BatchedDictDataset
        if dataloader_kwargs["collate_fn"] is collate_stacked
        else DictDataset
    )
    slice_dataset = dataset_class(
        dataset.name, dataset.split, dataset.X_dict, dict(dataset.Y_dict)
    )
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
