"""Slice-based Learning for the Snorkel workflow.

Write slicing functions (SFs), apply them to data to get a slice matrix, monitor any
model per slice, and train slice-aware models on Snorkel's ``MultitaskClassifier``.

Names backed by torch (the slice-aware model), Dask, matplotlib or spaCy are imported
on first use, so that ``from slicing import PandasSFApplier`` stays light (no torch in
Dask workers).
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
    make_slice_matrix,
    slice_matrix_names,
    slice_matrix_to_array,
    slice_matrix_to_dataframe,
    validate_slice_matrix,
)
from slicing.monitor.analysis import SFAnalysis, slice_sizes_by_split
from slicing.monitor.compare import compare_slice_scores
from slicing.monitor.paired import compare_models
from slicing.monitor.scores import SliceScorer, slice_scores
from slicing.monitor.table import format_slice_scores
from slicing.sf.core import SlicingFunction, slicing_function
from slicing.sf.from_lf import sf_from_lf

__version__ = "0.1.0"

# name -> module defining it; imported lazily by ``__getattr__``.
_LAZY_NAMES = {
    "SliceAwareClassifier": "slicing.model.classifier",
    "collate_stacked": "slicing.model.classifier",
    "convert_to_slice_tasks": "slicing.model.tasks",
    "add_slice_labels": "slicing.model.tasks",
    "SliceCombinerModule": "slicing.model.combiner",
    "SliceHeadsModule": "slicing.model.heads",
    "dask_slice_scores": "slicing.monitor.dask_scores",
    "plot_slice_scores": "slicing.monitor.plots",
    "plot_slice_comparison": "slicing.monitor.plots",
    "plot_slice_overlap": "slicing.monitor.plots",
    "DaskSFApplier": "slicing.apply.dask",
    "PandasParallelSFApplier": "slicing.apply.dask",
    "NLPSlicingFunction": "slicing.sf.nlp",
    "nlp_slicing_function": "slicing.sf.nlp",
}


__getattr__ = lazy_getattr(__name__, _LAZY_NAMES)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY_NAMES))


__all__ = [
    "SliceAwareClassifier",
    "SliceCombinerModule",
    "SliceHeadsModule",
    "add_slice_labels",
    "collate_stacked",
    "convert_to_slice_tasks",
    "DiscoveredSlice",
    "DiscoveryResult",
    "Predicate",
    "PredicateSpace",
    "build_predicate_space",
    "find_embedding_slices",
    "find_slices",
    "to_sfs",
    "SFAnalysis",
    "SliceScorer",
    "compare_models",
    "compare_slice_scores",
    "format_slice_scores",
    "slice_scores",
    "slice_sizes_by_split",
    "dask_slice_scores",
    "plot_slice_scores",
    "plot_slice_comparison",
    "plot_slice_overlap",
    "ApplierMetadata",
    "SFApplicationError",
    "SFApplier",
    "SFOutputError",
    "PandasSFApplier",
    "SlicingFunction",
    "make_slice_matrix",
    "sf_from_lf",
    "slice_dataframe",
    "slice_matrix_names",
    "slice_matrix_to_array",
    "slice_matrix_to_dataframe",
    "slicing_function",
    "validate_slice_matrix",
    "DaskSFApplier",
    "PandasParallelSFApplier",
]
# NLPSlicingFunction / nlp_slicing_function need the optional spaCy and are left out
# of ``import *``; ``from slicing import nlp_slicing_function`` explains if it is missing.
