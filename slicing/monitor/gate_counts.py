"""The joint counts a gate works on, and the tests run on them for every table row.

``counts[row, gold, baseline_pred, candidate_pred]`` (row 0 overall, then one per
slice) holds everything the gate needs: each model's confusion counts are its
marginals, and the 2x2 table of baseline-correct x candidate-correct (accuracy) or a
paired bootstrap (other count metrics) follows from it.
"""

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from slicing.monitor.compare import joint_prediction_counts
from slicing.monitor.counts import resample_counts
from slicing.monitor.gate_rules import MetricRule
from slicing.monitor.gate_stats import (
    bootstrap_drop_test,
    bootstrap_floor_test,
    paired_drop_test,
    proportion_floor_test,
)
from slicing.monitor.inputs import SliceMatrixLike, label_values
from slicing.monitor.metrics import COUNT_METRICS
from slicing.monitor.options import ScoreOptions

__all__ = ["PROPORTION_METRICS", "CountTests", "paired_counts", "rule_thresholds"]

#: Metrics tested exactly from the 2x2 table of baseline-correct x candidate-correct.
PROPORTION_METRICS = ("accuracy", "f1_micro")


def paired_counts(
    golds: ArrayLike,
    S: SliceMatrixLike,
    baseline: ArrayLike,
    candidate: ArrayLike,
    options: ScoreOptions,
) -> tuple[np.ndarray, list[str], int]:
    """Joint counts ``(1 + k, C, C, C)`` of gold, baseline and candidate predictions.

    Returns the counts, the slice names and the number of rows left out.
    """
    base, base_missing, base_columns = _model_labels(baseline, "baseline", options)
    cand, cand_missing, cand_columns = _model_labels(candidate, "candidate", options)
    if base.shape != cand.shape:
        raise ValueError(
            f"baseline has {base.size} rows but candidate has {cand.size}; expected "
            "predictions for the same rows"
        )
    return joint_prediction_counts(
        golds,
        S,
        base,
        cand,
        base_missing | cand_missing,
        options,
        min_classes=max(2, base_columns, cand_columns),
    )


def _model_labels(
    values: ArrayLike, name: str, options: ScoreOptions
) -> tuple[np.ndarray, np.ndarray, int]:
    """Class labels (argmax of probabilities), where missing, and probability columns."""
    if not isinstance(values, pd.Series):
        array = np.asarray(values)
        if array.ndim == 2 and array.shape[1] >= 2:
            if not np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_:
                raise ValueError(
                    f"{name} probabilities must be numeric; got {array.dtype}"
                )
            probs = array.astype(np.float64, copy=False)
            missing = np.asarray(np.isnan(probs).any(axis=1))
            return np.where(missing, 0, probs.argmax(axis=1)), missing, probs.shape[1]
    labels, missing = label_values(values, name, options.abstain_label)
    return np.where(missing, 0, labels).astype(np.int64), missing, 0


def rule_thresholds(rule: MetricRule) -> list[tuple[str, str, tuple[float, float]]]:
    """(check text, kind, (scale, tolerance or floor)) per threshold of a rule."""
    texts = iter(rule.describe())
    found = []
    if rule.floor is not None:
        found.append((next(texts), "floor", (1.0, rule.floor)))
    if rule.max_drop is not None:
        found.append((next(texts), "drop", (1.0, rule.max_drop)))
    if rule.max_relative_drop is not None:
        # (baseline - candidate) / baseline > r  <=>  (1 - r) * baseline - candidate > 0
        found.append((next(texts), "drop", (1.0 - rule.max_relative_drop, 0.0)))
    return found


class CountTests:
    """Runs (and caches) one kind of test on all table rows of the joint counts."""

    def __init__(self, joint: np.ndarray, options: ScoreOptions) -> None:
        self.joint = joint
        self.options = options
        self.cache: dict[tuple, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._resampled: np.ndarray | None = None

    def run(self, metric: str, kind: str, value: tuple[float, float]) -> tuple:
        key = (metric, kind, value)
        if key not in self.cache:
            self.cache[key] = self._compute(metric, kind, *value)
        return self.cache[key]

    def _compute(self, metric: str, kind: str, scale: float, threshold: float) -> tuple:
        joint = self.joint
        n = joint.sum(axis=(1, 2, 3))
        if metric in PROPORTION_METRICS:
            n_classes = joint.shape[1]
            gold = np.arange(n_classes)[:, None, None]
            base_right = gold == np.arange(n_classes)[None, :, None]
            cand_right = gold == np.arange(n_classes)[None, None, :]
            masks = [
                base_right & cand_right,
                base_right & ~cand_right,
                ~base_right & cand_right,
                ~base_right & ~cand_right,
            ]
            cells = np.stack([(joint * mask).sum(axis=(1, 2, 3)) for mask in masks], 1)
            if kind == "floor":
                return proportion_floor_test(cells[:, 0] + cells[:, 2], n, threshold)
            return paired_drop_test(cells, scale, threshold)
        count_metric = COUNT_METRICS[metric]
        if self._resampled is None:
            self._resampled = resample_counts(
                joint, self.options.n_resamples, self.options.seed
            )
        cand = count_metric.from_counts(joint.sum(axis=2).astype(np.float64))
        cand_samples = count_metric.from_counts(self._resampled.sum(axis=-2))
        if kind == "floor":
            return bootstrap_floor_test(cand, cand_samples, n, threshold)
        base = count_metric.from_counts(joint.sum(axis=3).astype(np.float64))
        base_samples = count_metric.from_counts(self._resampled.sum(axis=-1))
        return bootstrap_drop_test(
            (base, cand), (base_samples, cand_samples), n, scale, threshold
        )
