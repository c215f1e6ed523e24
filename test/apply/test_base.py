"""``slicing.apply.base``: SF checks, fault counting, slice blocks, the shared loop."""

import numpy as np
import pandas as pd
import pytest
from snorkel.labeling import labeling_function
from snorkel.preprocess import preprocessor

from slicing.apply.base import (
    BaseSFApplier,
    FaultCounter,
    SliceBlock,
    check_sfs,
)
from slicing.apply.core import SFApplier
from slicing.apply.dask import DaskSFApplier, PandasParallelSFApplier
from slicing.apply.pandas import PandasSFApplier
from slicing.errors import SFApplicationError
from slicing.sf.core import slicing_function

APPLIERS = [SFApplier, PandasSFApplier, DaskSFApplier, PandasParallelSFApplier]


def test_check_sfs_errors(is_big):
    with pytest.raises(ValueError, match="no slicing functions"):
        check_sfs([])
    with pytest.raises(ValueError, match=r"unique; repeated: \['is_big'\]"):
        check_sfs([is_big, is_big])
    with pytest.raises(TypeError, match="element 1 .* not a SlicingFunction; decorate"):
        check_sfs([is_big, lambda x: True])

    @labeling_function()
    def an_lf(x):
        return -1

    with pytest.raises(TypeError, match="LabelingFunction 'an_lf'.*sf_from_lf"):
        check_sfs([an_lf])
    with pytest.raises(TypeError, match="pass a list of SFs"):
        check_sfs(is_big)


@pytest.mark.parametrize("applier", APPLIERS)
@pytest.mark.parametrize("reserved", ["base", "overall"])
def test_reserved_names_are_refused_when_the_applier_is_built(applier, reserved):
    sf = slicing_function(name=reserved)(lambda x: True)
    with pytest.raises(ValueError, match=f"SF name '{reserved}' is reserved"):
        applier([sf])


@pytest.mark.parametrize("applier", APPLIERS)
def test_snorkel_keyword_lfs_is_accepted(applier, is_big):
    """snorkel's appliers take ``lfs=``: ``PandasSFApplier(lfs=[sf])`` must work."""
    assert applier(lfs=[is_big]).sf_names == ["is_big"]
    assert applier(sfs=[is_big]).sf_names == ["is_big"]
    name = applier.__name__
    with pytest.raises(TypeError, match=f"{name} got the SFs twice"):
        applier([is_big], lfs=[is_big])
    with pytest.raises(
        TypeError,
        match=rf"{name} is missing the SFs to apply: e.g. {name}\(\[short_comment\]\)",
    ):
        applier()


def test_fault_counter_raises_or_counts():
    faults = FaultCounter(["a", "b"], fault_tolerant=True)
    assert faults.handle(ValueError("no"), 1, "row 4") is False
    faults.handle(ValueError("no"), 1, "row 5")
    assert faults.by_name() == {"a": 0, "b": 2}
    strict = FaultCounter(["a"], fault_tolerant=False)
    cause = ZeroDivisionError("division by zero")
    with pytest.raises(
        SFApplicationError, match="SF 'a' raised ZeroDivisionError on row 4"
    ) as info:
        strict.handle(cause, 0, "row 4")
    assert info.value.__cause__ is cause


def test_slice_blocks_concatenate_in_order_and_add_faults():
    blocks = [
        SliceBlock(np.array([[True, False], [False, False]]), {"a": 1, "b": 0}),
        SliceBlock(np.zeros((0, 2), dtype=bool), {"a": 0, "b": 0}),
        SliceBlock(np.array([[True, True]]), {"a": 0, "b": 3}),
    ]
    both = SliceBlock.concat(blocks, ["a", "b"])
    assert both.indicators.tolist() == [[True, False], [False, False], [True, True]]
    assert both.fault_counts == {"a": 1, "b": 3}
    empty = SliceBlock.concat([], ["a", "b"])
    assert empty.indicators.shape == (0, 2) and empty.fault_counts == {"a": 0, "b": 0}


def test_finish_lists_every_sf_in_the_metadata(is_big):
    applier = BaseSFApplier([is_big])
    S, meta = applier._finish(SliceBlock(np.array([[True]]), {"is_big": 0}), True)
    assert S["is_big"].tolist() == [True] and meta.faults == {"is_big": 0}
    assert repr(applier) == "BaseSFApplier, SFs: ['is_big']"


def test_sfs_sharing_preprocessors_preprocess_each_row_once(comments):
    calls = []

    @preprocessor()
    def add_words(x):
        calls.append(x.text)
        x.words = x.text.split()
        return x

    @slicing_function(pre=[add_words])
    def one_word(x):
        return len(x.words) == 1

    @slicing_function(pre=[add_words])
    def many_words(x):
        return len(x.words) > 4

    S = PandasSFApplier([one_word, many_words]).apply(comments, progress_bar=False)
    assert len(calls) == len(comments)
    assert S["one_word"].tolist() == [False, False, False, False, True]
    assert S["many_words"].tolist() == [False, True, True, False, False]


def test_failing_preprocessor_is_a_fault_of_every_sf_using_it(comments):
    @preprocessor()
    def picky(x):
        if x.score == 0.5:
            raise ValueError("no")
        return x

    @slicing_function(pre=[picky])
    def a(x):
        return True

    @slicing_function(pre=[picky])
    def b(x):
        return True

    S, meta = PandasSFApplier([a, b]).apply(
        comments, progress_bar=False, fault_tolerant=True, return_meta=True
    )
    assert meta.faults == {"a": 1, "b": 1}
    assert S["a"].tolist() == S["b"].tolist() == [True, True, False, True, True]


def test_preprocessors_that_add_fields_work(comments):
    @preprocessor(memoize=True)
    def add_words(x):
        x.words = x.text.split()
        return x

    @slicing_function(pre=[add_words])
    def one_word(x):
        return len(x.words) == 1

    @slicing_function()
    def plain(x):
        return x.score < 0.2

    S = PandasSFApplier([one_word, plain]).apply(comments, progress_bar=False)
    assert S["one_word"].tolist() == [False, False, False, False, True]
    assert S["plain"].tolist() == [True, False, False, False, False]
    assert isinstance(comments, pd.DataFrame) and "words" not in comments
