"""Turn a snorkel ``Task`` and slicing functions into slice tasks and slice labels.

For every slice, plus a ``base`` slice covering all rows, the model gets an indicator
task ``<task>_slice:<name>_ind`` and a predictor task ``<task>_slice:<name>_pred``;
the base task's head then reads the attention-combined slice representation
(section 3.2 of Chen et al., NeurIPS 2019). All heads live in one batched
``SliceHeadsModule``; each slice task only selects its column, so the tasks are
ordinary snorkel ``Task``s that can be predicted and scored one by one, while
training computes all slice losses in one pass from a single membership label
(``<task>_slice_membership``, a bool ``(n, k + 1)`` tensor).
"""

from collections.abc import Sequence

import numpy as np
import torch
from snorkel.analysis import Scorer
from snorkel.classification import DictDataLoader, Operation, Task
from torch import nn

from slicing.matrix import check_slice_names, slice_matrix_names, slice_matrix_to_array
from slicing.model.combiner import SliceCombinerModule
from slicing.model.heads import (
    EXPERT_REPRESENTATIONS,
    INDICATOR_LOGITS,
    PREDICTOR_LOGITS,
    IndicatorAsTwoClassLogits,
    SliceHeadsModule,
)
from slicing.model.labels import validate_base_labels

__all__ = [
    "BASE_SLICE",
    "add_slice_labels",
    "convert_to_slice_tasks",
    "make_base_task",
    "find_slice_heads",
    "indicator_task_name",
    "predictor_task_name",
    "slice_membership_label",
    "slice_part_name",
    "validate_base_labels",
]

BASE_SLICE = "base"


def indicator_task_name(task_name: str, slice_name: str) -> str:
    """Name of the indicator task of a slice: ``<task>_slice:<slice>_ind``."""
    return f"{task_name}_slice:{slice_name}_ind"


def predictor_task_name(task_name: str, slice_name: str) -> str:
    """Name of the predictor task of a slice: ``<task>_slice:<slice>_pred``."""
    return f"{task_name}_slice:{slice_name}_pred"


def slice_part_name(task_name: str, part: str) -> str:
    """Name of a slice part of a task, ``<task>_slice_<part>``: ops, modules, labels.

    One helper names them all: the ``heads`` op and module, the ``combiner``, the
    final ``head``, the ``membership`` label and the ``indicators`` / ``predictors``
    losses.

    Examples
    --------
    >>> slice_part_name("task", "heads")
    'task_slice_heads'
    """
    return f"{task_name}_slice_{part}"


def slice_membership_label(task_name: str) -> str:
    """Key of the ``(n, k + 1)`` slice membership tensor in a dataset's ``Y_dict``."""
    return slice_part_name(task_name, "membership")


def _unwrap(module: nn.Module) -> nn.Module:
    return module.module if isinstance(module, nn.DataParallel) else module


def find_slice_heads(task: Task) -> SliceHeadsModule | None:
    """The ``SliceHeadsModule`` of a converted base task, or ``None``."""
    for module in task.module_pool.values():
        if isinstance(_unwrap(module), SliceHeadsModule):
            return _unwrap(module)  # type: ignore[return-value]
    return None


def _task_cardinality(base_task: Task) -> int:
    heads = find_slice_heads(base_task)
    if heads is not None:
        return heads.cardinality
    head = _unwrap(base_task.module_pool[base_task.op_sequence[-1].module_name])
    return int(head.out_features)  # type: ignore[arg-type]


def make_base_task(
    base_architecture: nn.Module,
    head_dim: int,
    *,
    cardinality: int,
    input_data_key: str,
    task_name: str,
    scorer: Scorer,
) -> Task:
    """The plain task ``prediction_head(base_architecture(X[input_data_key]))``.

    ``SliceAwareClassifier`` converts it with :func:`convert_to_slice_tasks`.

    Examples
    --------
    >>> from torch import nn
    >>> from snorkel.analysis import Scorer
    >>> task = make_base_task(nn.Linear(2, 4), 4, cardinality=3, input_data_key="x",
    ...                       task_name="t", scorer=Scorer(metrics=["accuracy"]))
    >>> [op.name for op in task.op_sequence], task.module_pool["prediction_head"]
    (['input_op', 'head_op'], Linear(in_features=4, out_features=3, bias=True))
    """
    pool = nn.ModuleDict(
        {
            "base_architecture": base_architecture,
            "prediction_head": nn.Linear(head_dim, cardinality),
        }
    )
    op_sequence = [
        Operation(
            name="input_op",
            module_name="base_architecture",
            inputs=[("_input_", input_data_key)],
        ),
        Operation(name="head_op", module_name="prediction_head", inputs=["input_op"]),
    ]
    return Task(task_name, pool, op_sequence, scorer=scorer)


