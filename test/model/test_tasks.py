import numpy as np
import pytest
import torch
from snorkel.classification import (
    DictDataLoader,
    DictDataset,
    MultitaskClassifier,
    Operation,
    Task,
)
from torch import nn

from slicing.matrix import make_slice_matrix
from slicing.model.combiner import SliceCombinerModule
from slicing.model.heads import SliceHeadsModule
from slicing.model.tasks import (
    add_slice_labels,
    convert_to_slice_tasks,
    find_slice_heads,
    slice_membership_label,
)


def make_task(name: str = "task", cardinality: int = 2) -> Task:
    pool = nn.ModuleDict({"body": nn.Linear(2, 4), "head": nn.Linear(4, cardinality)})
    ops = [Operation("body", [("_input_", "data")]), Operation("head", ["body"])]
    return Task(name, pool, ops)


def make_loader(labels: torch.Tensor) -> DictDataLoader:
    data = torch.zeros(len(labels), 2)
    return DictDataLoader(DictDataset("d", "train", {"data": data}, {"task": labels}))


def test_tasks_cover_every_slice_plus_base_and_the_base_task_last():
    tasks = convert_to_slice_tasks(make_task(), ["short", "long"])
    assert [task.name for task in tasks] == [
        "task_slice:short_ind",
        "task_slice:long_ind",
        "task_slice:base_ind",
        "task_slice:short_pred",
        "task_slice:long_pred",
        "task_slice:base_pred",
        "task",
    ]


def test_callers_base_task_is_not_mutated_and_backbone_is_shared():
    task = make_task()
    pool_before = dict(task.module_pool)
    ops_before = list(task.op_sequence)
    tasks = convert_to_slice_tasks(task, ["short"])
    assert dict(task.module_pool) == pool_before
    assert list(task.op_sequence) == ops_before
    slice_aware = tasks[-1]
    assert slice_aware.module_pool["body"] is task.module_pool["body"]
    assert all(
        module is not task.module_pool["head"]
        for module in slice_aware.module_pool.values()
    )
    # each task only holds the modules its operations use
    for converted in tasks:
        used = {op.module_name for op in converted.op_sequence}
        assert set(converted.module_pool) == used


def test_slice_named_base_is_refused():
    with pytest.raises(ValueError, match="reserved"):
        convert_to_slice_tasks(make_task(), ["short", "base"])
    # A slice matrix cannot even be built with a reserved name.
    with pytest.raises(ValueError, match="reserved"):
        make_slice_matrix(np.ones((2, 1), bool), ["base"])


def test_zero_slices_reduce_to_the_base_slice():
    tasks = convert_to_slice_tasks(make_task(), [])
    assert [task.name for task in tasks] == [
        "task_slice:base_ind",
        "task_slice:base_pred",
        "task",
    ]
    loader = make_loader(torch.tensor([0, 1, 1]))
    add_slice_labels(loader, tasks[-1], None)
    membership = loader.dataset.Y_dict[slice_membership_label("task")]
    assert membership.shape == (3, 1) and membership.all()


def test_slice_tasks_read_their_own_column_paired_by_identity_not_sorted_name():
    # snorkel.slicing sorts indicator and predictor outputs by name separately, so for
    # 'len_long' / 'len' the indicator of one weighted the expert of the other.
    names = ["len_long", "len", "a"]
    tasks = convert_to_slice_tasks(make_task(), names)
    model = MultitaskClassifier(tasks, device=-1, dataparallel=False)
    heads = find_slice_heads(tasks[-1])
    assert heads.slice_names == names + ["base"]
    with torch.no_grad():
        heads.indicator.weight.zero_()
        heads.indicator.bias.copy_(torch.tensor([3.0, -3.0, 0.0, 5.0]))
    outputs = model.forward({"data": torch.zeros(1, 2)}, [task.name for task in tasks])
    for index, name in enumerate(names + ["base"]):
        logits = outputs[f"task_slice:{name}_ind_head"]
        assert logits[0, 1].item() == heads.indicator.bias[index].item()
        torch.testing.assert_close(
            outputs[f"task_slice:{name}_pred_head"],
            outputs["task_slice_heads"]["predictor_logits"][:, index],
        )


