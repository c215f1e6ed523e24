"""The metrics an estimate reports, as functions of (weighted) confusion counts.

The formulas are the monitoring tables' own (:mod:`slicing.monitor.metrics`), applied
to weighted confusion counts ``counts[..., gold, pred]`` (any positive scale); NaN
where undefined. Only metrics of counts can be reweighted (not ``roc_auc``).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np

from slicing.monitor.metrics import CountMetric as MonitorCountMetric
from slicing.monitor.metrics import resolve_metrics

__all__ = ["COUNT_METRICS", "CountMetric", "MetricsArg", "count_metrics"]

#: One metric name or a list of names.
MetricsArg: TypeAlias = str | Sequence[str]


@dataclass(frozen=True)
class CountMetric:
    """A metric of confusion counts ``(..., C, C)``; ``binary_only`` for class 1 metrics."""

    name: str
    from_counts: Callable[[np.ndarray], np.ndarray]
    binary_only: bool = False
    floor: float = 0.0


def _monitoring_metric(name: str, floor: float = 0.0) -> CountMetric:
    n_classes = 2 if name in _BINARY_ONLY else 3
    [metric] = resolve_metrics([name], n_classes=n_classes)
    assert isinstance(metric, MonitorCountMetric)
    return CountMetric(name, metric.from_counts, metric.binary_only, floor)


_BINARY_ONLY = ("precision", "recall", "f1")

COUNT_METRICS: dict[str, CountMetric] = {
    name: _monitoring_metric(name, floor=-1.0 if name == "matthews_corrcoef" else 0.0)
    for name in (
        "accuracy",
        "precision",
        "recall",
        "f1",
        "f1_micro",
        "f1_macro",
        "matthews_corrcoef",
    )
}


def count_metrics(metrics: MetricsArg, n_classes: int) -> list[CountMetric]:
    """Resolve metric names, refusing unknown, repeated and binary-only-on-multiclass.

    Examples
    --------
    >>> [metric.name for metric in count_metrics(["accuracy", "f1"], 2)]
    ['accuracy', 'f1']
    >>> count_metrics("roc_auc", 2)
    Traceback (most recent call last):
    ...
    ValueError: metric 'roc_auc' cannot be estimated from reweighted confusion counts; expected names among ['accuracy', 'f1', 'f1_macro', 'f1_micro', 'matthews_corrcoef', 'precision', 'recall']
    """
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    if not names:
        raise ValueError("metrics is empty; expected at least one metric name")
    resolved = []
    for name in names:
        if name not in COUNT_METRICS:
            raise ValueError(
                f"metric {name!r} cannot be estimated from reweighted confusion "
                f"counts; expected names among {sorted(COUNT_METRICS)}"
            )
        metric = COUNT_METRICS[name]
        if metric.binary_only and n_classes > 2:
            raise ValueError(
                f"metric {name!r} is defined for binary labels only; got {n_classes} "
                "classes. Use 'f1_macro' or 'f1_micro'"
            )
        resolved.append(metric)
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"metric names must be unique; repeated: {repeated}")
    return resolved