def convert_to_slice_tasks(
    base_task: Task,
    slice_names: Sequence[str],
    *,
    expert_dim: int | None = None,
    indicator_dim: int | None = 0,
    small_slice_indicators: bool = False,
    combiner: SliceCombinerModule | None = None,
    share_final_head: bool = True,
) -> list[Task]:
    """Create indicator and predictor tasks per slice and a slice-aware base task.

    The caller's ``base_task`` is not modified: the new tasks share its backbone
    modules (so they train together) but get their own module pools, and the base
    task's final head is replaced, in the new base task only, by the attention
    combiner followed by a final linear head ``h``.

    Parameters
    ----------
    base_task
        A task whose last operation is a linear head (an ``nn.Module`` with
        ``in_features`` and ``out_features``; ``out_features`` is the number of
        classes, at least 2).
    slice_names
        Names of the user slices (the SF names), in slice-matrix column order. The
        base slice is appended automatically; ``"base"`` itself is refused.
    expert_dim
        Size of each slice expert representation; defaults to the head's input size.
    indicator_dim
        Hidden units of each slice's indicator MLP; ``0`` (the default) for the
        paper's (and ``snorkel.slicing``'s) linear indicator, ``None`` for the head's
        input size. See ``SliceIndicators`` for when the MLP helps.
    small_slice_indicators
        Give the heads a buffer of small slices and, with linear indicators, an MLP
        indicator for them (``SliceHeadsModule``); ``SliceAwareClassifier`` marks
        them (its ``small_slice_fraction``).
    combiner
        The attention module; ``SliceCombinerModule()`` (``softmax(Q)`` over the
        indicators; the paper's ``softmax(Q + |P|)`` is ``mode="full"``) by
        default. Pass one to set its temperature or mode.
    share_final_head
        Use the slice predictor head ``g`` as the final head ``h``, so the
        prediction is ``g(sum_i a_i r_i) = sum_i a_i g(r_i)``: the attention mixes
        the slice predictions the experts were trained to make. With a separate
        ``h`` (``False``, a fresh ``nn.Linear(expert_dim, c)``), ``h`` is trained on
        all rows, where the base expert dominates, and did not learn to read a small
        slice's expert: on the synthetic study the s2 expert was 96% accurate on its
        members but the final head only 10%, and over 5 seeds s2 F1 was 39.9 +- 24.0
        against 83.8 +- 8.7 with the shared head (``bench/synthetic.py --ablation``).

    Returns
    -------
    list of Task
        Indicator tasks, then predictor tasks (user slices then ``base``), then the
        slice-aware base task (same name as ``base_task``), as in ``snorkel.slicing``.

    Raises
    ------
    ValueError
        On invalid slice names or a head without ``in_features``/``out_features``.

    Examples
    --------
    >>> from torch import nn
    >>> from snorkel.classification import Operation, Task
    >>> pool = nn.ModuleDict({"body": nn.Linear(2, 4), "head": nn.Linear(4, 2)})
    >>> task = Task("task", pool, [Operation("body", [("_input_", "data")]),
    ...                            Operation("head", ["body"])])
    >>> [t.name for t in convert_to_slice_tasks(task, ["short"])]
    ['task_slice:short_ind', 'task_slice:base_ind', 'task_slice:short_pred', 'task_slice:base_pred', 'task']
    >>> sorted(task.module_pool)  # the caller's task is unchanged
    ['body', 'head']
    """
    all_slice_names = check_slice_names(slice_names) + [BASE_SLICE]
    if not base_task.op_sequence:
        raise ValueError(f"task {base_task.name!r} has no operations")
    head_op = base_task.op_sequence[-1]
    head = _unwrap(base_task.module_pool[head_op.module_name])
    head_dim = getattr(head, "in_features", None)
    cardinality = getattr(head, "out_features", None)
    if not isinstance(head_dim, int) or not isinstance(cardinality, int):
        raise ValueError(
            f"the last operation of task {base_task.name!r} must use a linear head "
            f"with int in_features/out_features; got {type(head).__name__}"
        )
    expert_dim = head_dim if expert_dim is None else expert_dim

    body_ops = list(base_task.op_sequence[:-1])
    body_pool = {
        op.module_name: base_task.module_pool[op.module_name] for op in body_ops
    }

    heads_name = slice_part_name(base_task.name, "heads")
    heads = SliceHeadsModule(
        head_dim,
        expert_dim,
        all_slice_names,
        cardinality,
        indicator_dim=indicator_dim,
        small_slice_indicators=small_slice_indicators,
    )
    heads_op = Operation(module_name=heads_name, inputs=head_op.inputs)

    # Two shared parameter-free modules read every slice's column of the batched
    # heads output; a module per slice would make train()/eval() walk 2(k+1) modules.
    indicator_column_name = slice_part_name(base_task.name, "indicator_column")
    predictor_column_name = slice_part_name(base_task.name, "predictor_column")
    column_modules = {
        indicator_column_name: IndicatorAsTwoClassLogits(),
        predictor_column_name: nn.Identity(),
    }

    def slice_task(task_name: str, index: int, indicator: bool) -> Task:
        field = INDICATOR_LOGITS if indicator else PREDICTOR_LOGITS
        column_name = indicator_column_name if indicator else predictor_column_name
        pool = nn.ModuleDict(
            {**body_pool, heads_name: heads, column_name: column_modules[column_name]}
        )
        column_op = Operation(
            name=f"{task_name}_head",
            module_name=column_name,
            inputs=[(heads_name, (field, index))],
        )
        return Task(
            name=task_name,
            module_pool=pool,
            op_sequence=body_ops + [heads_op, column_op],
            # Indicator tasks are usually class imbalanced, hence F1.
            scorer=Scorer(metrics=["f1"]) if indicator else base_task.scorer,
        )

    indicator_tasks = [
        slice_task(indicator_task_name(base_task.name, name), index, indicator=True)
        for index, name in enumerate(all_slice_names)
    ]
    predictor_tasks = [
        slice_task(predictor_task_name(base_task.name, name), index, indicator=False)
        for index, name in enumerate(all_slice_names)
    ]

    combiner_name = slice_part_name(base_task.name, "combiner")
    final_head_name = slice_part_name(base_task.name, "head")
    combiner_op = Operation(
        module_name=combiner_name,
        inputs=[
            (heads_name, INDICATOR_LOGITS),
            (heads_name, PREDICTOR_LOGITS),
            (heads_name, EXPERT_REPRESENTATIONS),
        ],
    )
    final_head_op = Operation(module_name=final_head_name, inputs=[combiner_name])
    base_pool = nn.ModuleDict(
        {
            **body_pool,
            heads_name: heads,
            combiner_name: combiner if combiner is not None else SliceCombinerModule(),
            final_head_name: heads.predictor
            if share_final_head
            else nn.Linear(expert_dim, cardinality),
        }
    )
    slice_aware_base_task = Task(
        name=base_task.name,
        module_pool=base_pool,
        op_sequence=body_ops + [heads_op, combiner_op, final_head_op],
        scorer=base_task.scorer,
        loss_func=base_task.loss_func,
        output_func=base_task.output_func,
    )
    return indicator_tasks + predictor_tasks + [slice_aware_base_task]


