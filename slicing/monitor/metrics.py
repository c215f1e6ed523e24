"""Metrics for per-slice monitoring, resolved from snorkel's registry or user callables.

Two kinds of metric:

* **count metrics** (accuracy, precision, recall, f1, f1_micro, f1_macro,
  matthews_corrcoef) are functions of a slice's confusion matrix. They are computed
  for all slices at once from counts, bootstrap by resampling those counts
  (multinomially, which equals resampling rows), and can be reduced on Dask.
  Their values equal ``snorkel.analysis.metric_score`` wherever it is defined; where
  scikit-learn would substitute 0 for an undefined value (no predicted positives,
  say), they return NaN.
* **row metrics** (``roc_auc`` from snorkel's ``METRICS``, and user callables
  ``func(golds, preds, probs) -> float`` as in snorkel's ``Scorer``) need the rows.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
from snorkel.analysis import metric_score
from snorkel.analysis.metrics import METRICS

from slicing.intervals import delong_interval, resample_rows

__all__ = [
    "COUNT_METRICS",
    "CountMetric",
    "MetricsArg",
    "RowMetric",
    "SliceMetric",
    "resolve_metrics",
]

RowMetricFunc = Callable[[np.ndarray, np.ndarray, np.ndarray | None], float]
MetricsArg: TypeAlias = (
    str
    | RowMetricFunc
    | Sequence[str | RowMetricFunc | tuple[str, str | RowMetricFunc]]
    | Mapping[str, RowMetricFunc]
)


@dataclass(frozen=True)
class CountMetric:
    """A metric computed from confusion counts ``counts[..., gold, pred]``.

    Attributes
    ----------
    name
        Column name in the score table.
    from_counts
        Maps counts of shape ``(..., C, C)`` to values of shape ``(...)``; NaN where
        undefined.
    proportion
        For metrics that are a share of rows (accuracy, precision, recall), or an
        increasing function of one (f1): maps counts to ``(successes, trials)`` so
        the Wilson interval applies.
    binary_only
        True if the metric is defined for two classes only (positive class 1).
    from_proportion
        For a metric that is an increasing function of its ``proportion`` (f1 of the
        Jaccard share ``TP / (TP + FP + FN)``): maps the proportion's interval ends
        to the metric's. ``None`` when the metric is the proportion itself.
    """

    name: str
    from_counts: Callable[[np.ndarray], np.ndarray]
    proportion: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None
    binary_only: bool = False
    from_proportion: Callable[[np.ndarray], np.ndarray] | None = None


@dataclass(frozen=True)
class RowMetric:
    """A metric computed from the rows of a slice.

    Attributes
    ----------
    name
        Column name in the score table.
    func
        ``func(golds, preds, probs) -> float``.
    needs_probs
        True if ``func`` reads ``probs``.
    bootstrap
        Optional vectorized bootstrap ``(golds, preds, probs, n_resamples, rng) ->
        values``; without it, rows are resampled in bulk and ``func`` runs once per
        resample.
    closed_form_interval
        Optional ``(golds, preds, probs, confidence) -> (low, high)`` used instead of
        the bootstrap when ``ci_method="auto"``.
    """

    name: str
    func: RowMetricFunc
    needs_probs: bool = False
    bootstrap: (
        Callable[
            [np.ndarray, np.ndarray, np.ndarray | None, int, np.random.Generator],
            np.ndarray,
        ]
        | None
    ) = None
    closed_form_interval: (
        Callable[
            [np.ndarray, np.ndarray, np.ndarray | None, float], tuple[float, float]
        ]
        | None
    ) = None


SliceMetric = CountMetric | RowMetric


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    # Counts may be weighted (importance weights, fractional), so a denominator
    # in (0, 1) is real: only a zero one is replaced, and its result is NaN.
    with np.errstate(divide="ignore", invalid="ignore"):
        safe = np.where(denominator > 0, denominator, 1)
        return np.where(denominator > 0, numerator / safe, np.nan)


def _accuracy_parts(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.trace(counts, axis1=-2, axis2=-1), counts.sum(axis=(-2, -1))


def _precision_parts(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return counts[..., 1, 1], counts[..., :, 1].sum(axis=-1)


def _recall_parts(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return counts[..., 1, 1], counts[..., 1, :].sum(axis=-1)


def _ratio(parts: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]) -> Callable:
    def from_counts(counts: np.ndarray) -> np.ndarray:
        return _divide(*parts(counts))

    return from_counts


def _f1(counts: np.ndarray) -> np.ndarray:
    true_pos = counts[..., 1, 1]
    return _divide(2 * true_pos, 2 * true_pos + counts[..., 0, 1] + counts[..., 1, 0])


def _jaccard_parts(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Among the rows positive in gold or prediction, the share that are both.
    true_pos = counts[..., 1, 1]
    return true_pos, true_pos + counts[..., 0, 1] + counts[..., 1, 0]


def _f1_from_jaccard(jaccard: np.ndarray) -> np.ndarray:
    # f1 = 2 TP / (2 TP + FP + FN) = 2 J / (1 + J), increasing in J.
    return 2 * jaccard / (1 + jaccard)


def _f1_macro(counts: np.ndarray) -> np.ndarray:
    # Like scikit-learn, average over the classes present in golds or preds.
    diagonal = np.diagonal(counts, axis1=-2, axis2=-1)
    class_mass = counts.sum(axis=-1) + counts.sum(axis=-2)
    per_class = _divide(2 * diagonal, class_mass)
    present = class_mass > 0
    return _divide(np.where(present, per_class, 0).sum(axis=-1), present.sum(axis=-1))


def _matthews(counts: np.ndarray) -> np.ndarray:
    # Multiclass form (Gorodkin 2004), as in scikit-learn.
    true_per_class = counts.sum(axis=-1)
    pred_per_class = counts.sum(axis=-2)
    correct = np.trace(counts, axis1=-2, axis2=-1)
    total = counts.sum(axis=(-2, -1))
    covariance = correct * total - (true_per_class * pred_per_class).sum(axis=-1)
    spread_pred = total**2 - (pred_per_class**2).sum(axis=-1)
    spread_true = total**2 - (true_per_class**2).sum(axis=-1)
    return _divide(covariance, np.sqrt(spread_pred * spread_true))


COUNT_METRICS: dict[str, CountMetric] = {
    "accuracy": CountMetric("accuracy", _ratio(_accuracy_parts), _accuracy_parts),
    "precision": CountMetric(
        "precision", _ratio(_precision_parts), _precision_parts, binary_only=True
    ),
    "recall": CountMetric(
        "recall", _ratio(_recall_parts), _recall_parts, binary_only=True
    ),
    # The rows positive in gold or prediction are each a true positive with
    # probability J, so a Wilson interval for J maps to one for f1; unlike a
    # percentile bootstrap it does not collapse to [1, 1] on a perfect slice.
    "f1": CountMetric(
        "f1", _f1, _jaccard_parts, binary_only=True, from_proportion=_f1_from_jaccard
    ),
    "f1_micro": CountMetric("f1_micro", _ratio(_accuracy_parts), _accuracy_parts),
    "f1_macro": CountMetric("f1_macro", _f1_macro),
    "matthews_corrcoef": CountMetric("matthews_corrcoef", _matthews),
}


def _roc_auc(golds: np.ndarray, preds: np.ndarray, probs: np.ndarray | None) -> float:
    if np.unique(golds).size < 2:
        # scikit-learn raises or warns and returns NaN, depending on its version.
        raise ValueError("undefined with one class only")
    return float(metric_score(golds=golds, probs=probs, metric="roc_auc"))


def _delong_roc_auc_interval(
    golds: np.ndarray, preds: np.ndarray, probs: np.ndarray | None, confidence: float
) -> tuple[float, float]:
    assert probs is not None
    return delong_interval(golds == 1, probs[:, 1], confidence)


def _bootstrap_roc_auc(
    golds: np.ndarray,
    preds: np.ndarray,
    probs: np.ndarray | None,
    n_resamples: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Bootstrap ROC AUC as a weighted Mann-Whitney statistic, many resamples at once."""
    assert probs is not None
    scores = probs[:, 1]
    n_rows = scores.size
    order = np.argsort(scores, kind="stable")
    positive = golds[order] == 1
    sorted_scores = scores[order]
    tie_starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    blocks = []
    for picks in resample_rows(n_rows, n_resamples, rng):
        # How often each row was drawn, per resample: the resample as weights.
        size = picks.shape[0]
        offsets = (np.arange(size) * n_rows)[:, None]
        weights = np.bincount((picks + offsets).ravel(), minlength=size * n_rows)
        weights = weights.reshape(size, n_rows)[:, order]
        pos_weight = np.add.reduceat(weights * positive, tie_starts, axis=1)
        neg_weight = np.add.reduceat(weights * ~positive, tie_starts, axis=1)
        neg_below = np.cumsum(neg_weight, axis=1) - neg_weight
        wins = (pos_weight * (neg_below + 0.5 * neg_weight)).sum(axis=1)
        pairs = pos_weight.sum(axis=1) * neg_weight.sum(axis=1)
        blocks.append(_divide(wins.astype(float), pairs.astype(float)))
    return np.concatenate(blocks)