def test_indicator_and_predictor_tasks_train_as_plain_snorkel_tasks():
    tasks = convert_to_slice_tasks(make_task(), ["s"])
    model = MultitaskClassifier(tasks, device=-1, dataparallel=False)
    X = {"data": torch.randn(4, 2)}
    Y = {
        "task_slice:s_ind": torch.tensor([1, 0, 1, 0]),
        "task_slice:s_pred": torch.tensor([1, -1, 0, -1]),
    }
    losses, counts = model.calculate_loss(X, Y)
    assert counts == {"task_slice:s_ind": 4, "task_slice:s_pred": 2}
    assert all(torch.isfinite(loss) for loss in losses.values())


def test_head_must_be_linear_with_in_and_out_features():
    task = make_task()
    task.module_pool["head"] = nn.ReLU()
    with pytest.raises(ValueError, match="linear head .* got ReLU"):
        convert_to_slice_tasks(task, ["s"])


def test_add_slice_labels_is_in_place_and_accepts_snorkel_int64_recarray():
    loader = make_loader(torch.tensor([0, 1, 1]))
    S = np.rec.fromarrays([np.array([1, 0, 1]), np.array([0, 0, 1])], names=["a", "b"])
    assert add_slice_labels(loader, make_task(), S) is None
    membership = loader.dataset.Y_dict["task_slice_membership"]
    assert membership.dtype == torch.bool
    assert membership.tolist() == [
        [True, False, True],
        [False, False, True],
        [True, True, True],
    ]


def test_add_slice_labels_rejects_non_binary_int_slice_matrix():
    S = np.rec.fromarrays([np.array([1, 2, 0])], names=["a"])
    with pytest.raises(ValueError, match="'a' holds 2 at row 1"):
        add_slice_labels(make_loader(torch.tensor([0, 1, 1])), make_task(), S)


def test_add_slice_labels_checks_names_against_a_converted_task():
    converted = convert_to_slice_tasks(make_task(), ["a", "b"])[-1]
    S = make_slice_matrix(np.zeros((3, 2), bool), ["b", "a"])
    with pytest.raises(
        ValueError,
        match=r"\['b', 'a'\] differ from the model's slice names \['a', 'b'\]",
    ):
        add_slice_labels(make_loader(torch.tensor([0, 1, 1])), converted, S)


@pytest.mark.parametrize(
    "labels, rows, message",
    [
        (torch.tensor([0, 2, 1]), 3, "hold 2 at row 1; expected -1 .* 0..1"),
        (torch.tensor([0.0, 1.0, 1.0]), 3, "integer tensor; got torch.float32"),
        (torch.rand(3, 3), 3, r"shape \(n, 2\); got torch.float32 of shape \(3, 3\)"),
        (torch.tensor([0, 1, 1]), 4, "4 rows but the dataset has 3"),
    ],
)
def test_add_slice_labels_bad_input(labels, rows, message):
    S = make_slice_matrix(np.zeros((rows, 1), bool), ["a"])
    with pytest.raises(ValueError, match=message):
        add_slice_labels(make_loader(labels), make_task(), S)


def test_add_slice_labels_needs_base_labels():
    loader = make_loader(torch.tensor([0, 1]))
    with pytest.raises(
        ValueError, match="base task 'other': labels missing.*\\['task'\\]"
    ):
        add_slice_labels(
            loader, make_task("other"), make_slice_matrix(np.zeros((2, 1), bool), ["a"])
        )


def test_expert_dim_and_multiclass_cardinality():
    tasks = convert_to_slice_tasks(make_task(cardinality=4), ["a"], expert_dim=7)
    heads = find_slice_heads(tasks[-1])
    assert isinstance(heads, SliceHeadsModule)
    assert (heads.head_dim, heads.expert_dim, heads.cardinality) == (4, 7, 4)
    assert tasks[-1].module_pool["task_slice_head"].in_features == 7


@pytest.mark.parametrize("share", [True, False])
def test_final_head_is_the_shared_slice_predictor_unless_asked_otherwise(share):
    tasks = convert_to_slice_tasks(make_task(), ["a"], share_final_head=share)
    heads = find_slice_heads(tasks[-1])
    final_head = tasks[-1].module_pool["task_slice_head"]
    assert (final_head is heads.predictor) == share
    assert (final_head.in_features, final_head.out_features) == (4, 2)


def test_a_given_combiner_is_used():
    combiner = SliceCombinerModule(mode="uniform", temperature=3.0)
    tasks = convert_to_slice_tasks(make_task(), ["a"], combiner=combiner)
    assert tasks[-1].module_pool["task_slice_combiner"] is combiner
