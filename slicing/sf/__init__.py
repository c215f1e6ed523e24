"""Slicing functions: the decorator, the class, and conversions from labeling functions.

spaCy-backed SFs live in ``slicing.sf.nlp`` (optional dependency).
"""

from slicing.sf.core import SlicingFunction, slicing_function
from slicing.sf.from_lf import sf_from_lf

__all__ = ["SlicingFunction", "sf_from_lf", "slicing_function"]
