import numpy as np
import pytest
import torch
from snorkel.classification import DictDataLoader, DictDataset

from slicing.matrix import make_slice_matrix
from slicing.model.classifier import SliceAwareClassifier
from slicing.model.data import BatchedDictDataset, GatheredRows, collate_stacked


def fields(n: int = 7):
    """Inputs of every kind a DictDataset holds: a tensor, strings, ragged tensors."""
    X_dict = {
        "x": torch.arange(2 * n, dtype=torch.float32).view(n, 2),
        "uid": [f"row{i}" for i in range(n)],
        "tokens": [torch.arange(i % 3 + 1) for i in range(n)],
        "sparse": torch.eye(n, 4).to_sparse(),
    }
    Y_dict = {
        "hard": torch.tensor([i % 2 for i in range(n)]),
        "soft": torch.rand(n, 3, generator=torch.Generator().manual_seed(0)),
        "membership": torch.tensor([[i % 2 == 0, True] for i in range(n)]),
    }
    return X_dict, Y_dict


def assert_same_batch(got, expected):
    for got_fields, expected_fields in zip(got, expected, strict=True):
        assert list(got_fields) == list(expected_fields)
        for name, value in expected_fields.items():
            if isinstance(value, torch.Tensor):
                if value.is_sparse:
                    got_fields[name], value = (
                        got_fields[name].to_dense(),
                        value.to_dense(),
                    )
                assert torch.equal(got_fields[name], value), name
                assert got_fields[name].dtype == value.dtype, name
            else:
                assert got_fields[name] == value, name


def test_gathered_rows_collate_to_the_batch_the_rows_collate_to_one_by_one():
    dataset = BatchedDictDataset("d", "train", *fields())
    indices = [5, 0, 3, 3, 6]
    rows = dataset.__getitems__(indices)
    assert isinstance(rows, GatheredRows)
    assert_same_batch(
        collate_stacked(rows), collate_stacked([dataset[i] for i in indices])
    )
    # The ragged field is padded, as snorkel's collate pads it.
    assert collate_stacked(rows)[0]["tokens"].shape == (5, 3)


def make_model(slice_name: str = "even") -> SliceAwareClassifier:
    torch.manual_seed(0)
    return SliceAwareClassifier(torch.nn.Linear(2, 4), 4, [slice_name])


def test_slice_loader_fetches_whole_batches_and_yields_the_row_by_row_batches():
    X_dict, Y_dict = fields(40)
    dataset = DictDataset("d", "train", X_dict, {"task": Y_dict["hard"]})
    S = make_slice_matrix((np.arange(40) % 2 == 0)[:, None], ["even"])
    model = make_model()
    loader = model.make_slice_dataloader(dataset, S, batch_size=8, shuffle=True)
    assert isinstance(loader.dataset, BatchedDictDataset)
    fetched = []
    loader.dataset.__getitems__ = lambda indices, gather=loader.dataset.__getitems__: (
        fetched.append(len(indices)) or gather(indices)
    )
    row_by_row = DictDataLoader(
        DictDataset("d", "train", X_dict, dict(loader.dataset.Y_dict)),
        batch_size=8,
        shuffle=True,
        collate_fn=collate_stacked,
    )
    torch.manual_seed(1)
    batches = list(loader)
    torch.manual_seed(1)
    expected = list(row_by_row)
    assert fetched == [8] * 5  # one fetch per batch, not one per row
    assert len(batches) == len(expected) == 5
    for got, want in zip(batches, expected, strict=True):
        assert_same_batch(got, want)


def test_a_loader_with_the_users_collate_reads_rows_one_by_one():
    X_dict, Y_dict = fields(6)
    dataset = DictDataset("d", "train", {"x": X_dict["x"]}, {"task": Y_dict["hard"]})
    S = make_slice_matrix((np.arange(6) % 2 == 0)[:, None], ["even"])
    seen = []

    def collate(items):
        seen.append(type(items))
        return collate_stacked(items)

    loader = make_model().make_slice_dataloader(
        dataset, S, batch_size=3, collate_fn=collate
    )
    assert type(loader.dataset) is DictDataset
    X, Y = next(iter(loader))
    assert seen == [list]
    assert X["x"].tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    assert Y["task_slice_membership"].tolist() == [
        [True, True],
        [False, True],
        [True, True],
    ]


@pytest.mark.parametrize("num_workers", [0, 1])
def test_training_on_the_batched_loader_gives_the_row_by_row_models_weights(
    num_workers,
):
    generator = torch.Generator().manual_seed(0)
    X = torch.rand(64, 2, generator=generator) * 2 - 1
    dataset = DictDataset(
        "d", "train", {"input_data": X}, {"task": (X[:, 0] > 0).long()}
    )
    S = make_slice_matrix((X[:, 1:] > 0.5).numpy(), ["upper"])
    weights = []
    for dataset_class in (BatchedDictDataset, DictDataset):
        model = make_model("upper")
        loader = model.make_slice_dataloader(
            dataset, S, batch_size=16, shuffle=True, num_workers=num_workers
        )
        loader.dataset.__class__ = dataset_class
        model.fit([loader], seed=3, n_epochs=2, lr=0.01, progress_bar=False)
        weights.append(torch.cat([p.flatten() for p in model.parameters()]))
    assert torch.equal(weights[0], weights[1])
