import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from slicing.discover.predicates import build_predicate_space
from slicing.discover.search import find_slices


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n_rows = 4000
    frame = pd.DataFrame(
        {
            "video": rng.integers(1, 6, n_rows),
            "x": rng.normal(size=n_rows),
            "flag": rng.random(n_rows) < 0.3,
            "text": rng.choice(["check my channel", "nice song", "love it"], n_rows),
        }
    )
    hard = (frame.video == 2) & (frame.x > 0.8)
    frame["loss"] = rng.gamma(1.0, np.where(hard, 1.5, 0.3))
    return frame


@pytest.mark.parametrize("scheduler", ["synchronous", "threads"])
def test_dask_search_equals_pandas_search(frame, scheduler):
    space = build_predicate_space(
        frame.drop(columns="loss"),
        text_columns=["text"],
        columns=["video", "x", "flag"],
    )
    options = dict(space=space, min_support=40, top_k=6, progress_bar=False)
    expected = find_slices(frame, "loss", **options)
    ddf = dd.from_pandas(frame, npartitions=3)
    actual = find_slices(ddf, "loss", scheduler=scheduler, **options)
    assert [item.name for item in actual] == [item.name for item in expected]
    np.testing.assert_allclose(
        [item.score for item in actual], [item.score for item in expected]
    )
    np.testing.assert_allclose(
        [item.error_high for item in actual], [item.error_high for item in expected]
    )


def test_dask_search_builds_predicates_from_a_sample(frame):
    ddf = dd.from_pandas(frame, npartitions=4)
    result = find_slices(
        ddf,
        "loss",
        text_columns=["text"],
        sample_rows=1000,
        min_support=40,
        top_k=3,
        progress_bar=False,
        scheduler="synchronous",
    )
    top = result[0]
    assert top.name.startswith("video=2 & x>=")
    inside = top.mask(frame)  # statistics are exact on all rows
    assert top.size == inside.sum()
    assert top.error == pytest.approx(frame.loss[inside].mean())


def test_dask_errors_must_be_a_column(frame):
    ddf = dd.from_pandas(frame, npartitions=2)
    with pytest.raises(TypeError, match="errors must be the name of a column; got"):
        find_slices(ddf, frame.loss.to_numpy(), progress_bar=False)
    with pytest.raises(KeyError, match="errors column 'nope' is not in the frame"):
        find_slices(ddf, "nope", progress_bar=False)


def test_dask_bad_error_values_are_named(frame):
    frame.loc[5, "loss"] = -1.0
    ddf = dd.from_pandas(frame, npartitions=2)
    with pytest.raises(ValueError, match="finite non-negative numbers; got -1.0"):
        find_slices(ddf, "loss", progress_bar=False, scheduler="synchronous")


def test_dask_search_runs_on_a_distributed_client(frame):
    from distributed import Client, LocalCluster

    ddf = dd.from_pandas(frame, npartitions=3)
    options = dict(min_support=40, top_k=3, progress_bar=False, sample_rows=10_000)
    expected = find_slices(ddf, "loss", scheduler="synchronous", **options)
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        actual = find_slices(ddf, "loss", scheduler=client, **options)
    assert [item.name for item in actual] == [item.name for item in expected]
