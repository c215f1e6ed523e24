"""Weak supervision by slice: LF quality inside each slice, and a slice-aware label model.

A sibling consumer of the slice matrix ``S`` (like :mod:`slicing.monitor`): given an LF
matrix ``L`` (snorkel's layout) and ``S`` for the same rows, :class:`LFSliceAnalysis`
reports every LF's coverage, overlaps, conflicts and accuracy inside every slice, and
:class:`SliceAwareLabelModel` is snorkel's ``LabelModel`` with LF accuracies that
depend on slice membership. The heat map (matplotlib) is imported on first use.
"""

from slicing.labeling.analysis import LFSliceAnalysis
from slicing.labeling.model import NoSliceVotesWarning, SliceAwareLabelModel
from slicing.labeling.synthetic import make_sliced_votes
from slicing.labeling.triplets import triplet_accuracies
from slicing.lazy import lazy_getattr

_LAZY_NAMES = {"plot_lf_slice_heatmap": "slicing.labeling.plots"}

__getattr__ = lazy_getattr(__name__, _LAZY_NAMES)

__all__ = [
    "LFSliceAnalysis",
    "NoSliceVotesWarning",
    "SliceAwareLabelModel",
    "make_sliced_votes",
    "triplet_accuracies",
    *_LAZY_NAMES,
]
