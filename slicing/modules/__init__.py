"""snorkel.slicing's module path for the slice modules; they live in :mod:`slicing.model`."""

from slicing.model.combiner import SliceCombinerModule
from slicing.model.heads import SliceHeadsModule

__all__ = ["SliceCombinerModule", "SliceHeadsModule"]
