import numpy as np
import pandas as pd
import pytest

from slicing.apply.pandas import PandasSFApplier
from slicing.discover.embedding import ErrorAwareMixture, find_embedding_slices


def blob_with_hard_corner(seed: int = 0):
    """One Gaussian blob; the model errs in a corner that is no cluster of its own."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(1500, 4))
    hard = (X[:, 0] > 0.8) & (X[:, 1] > 0.3)
    errors = (rng.random(1500) < np.where(hard, 0.9, 0.03)).astype(float)
    return X, errors, hard


def test_error_weight_pulls_clusters_onto_errors():
    X, errors, hard = blob_with_hard_corner()
    top_error = {}
    for weight in (0.0, 10.0):
        result = find_embedding_slices(
            X, errors, "emb", n_clusters=6, error_weight=weight, top_k=1, seed=0
        )
        top_error[weight] = result[0].error
    assert top_error[10.0] > top_error[0.0] + 0.1
    assert top_error[10.0] > 0.4


def test_slices_are_nearest_centroid_sfs_with_true_statistics():
    X, errors, _ = blob_with_hard_corner(1)
    frame = pd.DataFrame({"emb": list(X)})
    result = find_embedding_slices(X, errors, "emb", n_clusters=5, top_k=3, seed=1)
    assert 1 <= len(result) <= 3
    sfs = result.to_sfs(name_style="identifier")
    S = PandasSFApplier(sfs).apply(frame, progress_bar=False)
    for item, sf in zip(result, sfs):
        inside = S[sf.name]
        assert sf.name.startswith("cluster_")
        assert item.size == inside.sum() >= 10
        assert item.error == pytest.approx(errors[inside].mean())
    scores = [item.score for item in result]
    assert scores == sorted(scores, reverse=True)


def test_clusters_are_described_by_tokens_and_values():
    rng = np.random.default_rng(2)
    n_rows = 400
    spam = rng.random(n_rows) < 0.3
    X = rng.normal(size=(n_rows, 3)) + np.where(spam, 4.0, 0.0)[:, None]
    frame = pd.DataFrame(
        {
            "text": np.where(spam, "check my channel now", "nice song love it"),
            "video": np.where(spam, 5, rng.integers(1, 5, n_rows)),
        }
    )
    errors = (rng.random(n_rows) < np.where(spam, 0.6, 0.05)).astype(float)
    result = find_embedding_slices(
        X,
        errors,
        lambda df: X[df.index.to_numpy()],
        frame=frame,
        text_column="text",
        describe_columns=["video"],
        n_clusters=2,
        top_k=1,
    )
    assert result[0].description.startswith("channel, check, my, now")
    assert result[0].description.endswith("; video=5")
    assert result[0].name == f"{result[0].identifier} ({result[0].description})"


def test_mixture_is_reproducible():
    X, errors, _ = blob_with_hard_corner()
    first = ErrorAwareMixture(4, seed=3, n_iter=10).fit(X, errors)
    second = ErrorAwareMixture(4, seed=3, n_iter=10).fit(X, errors)
    np.testing.assert_allclose(first.means_, second.means_)
    np.testing.assert_allclose(first.weights_.sum(), 1.0)


@pytest.mark.parametrize(
    ("embeddings", "errors", "message"),
    [
        (np.zeros(5), np.zeros(5), r"\(n, dim\) array; got shape \(5,\)"),
        (np.zeros((5, 2)), np.zeros(4), r"expected shape \(5,\); got shape \(4,\)"),
        (np.zeros((5, 2)), np.full(5, 2.0), r"in \[0, 1\] for the mixture"),
    ],
)
def test_bad_inputs_are_refused(embeddings, errors, message):
    with pytest.raises(ValueError, match=message):
        find_embedding_slices(embeddings, errors, "emb")


def test_bad_cluster_count_is_refused():
    with pytest.raises(ValueError, match="n_clusters must be a positive int; got 0"):
        ErrorAwareMixture(0)


def test_non_finite_embeddings_are_refused_naming_the_rows():
    """3 NaN rows in 1,000 used to give no slice at all, silently."""
    X, errors, _ = blob_with_hard_corner()
    X = X[:1000].copy()
    X[[5, 17, 900], 1] = np.nan
    X[950, 0] = np.inf
    with pytest.raises(
        ValueError,
        match=r"embeddings must be finite; 4 of 1000 rows hold NaN or infinity, at "
        r"positions \[5, 17, 900, 950\]: drop or impute those rows",
    ):
        find_embedding_slices(X, errors[:1000], "emb", n_clusters=3)
    with pytest.raises(ValueError, match=r"4 of 1000 rows .* \[5, 17, 900, 950\]"):
        ErrorAwareMixture(3).fit(X, errors[:1000])
