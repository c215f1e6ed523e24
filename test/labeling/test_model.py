import warnings

import numpy as np
import pandas as pd
import pytest

from slicing.labeling.model import NoSliceVotesWarning, SliceAwareLabelModel
from slicing.labeling.synthetic import make_sliced_votes
from slicing.matrix import make_slice_matrix, slice_matrix_to_array


def fit(data, **options):
    return SliceAwareLabelModel(**options).fit(data.L, data.S, progress_bar=False)


def accuracy(model, data):
    return (model.predict(data.L, data.S, tie_break_policy="random") == data.Y).mean()


def with_extra_slice(S, column, name):
    matrix = np.column_stack([slice_matrix_to_array(S), column])
    return make_slice_matrix(matrix, [*S.dtype.names, name])


@pytest.fixture(scope="module")
def sliced():
    return make_sliced_votes(20_000, 8, 4, seed=3)


def test_recovers_per_slice_accuracy_and_beats_the_global_model(sliced):
    model = fit(sliced)
    estimate = model.lf_slice_accuracies(sliced.L, sliced.S).to_numpy()
    assert np.abs(estimate - sliced.lf_slice_accuracy()).mean() < 0.03
    glob = fit(sliced, prior_strength=float("inf"))
    assert accuracy(model, sliced) >= accuracy(glob, sliced) + 0.02
    assert model.converged_


def test_matches_the_global_model_when_accuracy_ignores_slices():
    data = make_sliced_votes(20_000, 8, 4, accuracy_in=0.7, accuracy_out=0.7, seed=4)
    gap = accuracy(fit(data), data) - accuracy(
        fit(data, prior_strength=float("inf")), data
    )
    assert abs(gap) < 0.005


def test_multiclass():
    data = make_sliced_votes(20_000, 8, 4, cardinality=3, seed=5)
    model = fit(data, cardinality=3)
    assert model.predict_proba(data.L, data.S).shape == (20_000, 3)
    assert accuracy(model, data) > accuracy(
        fit(data, cardinality=3, prior_strength=float("inf")), data
    )
    estimate = model.lf_slice_accuracies(data.L, data.S).to_numpy()
    assert np.abs(estimate - data.lf_slice_accuracy()).mean() < 0.03


def test_all_abstain_rows_get_the_class_prior():
    data = make_sliced_votes(2_000, 4, 2, seed=0)
    L = data.L.copy()
    L[:10] = -1
    for balance in (None, [0.3, 0.7]):
        model = SliceAwareLabelModel().fit(
            L, data.S, class_balance=balance, progress_bar=False
        )
        expected = [0.5, 0.5] if balance is None else balance
        np.testing.assert_allclose(
            model.predict_proba(L[:10], data.S[:10]), [expected] * 10
        )
    assert (model.predict(L[:10], data.S[:10]) == 1).all()
    uniform = SliceAwareLabelModel().fit(L, data.S, progress_bar=False)
    assert (
        uniform.predict(L[:10], data.S[:10]) == -1
    ).all()  # tie -> abstain, as snorkel
    assert set(uniform.predict(L[:10], data.S[:10], tie_break_policy="random")) <= {
        0,
        1,
    }


def test_y_dev_sets_the_class_balance():
    data = make_sliced_votes(2_000, 4, 2, seed=0)
    model = SliceAwareLabelModel().fit(
        data.L, data.S, Y_dev=[0, 0, 0, 1], progress_bar=False
    )
    np.testing.assert_allclose(model.class_prior_, [0.75, 0.25])
    with pytest.raises(ValueError, match="no example of class"):
        SliceAwareLabelModel().fit(data.L, data.S, Y_dev=[0, 0], progress_bar=False)
    with pytest.raises(ValueError, match="class_balance must be 2 positive shares"):
        SliceAwareLabelModel().fit(
            data.L, data.S, class_balance=[0.5], progress_bar=False
        )


def test_a_tiny_slice_changes_nothing():
    data = make_sliced_votes(5_000, 6, 2, seed=6)
    tiny = np.zeros(5_000, bool)
    tiny[:6] = True
    S_tiny = with_extra_slice(data.S, tiny, "tiny")
    with_tiny = SliceAwareLabelModel().fit(data.L, S_tiny, progress_bar=False)
    without = fit(data)
    np.testing.assert_allclose(
        with_tiny.predict_proba(data.L, S_tiny),
        without.predict_proba(data.L, data.S),
        atol=1e-6,
    )


