"""Monitoring without labels: estimate performance on unlabeled data from SFs (Mandoline).

``estimate_performance`` reweights a labeled source so that its SF rates match an
unlabeled target's, and reports the target's estimated performance overall and per
slice, with intervals and the diagnostics to trust it by. The Dask pattern counts,
the over-time monitor and the plots are imported on first use.
"""

from slicing.estimate.estimator import estimate_performance
from slicing.estimate.noise import FlipRates
from slicing.estimate.patterns import PatternCounts, count_patterns
from slicing.estimate.result import (
    EstimateWarning,
    NoSourceSupportWarning,
    PerformanceEstimate,
    UnmatchedRatesWarning,
)
from slicing.lazy import lazy_getattr

_LAZY_NAMES = {
    "dask_pattern_counts": "slicing.estimate.dask_patterns",
    "estimate_over_time": "slicing.estimate.windows",
    "plot_performance_estimate": "slicing.estimate.plots",
    "plot_estimates_over_time": "slicing.estimate.plots",
}

__getattr__ = lazy_getattr(__name__, _LAZY_NAMES)

__all__ = [
    "EstimateWarning",
    "FlipRates",
    "NoSourceSupportWarning",
    "PatternCounts",
    "PerformanceEstimate",
    "UnmatchedRatesWarning",
    "count_patterns",
    "estimate_performance",
    *_LAZY_NAMES,
]
