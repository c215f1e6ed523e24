from collections import namedtuple
from types import SimpleNamespace

import numpy as np
import pytest

from slicing.apply.core import SFApplier
from slicing.errors import SFApplicationError, SFOutputError
from slicing.sf.core import slicing_function


@slicing_function()
def even(x):
    return x.num % 2 == 0


def test_list_applier_returns_bool_slice_matrix_in_input_order(is_big):
    points = [SimpleNamespace(num=n) for n in (100, 1, 44, 7)]
    S = SFApplier([is_big, even]).apply(points, progress_bar=False)
    assert S.dtype.names == ("is_big", "even")
    assert S["is_big"].tolist() == [True, False, True, False]
    assert S["even"].tolist() == [True, False, True, False]
    assert S.dtype.itemsize == 2


def test_list_applier_accepts_namedtuples_dicts_generators_and_vectorized_sfs(is_big):
    @slicing_function(vectorized=True)
    def big_vectorized(df):
        return df.num > 42

    Point = namedtuple("Point", ["num"])
    S = SFApplier([is_big, big_vectorized]).apply(
        (Point(n) for n in (50, 3)), progress_bar=False
    )
    assert S["is_big"].tolist() == S["big_vectorized"].tolist() == [True, False]
    S = SFApplier([big_vectorized]).apply([{"num": 43}], progress_bar=False)
    assert S["big_vectorized"].tolist() == [True]


def test_fault_tolerant_counts_faults_per_sf(fragile, is_big):
    points = [SimpleNamespace(score=s, num=1) for s in (0.5, 0.9, 0.5, 0.1)]
    S, meta = SFApplier([fragile, is_big]).apply(
        points, progress_bar=False, fault_tolerant=True, return_meta=True
    )
    assert S["fragile"].tolist() == [False, True, False, False]
    assert meta.faults == {"fragile": 2, "is_big": 0}


def test_exception_names_sf_and_row_and_chains_the_cause(fragile):
    points = [SimpleNamespace(score=s) for s in (0.9, 0.5)]
    with pytest.raises(
        SFApplicationError,
        match=r"SF 'fragile' raised ZeroDivisionError on data point 1",
    ) as info:
        SFApplier([fragile]).apply(points, progress_bar=False)
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_invalid_output_names_sf_row_and_value_even_when_fault_tolerant():
    @slicing_function()
    def label_like(x):
        return 1 if x.num > 0 else -1

    points = [SimpleNamespace(num=n) for n in (3, 4, -2)]
    with pytest.raises(
        SFOutputError, match=r"'label_like' returned -1 \(int\) for data point 2"
    ):
        SFApplier([label_like]).apply(points, progress_bar=False, fault_tolerant=True)


def test_empty_sequence_is_refused(is_big):
    with pytest.raises(ValueError, match="empty"):
        SFApplier([is_big]).apply([], progress_bar=False)


def test_progress_bar_is_shown_and_can_be_turned_off(capsys, is_big):
    points = [SimpleNamespace(num=n) for n in range(3)]
    SFApplier([is_big]).apply(points, progress_bar=True)
    assert "3/3" in capsys.readouterr().err
    SFApplier([is_big]).apply(points, progress_bar=False)
    assert capsys.readouterr().err == ""


def test_rows_span_several_chunks(monkeypatch):
    import slicing.apply.core as core

    monkeypatch.setattr(core, "CHUNK_ROWS", 3)
    points = [SimpleNamespace(num=n) for n in range(10)]
    S = SFApplier([even]).apply(points, progress_bar=False)
    np.testing.assert_array_equal(S["even"], np.arange(10) % 2 == 0)


def test_snorkel_positional_order_of_apply(is_big):
    """snorkel's ``LFApplier.apply(data_points, progress_bar, fault_tolerant, return_meta)``."""
    points = [SimpleNamespace(num=n) for n in (50, None)]
    S, meta = SFApplier(lfs=[is_big]).apply(points, False, True, True)
    assert S["is_big"].tolist() == [True, False]
    assert meta.faults == {"is_big": 1}
