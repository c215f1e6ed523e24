import numpy as np
import pandas as pd
import pytest

from slicing.matrix import make_slice_matrix
from slicing.monitor.analysis import SFAnalysis, slice_sizes_by_split


@pytest.fixture
def S():
    rng = np.random.default_rng(0)
    indicators = rng.random((300, 4)) < [0.3, 0.3, 0.05, 0.0]
    indicators[:, 1] |= indicators[:, 0] & (rng.random(300) < 0.5)  # overlap a/b
    return make_slice_matrix(indicators, ["a", "b", "c", "never"])


def test_overlap_counts_and_jaccard_equal_set_arithmetic(S):
    analysis = SFAnalysis(S)
    counts = analysis.overlap_counts()
    jaccard = analysis.jaccard()
    names = ["a", "b", "c", "never"]
    for first in names:
        for second in names:
            rows_first = set(np.flatnonzero(S[first]))
            rows_second = set(np.flatnonzero(S[second]))
            assert counts.at[first, second] == len(rows_first & rows_second)
            union = rows_first | rows_second
            if union:
                assert jaccard.at[first, second] == pytest.approx(
                    len(rows_first & rows_second) / len(union)
                )
            else:
                assert np.isnan(jaccard.at[first, second])


def test_overlaps_lists_sharing_pairs_most_overlapping_first(S):
    pairs = SFAnalysis(S).overlaps()
    assert list(pairs.columns) == ["slice_a", "slice_b", "n_both", "jaccard"]
    assert (pairs["n_both"] > 0).all()
    assert pairs["jaccard"].is_monotonic_decreasing
    assert tuple(pairs.iloc[0][["slice_a", "slice_b"]]) == ("a", "b")
    assert "never" not in set(pairs["slice_a"]) | set(pairs["slice_b"])


def test_summary_coverage_overlaps_and_uncovered(S):
    analysis = SFAnalysis(S)
    summary = analysis.sf_summary()
    assert summary["n"].tolist() == [int(S[name].sum()) for name in S.dtype.names]
    assert summary.at["a", "coverage"] == pytest.approx(S["a"].mean())
    others = S["b"] | S["c"]
    assert summary.at["a", "overlaps"] == pytest.approx(
        (S["a"] & others).sum() / S["a"].sum()
    )
    assert summary.at["a", "most_overlapping"] == "b"
    assert summary.at["a", "max_jaccard"] == pytest.approx(
        SFAnalysis(S).jaccard().at["a", "b"]
    )
    assert np.isnan(summary.at["never", "overlaps"])
    assert pd.isna(summary.at["never", "most_overlapping"])
    assert summary.at["never", "max_jaccard"] == 0.0
    in_none = ~(S["a"] | S["b"] | S["c"] | S["never"])
    assert analysis.uncovered_count() == in_none.sum()
    np.testing.assert_array_equal(analysis.uncovered_rows(), np.flatnonzero(in_none))


def test_accepts_a_dataframe_of_slice_columns():
    frame = pd.DataFrame({"x": [True, False], "y": [True, True]})
    assert SFAnalysis(frame).overlap_counts().to_numpy().tolist() == [[1, 1], [1, 2]]


def test_split_sizes_warn_about_slices_too_small_to_evaluate():
    train = make_slice_matrix(np.arange(100)[:, None] < [60, 5], ["big", "rare"])
    test = make_slice_matrix(np.arange(40)[:, None] < [35, 1], ["big", "rare"])
    with pytest.warns(
        UserWarning, match=r"rare in train \(5\), rare in test \(1\)"
    ) as caught:
        sizes = slice_sizes_by_split({"train": train, "test": test}, min_size=30)
    assert "big" not in str(caught[0].message)
    assert sizes.to_dict() == {
        "train": {"big": 60, "rare": 5, "rows": 100},
        "test": {"big": 35, "rare": 1, "rows": 40},
    }
    other = make_slice_matrix(np.ones((3, 1), bool), ["big"])
    with pytest.raises(ValueError, match=r"split 'valid' has slices \['big'\]"):
        slice_sizes_by_split({"train": train, "valid": other})


def test_indicator_agreement_from_an_array_or_a_frame():
    S = make_slice_matrix(
        np.array([[1, 0], [1, 1], [0, 1], [0, 0]], dtype=bool), ["a", "b"]
    )
    probabilities = np.array([[0.9, 0.1], [0.4, 0.8], [0.2, 0.7], [0.6, 0.3]])
    analysis = SFAnalysis(S)
    table = analysis.indicator_agreement(probabilities)
    assert table.at["a", "agreement"] == pytest.approx(0.5)
    assert table.at["b", "agreement"] == pytest.approx(1.0)
    assert table.at["a", "precision"] == pytest.approx(0.5)
    assert table.at["a", "recall"] == pytest.approx(0.5)
    assert table.at["a", "mean_prob_in"] == pytest.approx(0.65)
    assert table.at["a", "mean_prob_out"] == pytest.approx(0.4)
    # What SliceAwareClassifier.predict_slice_indicators returns: one column per
    # slice, here with a base column and another order.
    frame = pd.DataFrame(probabilities, columns=["a", "b"]).assign(base=1.0)
    pd.testing.assert_frame_equal(
        analysis.indicator_agreement(frame[["base", "b", "a"]]), table
    )


def test_indicator_agreement_of_hard_predictions_and_a_threshold():
    S = make_slice_matrix(np.array([[True], [True], [False], [False]]), ["a"])
    predicted = np.array([[True], [False], [False], [True]])
    table = SFAnalysis(S).indicator_agreement(predicted)
    assert table.loc["a"].tolist() == pytest.approx([0.5, 0.5, 0.5, 0.5, 0.5])
    strict = SFAnalysis(S).indicator_agreement(
        np.array([[0.7], [0.7], [0.2], [0.2]]), threshold=0.8
    )
    assert strict.at["a", "agreement"] == 0.5 and np.isnan(strict.at["a", "precision"])


def test_indicator_agreement_errors_name_the_problem():
    analysis = SFAnalysis(make_slice_matrix(np.ones((2, 1), bool), ["a"]))
    with pytest.raises(ValueError, match=r"shape \(3, 1\); expected \(2, 1\)"):
        analysis.indicator_agreement(np.ones((3, 1)))
    with pytest.raises(ValueError, match=r"lack slices \['a'\]; got columns \['b'\]"):
        analysis.indicator_agreement(pd.DataFrame({"b": np.ones(2)}))
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        analysis.indicator_agreement(np.array([[1.5], [0.2]]))
    with pytest.raises(ValueError, match="numeric or bool; got dtype <U3"):
        analysis.indicator_agreement(np.array([["yes"], ["no"]]))
    with pytest.raises(TypeError, match=r"run the model first\); got dict"):
        analysis.indicator_agreement({"a": np.ones(2)})
    with pytest.raises(TypeError, match="positional argument"):
        analysis.indicator_agreement(np.ones((2, 1)), 0.3)
