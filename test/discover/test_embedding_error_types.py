import numpy as np
import pandas as pd
import pytest

from slicing.apply.pandas import PandasSFApplier
from slicing.discover.embedding import find_embedding_slices
from slicing.discover.embedding_inputs import class_distributions
from slicing.discover.embedding_mixture import ErrorAwareMixture
from slicing.discover.masks import nearest_centroid


def adjacent_fp_fn(seed: int = 0, dim: int = 16):
    """Two adjacent clusters, one of false positives, one of false negatives."""
    rng = np.random.default_rng(seed)
    sizes = [150, 150, 700, 700]
    centres = np.zeros((4, dim))
    centres[1, 0] = 3.5  # next to cluster 0
    centres[2, 1] = 10.0
    centres[3, 2] = 10.0
    group = np.repeat(np.arange(4), sizes)
    X = centres[group] + rng.normal(size=(len(group), dim))
    golds = np.select([group == 0, group == 1, group == 2], [0, 1, 0], 1)
    flip = rng.random(len(group)) < np.array([0.8, 0.8, 0.05, 0.05])[group]
    preds = np.where(flip, 1 - golds, golds)
    return X, golds, preds, group


def test_adjacent_false_positives_and_negatives_come_back_apart():
    X, golds, preds, group = adjacent_fp_fn()
    frame = pd.DataFrame({"emb": list(X)})
    found = find_embedding_slices(X, embed="emb", golds=golds, preds=preds, top_k=5)
    sfs = found.to_sfs(name_style="identifier")
    S = PandasSFApplier(sfs).apply(frame, progress_bar=False)
    covered = {0: np.zeros(len(X), bool), 1: np.zeros(len(X), bool)}
    for sf in sfs:
        inside = S[sf.name]
        majority = np.bincount(group[inside]).argmax()
        assert (group[inside] == majority).mean() > 0.9  # one kind of error each
        if majority in covered:
            covered[majority] |= inside
    assert covered[0][group == 0].mean() > 0.8  # the false positives
    assert covered[1][group == 1].mean() > 0.8  # the false negatives, apart


@pytest.mark.parametrize(
    ("error_type", "kind"), [("false_positive", 0), ("false_negative", 1)]
)
def test_error_type_ranks_its_own_cluster_first(error_type, kind):
    X, golds, preds, group = adjacent_fp_fn(1)
    frame = pd.DataFrame({"emb": list(X)})
    found = find_embedding_slices(
        X, embed="emb", golds=golds, preds=preds, error_type=error_type, top_k=1
    )
    inside = found[0].to_sf().apply_to_frame(frame)
    assert (group[inside] == kind).mean() > 0.9
    wrong = (golds != preds) & (preds == 1 if kind == 0 else golds == 1)
    assert found[0].error == pytest.approx(wrong[inside].mean())
    assert found.mean_error == pytest.approx(wrong.mean())


def test_multiclass_with_probabilities():
    rng = np.random.default_rng(2)
    centres = np.array([[0.0, 0, 0, 0], [8, 0, 0, 0], [0, 8, 0, 0], [0, 0, 8, 0]])
    group = np.repeat(np.arange(4), [600, 600, 600, 150])
    X = centres[group] + rng.normal(size=(len(group), 4))
    golds = np.array([0, 1, 2, 2])[group]
    # Group 3: class 2, mostly called class 0 (false negatives of class 2).
    missed = (group == 3) & (rng.random(len(group)) < 0.8)
    noise = rng.random(len(group)) < 0.03
    predicted = np.where(missed, 0, np.where(noise, (golds + 1) % 3, golds))
    probs = np.full((len(group), 3), 0.1)
    probs[np.arange(len(group)), predicted] = 0.8
    found = find_embedding_slices(
        X,
        embed=lambda df: X[df.index.to_numpy()],
        golds=golds,
        preds=probs,
        error_type="false_negative",
        target_class=2,
        top_k=3,
    )
    everything = pd.DataFrame(index=range(len(X)))
    covered = np.zeros(len(X), bool)
    for item in found:
        inside = item.mask(everything)
        if (group[inside] == 3).mean() > 0.9:  # the missed class-2 rows, alone
            covered |= inside
    assert found[0].error > 0.6
    assert covered[group == 3].mean() > 0.8
    with pytest.raises(ValueError, match="needs target_class"):
        find_embedding_slices(
            X, embed="emb", golds=golds, preds=probs, error_type="false_positive"
        )


