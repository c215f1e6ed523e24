from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from snorkel.labeling import LabelingFunction
from snorkel.preprocess import preprocessor

from slicing.errors import SFOutputError
from slicing.sf.core import SlicingFunction, slicing_function


def test_sf_is_a_snorkel_labeling_function_with_bool_output():
    @slicing_function()
    def big(x):
        return x.num > 42

    assert isinstance(big, LabelingFunction)
    assert big.name == "big"
    assert big(SimpleNamespace(num=50)) is True
    assert big(SimpleNamespace(num=1)) is False


def test_decorator_name_resources_and_missing_parentheses():
    @slicing_function(name="has_word", resources=dict(word="plz"))
    def f(x, word):
        return word in x.text

    assert f.name == "has_word"
    assert f(SimpleNamespace(text="plz sub")) is True
    with pytest.raises(ValueError, match="missing parentheses"):

        @slicing_function
        def g(x):
            return True


def test_factory_gives_independent_sfs():
    def make_threshold_sf(threshold):
        @slicing_function(name=f"gt_{threshold}")
        def gt(x):
            return x.value > threshold

        return gt

    sfs = [make_threshold_sf(t) for t in (1, 5, 10)]
    point = SimpleNamespace(value=6)
    assert [sf.name for sf in sfs] == ["gt_1", "gt_5", "gt_10"]
    assert [sf(point) for sf in sfs] == [True, True, False]
    # Independent after pickling too (as process workers see them).
    import cloudpickle

    restored = cloudpickle.loads(cloudpickle.dumps(sfs))
    assert [sf(point) for sf in restored] == [True, True, False]


@pytest.mark.parametrize("value", [True, False, 0, 1, np.bool_(True), np.int64(0)])
def test_boolean_outputs_are_accepted(value):
    sf = SlicingFunction("sf", lambda x: value)
    assert sf(None) is bool(value)


@pytest.mark.parametrize("value", [-1, 2, None, "yes", float("nan"), 1.0, pd.NA])
def test_non_boolean_outputs_raise_naming_the_sf_and_value(value):
    sf = SlicingFunction("my_sf", lambda x: value)
    with pytest.raises(SFOutputError, match=r"SF 'my_sf' returned .*expected a bool"):
        sf(None)


def test_snorkel_preprocessor_with_memoization_runs_before_the_sf():
    calls = []

    @preprocessor(memoize=True)
    def add_lower(x):
        calls.append(x.text)
        x.lower = x.text.lower()
        return x

    @slicing_function(pre=[add_lower])
    def shouty(x):
        return x.text != x.lower

    point = SimpleNamespace(text="PLEASE")
    assert shouty(point) is True
    assert shouty(point) is True
    assert calls == ["PLEASE"]  # memoized: the preprocessor ran once
    assert not hasattr(point, "lower")  # the caller's point is untouched


def test_vectorized_sf_on_frame_and_on_a_single_point():
    @slicing_function(vectorized=True, resources=dict(limit=3))
    def short(df, limit):
        return df.text.str.split().str.len() < limit

    frame = pd.DataFrame({"text": ["a b", "a b c d"]}, index=[5, 6])
    np.testing.assert_array_equal(short.apply_to_frame(frame), [True, False])
    assert short(SimpleNamespace(text="a")) is True
    assert short(pd.Series({"text": "a b c d"})) is False
    assert short({"text": "x"}) is True


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


def test_vectorized_sf_refuses_preprocessors_and_non_vectorized_frame_calls():
    @preprocessor()
    def noop(x):
        return x

    with pytest.raises(ValueError, match="cannot take per-point preprocessors"):
        SlicingFunction("v", lambda df: df.a > 0, pre=[noop], vectorized=True)
    with pytest.raises(TypeError, match="not vectorized"):
        SlicingFunction("p", lambda x: True).apply_to_frame(pd.DataFrame({"a": [1]}))


def test_bad_names_and_functions_are_refused():
    with pytest.raises(ValueError, match="non-empty string"):
        SlicingFunction("", lambda x: True)
    with pytest.raises(TypeError, match="must be callable"):
        SlicingFunction("s", "not a function")


def test_module_level_sf_round_trips_through_cloudpickle():
    # What Dask's process and distributed schedulers use to ship SFs to workers.
    import cloudpickle

    restored = cloudpickle.loads(cloudpickle.dumps(module_level_sf))
    assert restored(SimpleNamespace(a=2)) is True


@slicing_function()
def module_level_sf(x):
    return x.a > 1