def slice_membership(S: np.ndarray | None, n_rows: int) -> torch.Tensor:
    """``(n, k + 1)`` bool tensor: the slice matrix columns plus the all-True base."""
    matrix = (
        np.zeros((n_rows, 0), dtype=bool) if S is None else slice_matrix_to_array(S)
    )
    membership = np.ones((n_rows, matrix.shape[1] + 1), dtype=bool)
    membership[:, :-1] = matrix
    return torch.from_numpy(membership)


def add_slice_labels(
    dataloader: DictDataLoader, base_task: Task, S: np.ndarray | None
) -> None:
    """Add the slice membership label to a dataloader's dataset, in place.

    Adds ``Y_dict["<task>_slice_membership"]``: a bool ``(n, k + 1)`` tensor whose
    columns are the slices of ``S`` followed by the base slice. Indicator targets
    are these columns; predictor targets are the base task's labels restricted to
    each slice's members (hard or soft labels alike), computed per batch.

    Parameters
    ----------
    dataloader
        Its ``dataset.Y_dict`` must hold the base task's labels; it is modified.
    base_task
        The base task; if it is a converted (slice-aware) task, e.g.
        ``SliceAwareClassifier.base_task``, ``S`` must have its slice names in order.
    S
        Slice matrix (this package's bool record array or snorkel's int64
        recarray) with one row per data point. ``None`` when there are no slices.

    Raises
    ------
    ValueError
        If the base labels are missing or invalid, ``S`` has the wrong length or
        names, or a slice is named ``base``.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from torch import nn
    >>> from snorkel.classification import DictDataLoader, DictDataset, Operation, Task
    >>> from slicing.matrix import make_slice_matrix
    >>> pool = nn.ModuleDict({"head": nn.Linear(2, 2)})
    >>> task = Task("task", pool, [Operation("head", [("_input_", "data")])])
    >>> dataset = DictDataset("d", "train", {"data": torch.zeros(3, 2)},
    ...                       {"task": torch.tensor([0, 1, 0])})
    >>> loader = DictDataLoader(dataset)
    >>> S = make_slice_matrix(np.array([[True], [False], [True]]), ["short"])
    >>> add_slice_labels(loader, task, S)
    >>> dataset.Y_dict["task_slice_membership"]
    tensor([[ True,  True],
            [False,  True],
            [ True,  True]])
    """
    Y_dict = dataloader.dataset.Y_dict
    if base_task.name not in Y_dict:
        raise ValueError(
            f"base task {base_task.name!r}: labels missing from the dataset; it has "
            f"labels {sorted(Y_dict)}"
        )
    labels = Y_dict[base_task.name]
    validate_base_labels(labels, base_task.name, _task_cardinality(base_task))
    names = [] if S is None else check_slice_names(slice_matrix_names(S))
    heads = find_slice_heads(base_task)
    if heads is not None and names != heads.slice_names[:-1]:
        raise ValueError(
            f"slice matrix names {names} differ from the model's slice names "
            f"{heads.slice_names[:-1]} (same names in the same order expected)"
        )
    if S is not None and S.shape[0] != len(labels):
        raise ValueError(
            f"slice matrix has {S.shape[0]} rows but the dataset has {len(labels)}"
        )
    Y_dict[slice_membership_label(base_task.name)] = slice_membership(S, len(labels))
