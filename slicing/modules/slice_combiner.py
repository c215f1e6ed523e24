"""snorkel.slicing's path ``slicing.modules.slice_combiner``; see :mod:`slicing.model.combiner`."""

from slicing.model.combiner import SliceCombinerModule

__all__ = ["SliceCombinerModule"]
