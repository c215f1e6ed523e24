import dataclasses

import numpy as np
import pytest

from slicing.monitor.metrics import COUNT_METRICS, RowMetric
from slicing.monitor.options import DEFAULT_OPTIONS, ScoreOptions


def test_defaults_are_the_documented_ones_and_immutable():
    assert DEFAULT_OPTIONS == ScoreOptions(
        metrics="accuracy",
        ci=0.95,
        ci_method="auto",
        n_resamples=1000,
        seed=0,
        min_support=30,
        sort=True,
        abstain_label=-1,
        nan_policy="omit",
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_OPTIONS.ci = 0.9  # type: ignore[misc]


def test_every_metrics_form_is_stored_as_a_tuple():
    def error_rate(golds, preds, probs):
        return float(np.mean(golds != preds))

    assert ScoreOptions(metrics="f1").metrics == ("f1",)
    assert ScoreOptions(metrics=["f1", "accuracy"]).metrics == ("f1", "accuracy")
    assert ScoreOptions(metrics=error_rate).metrics == (error_rate,)
    assert ScoreOptions(metrics={"err": error_rate}).metrics == (("err", error_rate),)
    resolved = ScoreOptions(metrics=["accuracy", ("err", error_rate)]).resolve_metrics()
    assert resolved[0] is COUNT_METRICS["accuracy"]
    assert isinstance(resolved[1], RowMetric) and resolved[1].name == "err"


@pytest.mark.parametrize(
    "values, message",
    [
        ({"ci": 1.5}, r"ci must be a confidence level in \(0, 1\) or None; got 1.5"),
        ({"ci": "95%"}, r"in \(0, 1\) or None; got '95%'"),
        ({"ci_method": "wald"}, "ci_method must be 'auto' or 'bootstrap'; got 'wald'"),
        ({"nan_policy": "drop"}, "nan_policy must be 'omit' or 'raise'; got 'drop'"),
        ({"n_resamples": 0}, "n_resamples must be an integer >= 1; got 0"),
        ({"n_resamples": 10.0}, "n_resamples must be an integer >= 1; got 10.0"),
        ({"seed": -1}, "seed must be an integer >= 0; got -1"),
        ({"min_support": True}, "min_support must be an integer >= 0; got True"),
        ({"abstain_label": "none"}, "abstain_label must be an integer; got 'none'"),
        ({"sort": "yes"}, "sort must be True or False; got 'yes'"),
        ({"metrics": "acc"}, "unknown metric 'acc'"),
        ({"metrics": []}, "metrics is empty"),
        ({"metrics": ["f1", "f1"]}, r"repeated: \['f1'\]"),
        ({"metrics": 3}, "metrics must be a metric name, a callable, .*; got int"),
    ],
)
def test_invalid_values_say_what_was_received_and_expected(values, message):
    with pytest.raises(ValueError, match=message):
        ScoreOptions(**values)


def test_numpy_scalars_are_accepted():
    options = ScoreOptions(
        ci=np.float64(0.9), n_resamples=np.int64(10), seed=np.int32(2)
    )
    assert options.n_resamples == 10 and options.ci == pytest.approx(0.9)


def test_of_replaces_values_validates_and_rejects_unknown_or_refused_keywords():
    base = ScoreOptions(metrics="f1", ci=0.9)
    assert ScoreOptions.of(base) is base
    assert ScoreOptions.of() == DEFAULT_OPTIONS
    changed = ScoreOptions.of(base, min_support=3)
    assert (changed.metrics, changed.ci, changed.min_support) == (("f1",), 0.9, 3)
    with pytest.raises(ValueError, match="got 2"):
        ScoreOptions.of(base, ci=2)
    with pytest.raises(TypeError, match="unknown option 'confidence'; expected one of"):
        ScoreOptions.of(base, confidence=0.9)
    with pytest.raises(TypeError, match="option 'sort' is not accepted here: why"):
        ScoreOptions.of(base, {"sort": "why"}, sort=False)
    with pytest.raises(TypeError, match="unknown option 'refused'"):
        ScoreOptions.of(base, refused={"sort": "why"})
    with pytest.raises(TypeError, match="options must be a ScoreOptions; got dict"):
        ScoreOptions.of({"ci": 0.9})  # type: ignore[arg-type]


def test_count_metric_requirement_names_the_caller_and_the_metrics():
    options = ScoreOptions(metrics=["accuracy", "roc_auc"])
    with pytest.raises(ValueError, match=r"metrics \['roc_auc'\] need the rows, but g"):
        options.require_count_metrics("g")
    options.require_count_metrics("g", available={"roc_auc"})
    ScoreOptions(metrics=["f1", "matthews_corrcoef"]).require_count_metrics("g")
    with pytest.raises(ValueError, match="binary labels only; got 3 classes"):
        ScoreOptions(metrics="f1").resolve_metrics(n_classes=3)