def resolve_metrics(metrics: MetricsArg, n_classes: int = 2) -> list[SliceMetric]:
    """Resolve metric names and callables into :class:`CountMetric`/:class:`RowMetric`.

    Parameters
    ----------
    metrics
        A name from snorkel's ``METRICS`` registry, a callable
        ``func(golds, preds, probs) -> float``, a sequence of these, or a mapping
        from column name to callable (like snorkel's ``custom_metric_funcs``).
    n_classes
        Number of classes, to reject binary-only metrics on multiclass labels.

    Returns
    -------
    list[SliceMetric]

    Raises
    ------
    ValueError
        For unknown names, names that are not per-slice quality metrics
        (``coverage``), ``fbeta`` (needs ``beta``: pass a callable), binary-only
        metrics with more than two classes, or repeated names.

    Examples
    --------
    >>> [metric.name for metric in resolve_metrics(["accuracy", "roc_auc"])]
    ['accuracy', 'roc_auc']
    >>> resolve_metrics("f1", n_classes=3)
    Traceback (most recent call last):
    ...
    ValueError: metric 'f1' is defined for binary labels only; got 3 classes. Use 'f1_macro' or 'f1_micro'
    """
    if isinstance(metrics, str) or callable(metrics):
        items: list = [metrics]
    elif isinstance(metrics, Mapping):
        items = list(metrics.items())
    else:
        items = list(metrics)
    if not items:
        raise ValueError("metrics is empty; expected at least one metric")
    resolved = [_resolve_one(item, n_classes) for item in items]
    names = [metric.name for metric in resolved]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"metric names must be unique; repeated: {repeated}")
    return resolved


