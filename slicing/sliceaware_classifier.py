"""snorkel.slicing's path ``slicing.sliceaware_classifier``; see :mod:`slicing.model.classifier`."""

from slicing.model.classifier import SliceAwareClassifier

__all__ = ["SliceAwareClassifier"]