def test_a_slice_without_votes_warns_and_uses_the_global_rates():
    data = make_sliced_votes(3_000, 4, 2, seed=7)
    L = data.L.copy()
    silent = np.zeros(3_000, bool)
    silent[:300] = True
    L[silent] = -1
    S_silent = with_extra_slice(data.S, silent, "silent")
    with pytest.warns(
        NoSliceVotesWarning, match="slice 'silent' \\(300 rows\\) has no LF votes"
    ):
        model = SliceAwareLabelModel().fit(L, S_silent, progress_bar=False)
    reference = SliceAwareLabelModel().fit(L, data.S, progress_bar=False)
    np.testing.assert_allclose(
        model.predict_proba(L, S_silent), reference.predict_proba(L, data.S), atol=1e-6
    )


def test_snorkel_style_calls_and_scores(sliced):
    model = SliceAwareLabelModel(cardinality=2, verbose=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(
            sliced.L,
            sliced.S,
            n_epochs=500,
            seed=123,
            log_freq=100,
            lr=0.01,
            progress_bar=False,
        )
    preds, probs = model.predict(sliced.L, sliced.S, return_probs=True)
    assert preds.shape == (20_000,) and probs.shape == (20_000, 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    scores = model.score(
        sliced.L,
        sliced.S,
        sliced.Y,
        metrics=["accuracy", "f1"],
        tie_break_policy="random",
    )
    assert set(scores) == {"accuracy", "f1"} and scores["accuracy"] > 0.7
    assert model.get_weights().shape == (8,)
    with pytest.raises(TypeError, match=r"unexpected options \['epochs'\]"):
        model.fit(sliced.L, sliced.S, epochs=3, progress_bar=False)


def test_dataframe_slices_give_the_same_model(sliced):
    frame = pd.DataFrame(
        slice_matrix_to_array(sliced.S), columns=list(sliced.S.dtype.names)
    )
    np.testing.assert_allclose(
        fit(sliced).predict_proba(sliced.L[:100], sliced.S[:100]),
        SliceAwareLabelModel()
        .fit(sliced.L, frame, progress_bar=False)
        .predict_proba(sliced.L[:100], frame[:100]),
    )


def test_bad_input_is_refused_with_clear_messages(sliced):
    model = SliceAwareLabelModel()
    with pytest.raises(RuntimeError, match="not fitted"):
        model.predict_proba(sliced.L, sliced.S)
    with pytest.raises(ValueError, match="L has 20000 rows but S has 19999"):
        model.fit(sliced.L, sliced.S[:-1], progress_bar=False)
    bad = sliced.L.copy()
    bad[7, 2] = 2
    with pytest.raises(ValueError, match="holds 2 at row 7, LF column 2"):
        model.fit(bad, sliced.S, progress_bar=False)
    model.fit(sliced.L, sliced.S, progress_bar=False)
    renamed = make_slice_matrix(slice_matrix_to_array(sliced.S), ["a", "b", "c", "d"])
    with pytest.raises(ValueError, match="fitted on"):
        model.predict(sliced.L, renamed)
    with pytest.raises(ValueError, match="fitted on 8"):
        model.predict(sliced.L[:, :4], sliced.S)
    with pytest.raises(ValueError, match="prior_strength"):
        SliceAwareLabelModel(prior_strength=-1)
    with pytest.raises(ValueError, match="prec_init"):
        SliceAwareLabelModel().fit(
            sliced.L, sliced.S, prec_init=0.3, progress_bar=False
        )


def test_the_fit_is_deterministic(sliced):
    np.testing.assert_array_equal(
        fit(sliced).predict_proba(sliced.L, sliced.S),
        fit(sliced).predict_proba(sliced.L, sliced.S),
    )


def test_conditioning_coverage_learns_one_class_lfs_by_slice():
    # One-class LFs whose precision differs by slice only through their coverage.
    rng = np.random.default_rng(0)
    n = 20_000
    golds = rng.integers(0, 2, n)
    inside = rng.random(n) < 0.4
    columns = []
    for label in (1, 1, 1, 0, 0, 0):
        right_rate = np.full(n, 0.5)
        wrong_rate = np.where(inside, 0.05, 0.3)  # far more precise inside the slice
        rate = np.where(golds == label, right_rate, wrong_rate)
        columns.append(np.where(rng.random(n) < rate, label, -1))
    L = np.column_stack(columns)
    S = make_slice_matrix(inside[:, None], ["inside"])
    precision_inside = 0.5 / (0.5 + 0.05)
    plain = SliceAwareLabelModel().fit(L, S, progress_bar=False)
    conditioned = SliceAwareLabelModel(condition_coverage=True).fit(
        L, S, progress_bar=False
    )
    plain_inside = plain.lf_slice_accuracies(L, S)["inside"].to_numpy()
    conditioned_inside = conditioned.lf_slice_accuracies(L, S)["inside"].to_numpy()
    assert np.abs(conditioned_inside - precision_inside).max() < 0.03
    assert np.abs(plain_inside - precision_inside).min() > 0.05