def _resolve_one(item: object, n_classes: int) -> SliceMetric:
    if isinstance(item, tuple):
        name, func = item
        if isinstance(func, str):
            return _resolve_name(func, n_classes)
        return _custom(str(name), func)
    if isinstance(item, str):
        return _resolve_name(item, n_classes)
    if callable(item):
        return _custom(getattr(item, "__name__", type(item).__name__), item)
    raise ValueError(
        f"metrics must be names from snorkel's METRICS or callables; got {item!r}"
    )


def _resolve_name(name: str, n_classes: int) -> SliceMetric:
    if name in COUNT_METRICS:
        metric = COUNT_METRICS[name]
        if metric.binary_only and n_classes > 2:
            raise ValueError(
                f"metric '{name}' is defined for binary labels only; got {n_classes} "
                "classes. Use 'f1_macro' or 'f1_micro'"
            )
        return metric
    if name == "roc_auc":
        if n_classes > 2:
            raise ValueError(
                f"metric 'roc_auc' is defined for binary labels only; got {n_classes} "
                "classes"
            )
        return RowMetric(
            "roc_auc",
            _roc_auc,
            needs_probs=True,
            bootstrap=_bootstrap_roc_auc,
            closed_form_interval=_delong_roc_auc_interval,
        )
    if name in METRICS:
        raise ValueError(
            f"metric '{name}' is not supported per slice: 'coverage' is not a quality "
            "metric (unscorable rows are reported instead) and 'fbeta' needs beta "
            "(pass a callable). Supported names: "
            f"{sorted([*COUNT_METRICS, 'roc_auc'])}"
        )
    raise ValueError(
        f"unknown metric {name!r}; expected one of "
        f"{sorted([*COUNT_METRICS, 'roc_auc'])} or a callable "
        "func(golds, preds, probs) -> float"
    )


def _custom(name: str, func: RowMetricFunc) -> RowMetric:
    if not callable(func):
        raise ValueError(f"metric {name!r} must be callable; got {func!r}")
    return RowMetric(name, func)
