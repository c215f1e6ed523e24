import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score
from snorkel.analysis import metric_score

from slicing.monitor.counts import confusion_counts
from slicing.monitor.metrics import (
    COUNT_METRICS,
    CountMetric,
    RowMetric,
    _bootstrap_roc_auc,
    resolve_metrics,
)


def _counts(golds, preds, n_classes):
    everyone = np.ones((len(golds), 0), dtype=bool)
    return confusion_counts(everyone, golds, preds, n_classes)[0].astype(float)


@settings(max_examples=60, deadline=None)
@given(
    n_classes=st.integers(2, 4),
    pairs=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=40
    ),
)
def test_count_metrics_equal_snorkel_wherever_snorkel_is_defined(n_classes, pairs):
    golds = np.array([gold % n_classes for gold, _ in pairs])
    preds = np.array([pred % n_classes for _, pred in pairs])
    counts = _counts(golds, preds, n_classes)
    names = ["accuracy", "f1_micro", "f1_macro", "matthews_corrcoef"]
    if n_classes == 2:
        names += ["precision", "recall", "f1"]
    for name in names:
        ours = COUNT_METRICS[name].from_counts(counts)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = metric_score(golds, preds, metric=name)
        if np.isnan(ours):
            # Undefined here; scikit-learn substitutes 0 (with a warning).
            assert expected == 0.0, name
        else:
            assert ours == pytest.approx(expected, abs=1e-12), name


def test_count_metrics_are_vectorized_over_leading_axes():
    counts = np.array([[[3.0, 1.0], [2.0, 4.0]], [[0.0, 0.0], [0.0, 0.0]]])
    accuracy = COUNT_METRICS["accuracy"].from_counts(counts)
    assert accuracy.shape == (2,)
    assert accuracy[0] == pytest.approx(0.7)
    assert np.isnan(accuracy[1])
    stacked = np.stack([counts, counts])
    assert COUNT_METRICS["f1"].from_counts(stacked).shape == (2, 2)


def test_proportion_parts_are_successes_and_trials():
    counts = np.array([[5, 2], [1, 7]])
    assert COUNT_METRICS["precision"].proportion(counts) == (7, 9)
    assert COUNT_METRICS["recall"].proportion(counts) == (7, 8)
    assert COUNT_METRICS["accuracy"].proportion(counts) == (12, 15)


@pytest.mark.parametrize("n_rows", [7, 60])
def test_vectorized_roc_auc_bootstrap_equals_sklearn_on_the_same_resamples(n_rows):
    rng = np.random.default_rng(0)
    golds = rng.integers(0, 2, n_rows)
    golds[:2] = [0, 1]
    scores = np.round(rng.random(n_rows), 1)  # many ties
    probs = np.column_stack([1 - scores, scores])
    resampled = _bootstrap_roc_auc(golds, golds, probs, 25, np.random.default_rng(5))
    picks = np.random.default_rng(5).integers(0, n_rows, size=(25, n_rows))
    for value, rows in zip(resampled, picks, strict=True):
        if np.unique(golds[rows]).size < 2:
            assert np.isnan(value)
        else:
            assert value == pytest.approx(roc_auc_score(golds[rows], scores[rows]))


def test_resolve_names_callables_and_mappings():
    def error_rate(golds, preds, probs):
        return float(np.mean(golds != preds))

    resolved = resolve_metrics(["accuracy", "roc_auc", error_rate])
    assert [type(metric) for metric in resolved] == [CountMetric, RowMetric, RowMetric]
    assert resolved[1].needs_probs and resolved[2].name == "error_rate"
    mapped = resolve_metrics({"err": error_rate})
    assert mapped[0].name == "err" and mapped[0].func is error_rate


@pytest.mark.parametrize(
    ("metrics", "n_classes", "message"),
    [
        ("coverage", 2, "not supported per slice"),
        ("fbeta", 2, "needs beta"),
        ("accuracy_score", 2, "unknown metric 'accuracy_score'"),
        (["accuracy", "accuracy"], 2, r"repeated: \['accuracy'\]"),
        ([], 2, "metrics is empty"),
        ("precision", 3, "binary labels only; got 3 classes"),
        ("roc_auc", 3, "binary labels only; got 3 classes"),
        ([42], 2, "got 42"),
    ],
)
def test_resolve_rejects_with_a_clear_message(metrics, n_classes, message):
    with pytest.raises(ValueError, match=message):
        resolve_metrics(metrics, n_classes=n_classes)


def test_count_metrics_hold_for_weighted_counts_below_one():
    # Importance-weighted counts are fractional: a denominator of 0.4 is real.
    from slicing.monitor.metrics import resolve_metrics

    counts = np.array([[0.5, 0.1], [0.1, 0.3]])
    by_name = {m.name: m for m in resolve_metrics(["accuracy", "recall", "precision"])}
    assert by_name["recall"].from_counts(counts) == pytest.approx(0.3 / 0.4)
    assert by_name["precision"].from_counts(counts) == pytest.approx(0.3 / 0.4)
    assert by_name["accuracy"].from_counts(counts) == pytest.approx(0.8)
    assert np.isnan(by_name["recall"].from_counts(np.array([[1.0, 0.0], [0.0, 0.0]])))
