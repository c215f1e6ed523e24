"""Slice discovery: find the slices where a model errs and hand them back as SFs.

- :func:`find_slices`: SliceLine-style search over conjunctions of predicates on
  tabular columns (pandas or Dask), exact top-k with pruning, then numeric
  thresholds refined to fit the data;
- :func:`error_indicator`: any error, false positives or false negatives of a
  class, from labels and predictions (both searches take ``error_type``);
- :func:`find_embedding_slices`: error-aware clustering of embeddings (Domino-style)
  for data without useful columns, served by nearest centroid;
- every result is a :class:`DiscoveryResult` whose slices have a statistics row
  (``.table()``) and become vectorized ``SlicingFunction``s (``.to_sfs()``).
"""

from slicing.discover.embedding import find_embedding_slices
from slicing.discover.embedding_mixture import ErrorAwareMixture
from slicing.discover.error_types import ERROR_TYPES, error_indicator
from slicing.discover.masks import ConjunctionMask, NearestCentroidMask
from slicing.discover.predicates import (
    Feature,
    Predicate,
    PredicateSpace,
    build_predicate_space,
)
from slicing.discover.result import DiscoveredSlice, DiscoveryResult, to_sfs
from slicing.discover.search import find_slices

__all__ = [
    "ERROR_TYPES",
    "ConjunctionMask",
    "DiscoveredSlice",
    "DiscoveryResult",
    "ErrorAwareMixture",
    "Feature",
    "NearestCentroidMask",
    "Predicate",
    "PredicateSpace",
    "build_predicate_space",
    "error_indicator",
    "find_embedding_slices",
    "find_slices",
    "to_sfs",
]
