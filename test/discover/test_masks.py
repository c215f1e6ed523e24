import pickle
from types import SimpleNamespace

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from slicing.apply.dask import DaskSFApplier
from slicing.apply.pandas import PandasSFApplier
from slicing.discover.masks import ConjunctionMask, NearestCentroidMask
from slicing.discover.predicates import Predicate
from slicing.discover.result import DiscoveredSlice, to_sfs


def make_slice(name, identifier, mask):
    return DiscoveredSlice(
        name=name,
        identifier=identifier,
        size=1,
        error=0.5,
        error_low=0.1,
        error_high=0.9,
        error_lift=2.0,
        score=1.0,
        level=2,
        mask=mask,
    )


@pytest.fixture
def frame():
    return pd.DataFrame(
        {"video": [5, 5, 1, 5], "n_words": [3, 9, 3, np.nan]}, index=[7, 8, 9, 10]
    )


@pytest.fixture
def short_on_five():
    mask = ConjunctionMask(
        [Predicate("video", "equals", 5), Predicate("n_words", "range", high=5.0)]
    )
    return make_slice("video=5 & n_words<5", "video_eq_5__n_words_lt_5", mask)


def test_sf_is_vectorized_and_named(frame, short_on_five):
    [readable] = to_sfs([short_on_five])
    [identifier] = to_sfs([short_on_five], name_style="identifier")
    assert readable.vectorized and readable.name == "video=5 & n_words<5"
    assert identifier.name == "video_eq_5__n_words_lt_5"
    assert readable.apply_to_frame(frame).tolist() == [True, False, False, False]


def test_sf_works_on_one_data_point(short_on_five):
    sf = short_on_five.to_sf()
    assert sf(SimpleNamespace(video=5, n_words=2)) is True
    assert sf(SimpleNamespace(video=1, n_words=2)) is False


def test_sfs_run_in_pandas_and_dask_appliers(frame, short_on_five):
    sfs = to_sfs([short_on_five], name_style="identifier")
    S = PandasSFApplier(sfs).apply(frame, progress_bar=False)
    ddf = dd.from_pandas(frame, npartitions=2)
    S_dask = DaskSFApplier(sfs).apply(ddf, scheduler="synchronous", progress_bar=False)
    assert S["video_eq_5__n_words_lt_5"].tolist() == [True, False, False, False]
    np.testing.assert_array_equal(S_dask, S)


def test_masks_pickle(short_on_five):
    mask = pickle.loads(pickle.dumps(short_on_five.mask))
    assert mask(pd.DataFrame({"video": [5], "n_words": [1]})).tolist() == [True]


def test_repeated_names_are_made_unique(short_on_five):
    sfs = to_sfs([short_on_five, short_on_five], name_style="identifier")
    assert [sf.name for sf in sfs] == [
        "video_eq_5__n_words_lt_5",
        "video_eq_5__n_words_lt_5_2",
    ]


def test_bad_name_style_is_refused(short_on_five):
    with pytest.raises(ValueError, match="'readable' or 'identifier'; got 'short'"):
        to_sfs([short_on_five], name_style="short")


def test_empty_conjunction_is_refused():
    with pytest.raises(ValueError, match="at least one predicate"):
        ConjunctionMask([])


def test_nearest_centroid_from_column_or_function():
    centroids = np.array([[0.0, 0.0], [10.0, 0.0]])
    frame = pd.DataFrame({"emb": [np.array([9.0, 1.0]), np.array([1.0, 1.0])]})
    by_column = NearestCentroidMask(centroids, 1, "emb")
    by_function = NearestCentroidMask(
        centroids, 1, lambda df: np.stack(df.emb.to_numpy())
    )
    assert by_column(frame).tolist() == by_function(frame).tolist() == [True, False]
    assert by_column(frame.iloc[:0]).tolist() == []


def test_nearest_centroid_checks_dimensions():
    mask = NearestCentroidMask(np.zeros((2, 3)), 0, "emb")
    with pytest.raises(ValueError, match=r"shape \(1, 2\); expected \(1, 3\)"):
        mask(pd.DataFrame({"emb": [np.zeros(2)]}))
    with pytest.raises(KeyError, match="embedding column 'emb' is not in the frame"):
        mask(pd.DataFrame({"x": [1]}))


def test_nearest_centroid_refuses_non_finite_rows_naming_them():
    """A NaN row is at no distance from anything: it used to land in cluster 0."""
    mask = NearestCentroidMask(np.array([[0.0, 0.0], [5.0, 5.0]]), 0, "emb")
    vectors = [np.array([1.0, 0.0])] * 8 + [np.array([np.nan, 0.0])] * 7
    frame = pd.DataFrame({"emb": vectors}, index=range(100, 115))
    with pytest.raises(
        ValueError,
        match=r"7 of 15 rows hold NaN or infinity, at positions \[8, 9, 10, 11, 12, "
        r"\.\.\.\] \(index labels \[108, 109, 110, 111, 112, \.\.\.\]\)",
    ):
        mask(frame)
    by_function = NearestCentroidMask(
        np.zeros((1, 2)), 0, lambda df: np.stack(df.emb.to_list())
    )
    with pytest.raises(ValueError, match="7 of 15 rows"):
        by_function(frame)


def test_non_finite_rows_are_faults_of_a_fault_tolerant_applier():
    sf = make_slice(
        "c0", "c0", NearestCentroidMask(np.array([[0.0], [5.0]]), 0, "emb")
    ).to_sf()
    frame = pd.DataFrame(
        {"emb": [np.array([0.5]), np.array([np.nan]), np.array([6.0])]}
    )
    S, meta = PandasSFApplier([sf]).apply(
        frame, progress_bar=False, fault_tolerant=True, return_meta=True
    )
    assert S["c0"].tolist() == [True, False, False]
    assert meta.faults == {"c0": 1}
