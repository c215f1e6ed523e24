from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from snorkel.labeling import LabelingFunction
from snorkel.preprocess import preprocessor

from slicing.sf.core import SlicingFunction, slicing_function


def test_sf_is_a_snorkel_labeling_function_with_bool_output(is_big):
    assert isinstance(is_big, LabelingFunction)
    assert is_big.name == "is_big"
    assert is_big(SimpleNamespace(num=50)) is True
    assert is_big(SimpleNamespace(num=1)) is False


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
