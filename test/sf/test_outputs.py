"""``slicing.sf.outputs``: a slice indicator is strictly boolean, checked in bulk."""

import numpy as np
import pandas as pd
import pytest

from slicing.errors import SFOutputError
from slicing.sf.core import SlicingFunction
from slicing.sf.outputs import (
    describe_value,
    frame_output_to_array,
    is_slice_indicator,
    point_output_to_bool,
    point_outputs_to_array,
)


def describe_row(row: int) -> str:
    return f"row {row}"


def test_describe_value_shows_type_and_shortens():
    assert describe_value("yes") == "'yes' (str)"
    assert describe_value(np.int64(-1)) == "-1 (numpy.int64)"
    assert describe_value("x" * 200).endswith("... (str)")


@pytest.mark.parametrize("value", [True, False, 0, 1, np.bool_(False), np.uint8(1)])
def test_indicators(value):
    assert is_slice_indicator(value)
    assert point_output_to_bool("sf", value) is bool(value)


def test_point_output_names_the_sf_the_point_and_the_value():
    with pytest.raises(
        SFOutputError,
        match=r"SF 'sf' returned -1 \(int\) for row 7; expected a bool",
    ):
        point_output_to_bool("sf", -1, "row 7")


@pytest.mark.parametrize(
    ("outputs", "expected"),
    [
        ([True, False], [True, False]),
        ([1, 0, 1], [True, False, True]),
        ([np.bool_(True), 0, False], [True, False, False]),
        ([], []),
    ],
)
def test_point_outputs_in_bulk(outputs, expected):
    array = point_outputs_to_array("sf", outputs, describe_row)
    assert array.dtype == np.bool_ and array.tolist() == expected


@pytest.mark.parametrize(
    ("outputs", "bad"),
    [
        ([1, 0, 2], "2 \\(int\\) for row 2"),
        ([True, None], "None \\(NoneType\\) for row 1"),
        ([0, 1.0], "1.0 \\(float\\) for row 1"),
        ([True, "no"], "'no' \\(str\\) for row 1"),
    ],
)
def test_point_outputs_in_bulk_name_the_first_bad_row(outputs, bad):
    with pytest.raises(SFOutputError, match=f"SF 'sf' returned {bad}"):
        point_outputs_to_array("sf", outputs, describe_row)


def test_frame_output_refuses_frames_and_scalars():
    frame = pd.DataFrame({"v": [1, 2]})
    with pytest.raises(SFOutputError, match="'sf' returned a DataFrame"):
        frame_output_to_array("sf", frame, frame, describe_row)
    with pytest.raises(SFOutputError, match=r"'sf' returned True \(bool\)"):
        frame_output_to_array("sf", True, frame, describe_row)
    assert frame_output_to_array("sf", [True, 0], frame, describe_row).tolist() == [
        True,
        False,
    ]


@pytest.mark.parametrize("value", [True, False, 0, 1, np.bool_(True), np.int64(0)])
def test_boolean_outputs_are_accepted(value):
    sf = SlicingFunction("sf", lambda x: value)
    assert sf(None) is bool(value)


@pytest.mark.parametrize("value", [-1, 2, None, "yes", float("nan"), 1.0, pd.NA])
def test_non_boolean_outputs_raise_naming_the_sf_and_value(value):
    sf = SlicingFunction("my_sf", lambda x: value)
    with pytest.raises(SFOutputError, match=r"SF 'my_sf' returned .*expected a bool"):
        sf(None)


def test_vectorized_sf_output_checks():
    frame = pd.DataFrame({"v": [1, 2, 3]}, index=[7, 8, 9])
    wrong_length = SlicingFunction("wl", lambda df: df.v.iloc[:2] > 1, vectorized=True)
    with pytest.raises(SFOutputError, match="length 2 for a frame of 3 rows"):
        wrong_length.apply_to_frame(frame)
    reordered = SlicingFunction(
        "ro", lambda df: (df.v > 1).sort_values(ascending=False), vectorized=True
    )
    with pytest.raises(SFOutputError, match="index differs"):
        reordered.apply_to_frame(frame)
    with_na = SlicingFunction(
        "na",
        lambda df: pd.Series([True, pd.NA, False], dtype="boolean", index=df.index),
        vectorized=True,
    )
    with pytest.raises(
        SFOutputError, match=r"'na' returned <NA> .* row 1 \(index label 8\)"
    ):
        with_na.apply_to_frame(frame)
    ints = SlicingFunction(
        "ints", lambda df: (df.v > 1).astype(int).to_numpy(), vectorized=True
    )
    np.testing.assert_array_equal(ints.apply_to_frame(frame), [False, True, True])
    minus = SlicingFunction("minus", lambda df: np.array([0, -1, 1]), vectorized=True)
    with pytest.raises(
        SFOutputError, match=r"'minus' returned -1 .* row 1 \(index label 8\)"
    ):
        minus.apply_to_frame(frame)
    floats = SlicingFunction("floats", lambda df: df.v / 3, vectorized=True)
    with pytest.raises(SFOutputError, match="'floats' returned"):
        floats.apply_to_frame(frame)
