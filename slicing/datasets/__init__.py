"""Datasets shipped with the package (no downloads)."""

from slicing.datasets.spam import load_spam

__all__ = ["load_spam"]
