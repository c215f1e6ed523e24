import numpy as np
import pandas as pd
import pytest
from snorkel.labeling import LFAnalysis, PandasLFApplier, labeling_function

from slicing import PandasSFApplier, sf_from_lf
from slicing.labeling.analysis import LFSliceAnalysis
from slicing.labeling.model import SliceAwareLabelModel
from slicing.labeling.synthetic import make_sliced_votes
from slicing.matrix import make_slice_matrix


@pytest.fixture(scope="module")
def data():
    return make_sliced_votes(5_000, 6, 3, seed=2)


def test_the_overall_rows_match_snorkels_lf_analysis(data):
    summary = LFSliceAnalysis(data.L, data.S).lf_slice_summary(Y=data.Y)
    overall = summary.xs("overall", level="slice")
    reference = LFAnalysis(data.L)
    np.testing.assert_allclose(overall["coverage"], reference.lf_coverages())
    np.testing.assert_allclose(overall["overlaps"], reference.lf_overlaps())
    np.testing.assert_allclose(overall["conflicts"], reference.lf_conflicts())
    np.testing.assert_allclose(
        overall["accuracy"], reference.lf_empirical_accuracies(data.Y)
    )


def test_slice_rows_match_snorkels_analysis_on_the_slice_rows(data):
    summary = LFSliceAnalysis(data.L, data.S).lf_slice_summary(Y=data.Y)
    rows = data.S["slice_1"]
    inside = summary.xs("slice_1", level="slice")
    reference = LFAnalysis(data.L[rows])
    assert (inside["rows"] == rows.sum()).all()
    np.testing.assert_allclose(inside["coverage"], reference.lf_coverages())
    np.testing.assert_allclose(inside["conflicts"], reference.lf_conflicts())
    np.testing.assert_allclose(
        inside["accuracy"], reference.lf_empirical_accuracies(data.Y[rows])
    )
    assert (inside["accuracy_low"] <= inside["accuracy"]).all()
    assert (inside["accuracy"] <= inside["accuracy_high"]).all()


def test_estimates_without_golds_are_close_to_the_truth(data):
    model = SliceAwareLabelModel().fit(data.L, data.S, progress_bar=False)
    summary = LFSliceAnalysis(data.L, data.S).lf_slice_summary(label_model=model)
    truth = (
        data.lf_slice_accuracy().ravel()
    )  # LF-major, overall first: the table's order
    assert (
        np.abs(summary["model_accuracy"].to_numpy() - truth).mean() < 0.04
    )  # 5,000 rows
    assert np.nanmean(np.abs(summary["triplet_accuracy"].to_numpy() - truth)) < 0.04
    assert "accuracy" not in summary


def test_unknown_golds_are_left_out_of_the_accuracy(data):
    golds = data.Y.copy()
    golds[::2] = -1
    summary = LFSliceAnalysis(data.L, data.S).lf_slice_summary(Y=golds)
    known = golds != -1
    expected = LFAnalysis(data.L[known]).lf_empirical_accuracies(golds[known])
    np.testing.assert_allclose(
        summary.xs("overall", level="slice")["accuracy"], expected
    )


def test_names_pivot_and_errors(data):
    analysis = LFSliceAnalysis(data.L, data.S, lfs=list("abcdef"))
    matrix = analysis.lf_slice_matrix("coverage")
    assert list(matrix.index) == list("abcdef")
    assert list(matrix.columns) == ["overall", "slice_0", "slice_1", "slice_2"]
    with pytest.raises(ValueError, match="value must be a column"):
        analysis.lf_slice_matrix("precision")
    with pytest.raises(ValueError, match="got 2 LFs but L has 6"):
        LFSliceAnalysis(data.L, data.S, lfs=["a", "b"])
    with pytest.raises(ValueError, match="L has 5000 rows but S has 10"):
        LFSliceAnalysis(data.L, data.S[:10])


def test_a_slice_without_votes_gets_zero_coverage_and_nan_accuracy():
    L = np.array([[1, 0], [1, 1], [-1, -1]])
    S = make_slice_matrix(np.array([[False], [False], [True]]), ["empty"])
    summary = LFSliceAnalysis(L, S).lf_slice_summary(Y=[1, 1, 0])
    empty = summary.xs("empty", level="slice")
    assert (empty["coverage"] == 0).all() and empty["accuracy"].isna().all()


# --- sf_from_lf round trip: SFs made from LFs serve as the slices ---------------------


@labeling_function()
def says_spam(x):
    return 1 if "buy" in x.text else -1


@labeling_function()
def says_ham(x):
    return 0 if "song" in x.text else -1


@labeling_function()
def short_ham(x):
    return 0 if len(x.text) < 12 else -1


def test_sfs_made_from_lfs_serve_as_slices():
    rng = np.random.default_rng(0)
    words = np.array(["buy", "song", "now", "great", "cheap", "love it"])
    texts = [" ".join(rng.choice(words, rng.integers(1, 4))) for _ in range(600)]
    df = pd.DataFrame({"text": texts})
    lfs = [says_spam, says_ham, short_ham]
    L = PandasLFApplier(lfs).apply(df, progress_bar=False)
    sfs = [sf_from_lf(says_spam), sf_from_lf(says_ham, label=0, name="ham_votes")]
    S = PandasSFApplier(sfs).apply(df, progress_bar=False)
    np.testing.assert_array_equal(S["says_spam"], L[:, 0] != -1)
    summary = LFSliceAnalysis(L, S, lfs=lfs).lf_slice_summary()
    assert summary.loc[("says_spam", "says_spam"), "coverage"] == 1.0
    assert summary.loc[("says_ham", "ham_votes"), "coverage"] == 1.0
    model = SliceAwareLabelModel().fit(L, S, progress_bar=False)
    # An LF voting on all of its own slice keeps its global coverage there.
    from slicing.labeling.likelihood import RATE

    assert not model.rates_.free[RATE, 0, :, 1:].any()
    probs = model.predict_proba(L, S)
    assert probs.shape == (600, 2) and np.isfinite(probs).all()
    alone = (L[:, 0] == 1) & (L[:, 1:] == -1).all(axis=1)
    assert alone.any() and (model.predict(L, S)[alone] == 1).all()