def test_string_labels_and_hard_predictions():
    X, golds, preds, group = adjacent_fp_fn(3, dim=4)
    names = np.array(["ham", "spam"])
    found = find_embedding_slices(
        X,
        embed="emb",
        golds=names[golds],
        preds=names[preds],
        error_type="false_positive",
        target_class="spam",
        top_k=1,
    )
    inside = found[0].to_sf().apply_to_frame(pd.DataFrame({"emb": list(X)}))
    assert (group[inside] == 0).mean() > 0.9


def test_serving_needs_the_embedding_only_and_agrees_with_the_fit():
    X, golds, preds, _ = adjacent_fp_fn(4)
    found = find_embedding_slices(X, embed="emb", golds=golds, preds=preds, top_k=3)
    # A frame with nothing but the embedding: no label, no prediction.
    only_embedding = pd.DataFrame({"emb": list(X)})
    for item in found:
        inside = item.to_sf().apply_to_frame(only_embedding)
        assert inside.sum() == item.size
        nearest = nearest_centroid(X, item.mask.centroids) == item.mask.cluster
        assert np.array_equal(inside, nearest)
    gold_dist, pred_dist = class_distributions(golds, preds)
    # Fitted membership (embedding, label and prediction) against the served one
    # (nearest centroid, embedding only), with one component per cluster.
    mixture = ErrorAwareMixture(4).fit(X, golds=gold_dist, preds=pred_dist)
    assert (mixture.predict(X) == mixture.labels_).mean() > 0.95


def test_errors_path_is_unchanged_by_the_label_terms():
    X, golds, preds, group = adjacent_fp_fn(5, dim=4)
    errors = (golds != preds).astype(float)
    by_errors = find_embedding_slices(X, errors, "emb", top_k=3)
    assert by_errors.mean_error == pytest.approx(errors.mean())
    assert by_errors[0].error > 0.6


def test_class_distributions():
    gold, pred = class_distributions([0, 2, 1], np.array([[0.5, 0.5, 0.0]] * 3))
    assert gold.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert pred.sum(axis=1).tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"errors": np.zeros(6), "golds": np.zeros(6), "preds": np.zeros(6)}, "both"),
        ({}, "neither"),
        ({"golds": np.zeros(6)}, "golds and preds go together"),
        (
            {"errors": np.ones(6), "error_type": "false_positive"},
            "need golds and preds",
        ),
        (
            {"golds": np.zeros(6), "preds": np.zeros(6), "error_type": "fp"},
            "error_type must be one of",
        ),
        ({"golds": np.zeros(5), "preds": np.zeros(5)}, "5 rows but the embeddings 6"),
        (
            {"golds": [0, 1, 0, 1, 0, 1], "preds": np.full((6, 2), 2.0)},
            r"probabilities in \[0, 1\]",
        ),
        (
            {"golds": [0, 1, 0, 1, 0, 3], "preds": np.full((6, 2), 0.5)},
            r"class indices 0..1",
        ),
        (
            {"golds": [0, 1, 0, 1, 0, 1], "preds": [0, 1, 0, 1, 0, 1], "embed": None},
            "embed is required",
        ),
    ],
)
def test_bad_inputs_are_refused(kwargs, message):
    arguments = {"embed": "emb", **kwargs}
    with pytest.raises(ValueError, match=message):
        find_embedding_slices(np.zeros((6, 2)), **arguments)


def test_bad_weights_are_refused():
    with pytest.raises(ValueError, match="label_weight must be >= 0; got -1"):
        ErrorAwareMixture(3, label_weight=-1)
    with pytest.raises(
        ValueError, match="projection_dim must be a positive int or None"
    ):
        ErrorAwareMixture(3, projection_dim=0)
    with pytest.raises(ValueError, match="class indices 0..C-1"):
        ErrorAwareMixture(3).fit(np.zeros((4, 2)), golds=np.array([0, 1, -1, 0]))
