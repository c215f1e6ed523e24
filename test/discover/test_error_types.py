import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from slicing.discover.error_types import (
    ERROR_TYPES,
    describe_errors,
    error_indicator,
    resolve_target_class,
)
from slicing.discover.search import find_slices


def test_binary_error_types():
    golds = np.array([0, 1, 1, 0, 1, 0])
    preds = np.array([1, 1, 0, 0, 0, 1])
    assert error_indicator(golds, preds).tolist() == [1, 0, 1, 0, 1, 1]
    fp = error_indicator(golds, preds, error_type="false_positive")
    fn = error_indicator(golds, preds, error_type="false_negative")
    assert fp.tolist() == [1, 0, 0, 0, 0, 1]
    assert fn.tolist() == [0, 0, 1, 0, 1, 0]
    assert fp.dtype == np.float64
    # The negative class's false positives are the positive class's false negatives.
    assert (
        error_indicator(
            golds, preds, error_type="false_positive", target_class=0
        ).tolist()
        == fn.tolist()
    )


def test_probabilities_are_thresholded_or_argmaxed():
    golds = [0, 1, 1]
    assert error_indicator(golds, [0.7, 0.9, 0.2]).tolist() == [1, 0, 1]
    probabilities = np.array([[0.2, 0.8], [0.1, 0.9], [0.6, 0.4]])
    assert error_indicator(golds, probabilities).tolist() == [1, 0, 1]


def test_multiclass_needs_a_target_class():
    golds = [0, 1, 2, 2]
    preds = [2, 1, 1, 2]
    assert error_indicator(golds, preds).tolist() == [1, 0, 1, 0]
    assert error_indicator(
        golds, preds, error_type="false_positive", target_class=2
    ).tolist() == [1, 0, 0, 0]
    assert error_indicator(
        golds, preds, error_type="false_negative", target_class=2
    ).tolist() == [0, 0, 1, 0]
    with pytest.raises(ValueError, match=r"target_class.*classes seen are \[0, 1, 2\]"):
        error_indicator(golds, preds, error_type="false_negative")


@pytest.mark.parametrize(
    "golds, preds, kwargs, message",
    [
        ([0, 1], [0, 1, 1], {}, "2 golds and 3 preds"),
        ([0, np.nan], [0, 1], {}, "golds has a missing value at row 1"),
        ([0, 1], [0.2, np.nan], {}, "preds has a missing value at row 1"),
        ([0, 1], [0, 1], {"error_type": "fp"}, "error_type must be one of"),
        ([0, 1], [-0.5, 0.2], {}, r"in \[0, 1\]"),
        ([[0, 1]], [0, 1], {}, "one label per row"),
    ],
)
def test_bad_inputs(golds, preds, kwargs, message):
    with pytest.raises(ValueError, match=message):
        error_indicator(golds, preds, **kwargs)


def test_helpers():
    assert ERROR_TYPES == ("any", "false_positive", "false_negative")
    assert resolve_target_class([0, 1], None, "false_negative") == 1
    assert resolve_target_class(["a", "b"], "b", "false_negative") == "b"
    assert resolve_target_class([0, 5], None, "any") is None
    assert describe_errors("false_positive", 1) == "false positives of class 1"


def fp_fn_data(seed: int = 0, n_rows: int = 6000):
    """A planted false-positive slice (region a) and false-negative slice (region b)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {"region": rng.choice(list("abcdef"), n_rows), "x": rng.random(n_rows).round(3)}
    )
    golds = (rng.random(n_rows) < 0.4).astype(int)
    flip = rng.random(n_rows) < 0.05
    flip |= (frame.region == "a").to_numpy() & (golds == 0) & (rng.random(n_rows) < 0.7)
    flip |= (frame.region == "b").to_numpy() & (golds == 1) & (rng.random(n_rows) < 0.7)
    return frame, golds, np.where(flip, 1 - golds, golds)


@pytest.mark.parametrize(
    "error_type, region", [("false_positive", "a"), ("false_negative", "b")]
)
def test_find_slices_separates_false_positives_and_negatives(error_type, region):
    frame, golds, preds = fp_fn_data()
    result = find_slices(
        frame,
        golds=golds,
        preds=preds,
        error_type=error_type,
        top_k=3,
        min_support=50,
        progress_bar=False,
    )
    # (At alpha 0.98 a purer noisy sub-slice of the region may come first.)
    assert result[0].name.startswith(f"region={region}")
    other = "b" if region == "a" else "a"
    assert all(f"region={other}" not in item.name for item in result)
    assert result.error_type == error_type and result.target_class == 1
    assert result[0].description == describe_errors(error_type, 1)
    assert result.table().attrs["error_type"] == error_type
    assert error_type in repr(result)


def test_golds_and_preds_as_columns_are_not_features():
    frame, golds, preds = fp_fn_data(1)
    frame["gold"], frame["pred"] = golds, preds
    result = find_slices(
        frame,
        golds="gold",
        preds="pred",
        error_type="false_negative",
        min_support=50,
        progress_bar=False,
    )
    assert result[0].name == "region=b"
    assert all("gold" not in s.name and "pred" not in s.name for s in result)
    ddf = dd.from_pandas(frame, npartitions=3)
    on_dask = find_slices(
        ddf,
        golds="gold",
        preds="pred",
        error_type="false_negative",
        min_support=50,
        progress_bar=False,
        scheduler="synchronous",
    )
    assert [s.name for s in on_dask] == [s.name for s in result]
    assert on_dask.target_class == 1


def test_per_class_false_negatives_on_multiclass():
    rng = np.random.default_rng(2)
    n_rows = 6000
    frame = pd.DataFrame({"region": rng.choice(list("abcd"), n_rows)})
    golds = rng.integers(0, 3, n_rows)
    preds = np.where(rng.random(n_rows) < 0.05, (golds + 1) % 3, golds)
    missed = (
        (frame.region == "c").to_numpy() & (golds == 2) & (rng.random(n_rows) < 0.8)
    )
    preds = np.where(missed, 0, preds)
    result = find_slices(
        frame,
        golds=golds,
        preds=preds,
        error_type="false_negative",
        target_class=2,
        min_support=50,
        progress_bar=False,
    )
    assert result[0].name == "region=c"
    assert result[0].description == "false negatives of class 2"
    with pytest.raises(ValueError, match="target_class"):
        find_slices(
            frame,
            golds=golds,
            preds=preds,
            error_type="false_negative",
            progress_bar=False,
        )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"errors": np.zeros(10), "golds": np.zeros(10), "preds": np.zeros(10)},
            "both",
        ),
        ({}, "neither"),
        ({"golds": np.zeros(10)}, "both golds and preds"),
        ({"errors": np.zeros(10), "error_type": "false_positive"}, "need golds"),
        ({"golds": np.zeros(10), "preds": np.zeros(9)}, "10 golds and 9 preds"),
        ({"golds": np.zeros(10), "preds": np.zeros(10), "error_type": "x"}, "one of"),
    ],
)
def test_find_slices_refuses_ambiguous_errors(kwargs, message):
    frame = pd.DataFrame({"a": np.arange(10) % 2})
    with pytest.raises(ValueError, match=message):
        find_slices(frame, progress_bar=False, **kwargs)
