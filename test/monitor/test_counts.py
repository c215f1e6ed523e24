import numpy as np
import pytest

from slicing.intervals import bootstrap_percentile_interval
from slicing.monitor.counts import confusion_counts, estimate_count_metrics, slice_rng
from slicing.monitor.metrics import COUNT_METRICS
from slicing.monitor.options import ScoreOptions


def test_confusion_counts_equal_a_loop_over_rows_with_overlapping_slices():
    rng = np.random.default_rng(0)
    n_rows, n_classes = 500, 3
    golds = rng.integers(0, n_classes, n_rows)
    preds = rng.integers(0, n_classes, n_rows)
    indicators = rng.random((n_rows, 4)) < [0.5, 0.5, 0.05, 0.0]
    counts = confusion_counts(indicators, golds, preds, n_classes)
    expected = np.zeros((5, n_classes, n_classes), dtype=np.int64)
    for row in range(n_rows):
        expected[0, golds[row], preds[row]] += 1
        for slice_index in np.flatnonzero(indicators[row]):
            expected[1 + slice_index, golds[row], preds[row]] += 1
    np.testing.assert_array_equal(counts, expected)
    assert counts.dtype == np.int64


def test_estimates_hold_values_bounds_and_notes_per_row():
    counts = np.array([[[40, 10], [5, 45]], [[0, 0], [0, 0]], [[10, 0], [0, 0]]])
    metrics = [COUNT_METRICS["accuracy"], COUNT_METRICS["f1"]]
    estimates = estimate_count_metrics(
        counts, metrics, ScoreOptions(ci=0.95, n_resamples=300)
    )
    accuracy, f1 = estimates["accuracy"], estimates["f1"]
    assert accuracy.values[0] == pytest.approx(0.85)
    assert accuracy.low[0] < 0.85 < accuracy.high[0]
    assert np.isnan(accuracy.values[1]) and accuracy.notes[1] == "accuracy: no rows"
    assert f1.values[0] == pytest.approx(90 / 105)
    assert f1.low[0] < f1.values[0] < f1.high[0]
    assert np.isnan(f1.values[2])
    assert f1.notes[2] == "f1: no positive gold labels or predictions"
    assert accuracy.notes[0] == "" and accuracy.notes[2] == ""


def test_multinomial_count_bootstrap_matches_resampling_rows():
    rng = np.random.default_rng(1)
    golds = rng.integers(0, 2, 400)
    preds = np.where(rng.random(400) < 0.8, golds, 1 - golds)
    counts = confusion_counts(np.ones((400, 0), bool), golds, preds, 2)
    f1 = COUNT_METRICS["f1"]
    options = ScoreOptions(ci=0.9, n_resamples=2000, seed=3)
    ours = estimate_count_metrics(counts, [f1], options)["f1"]
    picks = rng.integers(0, 400, size=(2000, 400))
    resampled_counts = np.zeros((2000, 2, 2))
    np.add.at(
        resampled_counts, (np.arange(2000)[:, None], golds[picks], preds[picks]), 1
    )
    low, high = bootstrap_percentile_interval(f1.from_counts(resampled_counts), 0.9)
    assert ours.low[0] == pytest.approx(low, abs=0.01)
    assert ours.high[0] == pytest.approx(high, abs=0.01)


def test_same_seed_same_intervals_and_rows_do_not_depend_on_each_other():
    counts = np.array([[[30, 5], [4, 25]], [[10, 3], [2, 9]]])
    metric = [COUNT_METRICS["matthews_corrcoef"]]
    options = ScoreOptions(n_resamples=200, seed=4)
    both = estimate_count_metrics(counts, metric, options)
    again = estimate_count_metrics(counts, metric, options)
    first_only = estimate_count_metrics(counts[:1], metric, options)
    key = "matthews_corrcoef"
    np.testing.assert_array_equal(both[key].low, again[key].low)
    assert both[key].low[0] == first_only[key].low[0]
    assert slice_rng(4, 0).random() != slice_rng(4, 1).random()


def test_no_confidence_means_no_bounds():
    counts = np.array([[[3, 1], [1, 3]]])
    estimate = estimate_count_metrics(
        counts, [COUNT_METRICS["accuracy"]], ScoreOptions(ci=None)
    )
    assert estimate["accuracy"].values[0] == pytest.approx(0.75)
    assert estimate["accuracy"].low is None and estimate["accuracy"].high is None


def test_bootstrap_method_replaces_wilson_for_proportions():
    counts = np.array([[[30, 10], [5, 55]]])
    accuracy = [COUNT_METRICS["accuracy"]]
    wilson = estimate_count_metrics(counts, accuracy, ScoreOptions())["accuracy"]
    bootstrap = estimate_count_metrics(
        counts, accuracy, ScoreOptions(ci_method="bootstrap", n_resamples=4000)
    )["accuracy"]
    assert wilson.low[0] != bootstrap.low[0]
    assert bootstrap.low[0] == pytest.approx(wilson.low[0], abs=0.02)
    assert bootstrap.high[0] == pytest.approx(wilson.high[0], abs=0.02)
