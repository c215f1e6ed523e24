"""Slice-based Learning for the Snorkel workflow.

Write slicing functions (SFs), apply them to data to get a slice matrix, monitor any
model per slice, and train slice-aware models on Snorkel's ``MultitaskClassifier``.

Names backed by torch (the slice-aware model), Dask, matplotlib or spaCy are imported
on first use, so that ``from slicing import PandasSFApplier`` stays light (no torch in
Dask workers). Lazy names resolve through their wing's package (``slicing.monitor``,
``slicing.model``, ...), which knows where each is defined.
"""

from slicing.apply.core import ApplierMetadata, SFApplier
from slicing.apply.dataframe import slice_dataframe
from slicing.apply.pandas import PandasSFApplier
from slicing.discover import (
    DiscoveredSlice,
    DiscoveryResult,
    Predicate,
    PredicateSpace,
    build_predicate_space,
    find_embedding_slices,
    find_slices,
    to_sfs,
)
from slicing.errors import SFApplicationError, SFOutputError
from slicing.lazy import lazy_getattr
from slicing.matrix import (
    check_slice_names,
    make_slice_matrix,
    slice_matrix_names,
    slice_matrix_to_array,
    slice_matrix_to_dataframe,
    validate_slice_matrix,
)
from slicing.monitor import (
    SFAnalysis,
    SliceScorer,
    compare_models,
    compare_slice_scores,
    format_slice_scores,
    slice_scores,
    slice_sizes_by_split,
)
from slicing.sf.core import SlicingFunction, slicing_function
from slicing.sf.from_lf import sf_from_lf

__version__ = "0.1.0"

# name -> package or module exporting it; imported lazily by ``__getattr__``.
_LAZY_NAMES = {
    "NLPSlicingFunction": "slicing.sf.nlp",
    "nlp_slicing_function": "slicing.sf.nlp",
    "DaskSFApplier": "slicing.apply.dask",
    "PandasParallelSFApplier": "slicing.apply.dask",
    "SparkSFApplier": "slicing.apply.spark",
    "dask_slice_scores": "slicing.monitor",
    "spark_slice_scores": "slicing.monitor.spark_scores",
    "plot_slice_scores": "slicing.monitor",
    "plot_slice_comparison": "slicing.monitor",
    "plot_slice_overlap": "slicing.monitor",
    "GateResult": "slicing.monitor",
    "GateRules": "slicing.monitor",
    "MetricRule": "slicing.monitor",
    "load_gate_rules": "slicing.monitor",
    "gate_slices": "slicing.monitor",
    "gate_slice_tables": "slicing.monitor",
    "dask_gate_slices": "slicing.monitor",
    "SliceAwareClassifier": "slicing.model",
    "collate_stacked": "slicing.model",
    "convert_to_slice_tasks": "slicing.model",
    "add_slice_labels": "slicing.model",
    "SliceCombinerModule": "slicing.model",
    "SliceHeadsModule": "slicing.model",
    "LFSliceAnalysis": "slicing.labeling",
    "SliceAwareLabelModel": "slicing.labeling",
    "plot_lf_slice_heatmap": "slicing.labeling",
    "estimate_performance": "slicing.estimate",
    "estimate_over_time": "slicing.estimate",
    "PerformanceEstimate": "slicing.estimate",
    "PatternCounts": "slicing.estimate",
    "FlipRates": "slicing.estimate",
    "NoSourceSupportWarning": "slicing.estimate",
    "UnmatchedRatesWarning": "slicing.estimate",
    "dask_pattern_counts": "slicing.estimate",
    "plot_performance_estimate": "slicing.estimate",
    "plot_estimates_over_time": "slicing.estimate",
}


__getattr__ = lazy_getattr(__name__, _LAZY_NAMES)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY_NAMES))


__all__ = [
    # sf: writing slicing functions (NLPSlicingFunction / nlp_slicing_function need
    # the optional spaCy and are left out of ``import *``; ``from slicing import
    # nlp_slicing_function`` explains if it is missing).
    "SlicingFunction",
    "sf_from_lf",
    "slicing_function",
    # apply: running SFs over data (the Dask and Spark appliers load on first use).
    "ApplierMetadata",
    "DaskSFApplier",
    "PandasParallelSFApplier",
    "PandasSFApplier",
    "SFApplicationError",
    "SFApplier",
    "SFOutputError",
    "SparkSFApplier",
    "slice_dataframe",
    # matrix: the slice matrix and the one set of slice-name rules.
    "check_slice_names",
    "make_slice_matrix",
    "slice_matrix_names",
    "slice_matrix_to_array",
    "slice_matrix_to_dataframe",
    "validate_slice_matrix",
    # monitor: scoring any model per slice (Dask scores and plots load on use).
    "SFAnalysis",
    "SliceScorer",
    "compare_models",
    "compare_slice_scores",
    "dask_slice_scores",
    "format_slice_scores",
    "plot_slice_comparison",
    "plot_slice_overlap",
    "plot_slice_scores",
    "slice_scores",
    "slice_sizes_by_split",
    "spark_slice_scores",
    # monitor: regression gates per slice (loaded on use).
    "GateResult",
    "GateRules",
    "MetricRule",
    "dask_gate_slices",
    "gate_slice_tables",
    "gate_slices",
    "load_gate_rules",
    # model: slice-aware training on torch (every name loads on use).
    "SliceAwareClassifier",
    "SliceCombinerModule",
    "SliceHeadsModule",
    "add_slice_labels",
    "collate_stacked",
    "convert_to_slice_tasks",
    # labeling: LF quality inside each slice and a slice-aware label model (load on use).
    "LFSliceAnalysis",
    "SliceAwareLabelModel",
    "plot_lf_slice_heatmap",
    # estimate: performance on unlabeled data from SFs (Mandoline; load on use).
    "FlipRates",
    "NoSourceSupportWarning",
    "PatternCounts",
    "PerformanceEstimate",
    "UnmatchedRatesWarning",
    "dask_pattern_counts",
    "estimate_over_time",
    "estimate_performance",
    "plot_estimates_over_time",
    "plot_performance_estimate",
    # discover: finding the slices where a model errs, as SFs.
    "DiscoveredSlice",
    "DiscoveryResult",
    "Predicate",
    "PredicateSpace",
    "build_predicate_space",
    "find_embedding_slices",
    "find_slices",
    "to_sfs",
]
