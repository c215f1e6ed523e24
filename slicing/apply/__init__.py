"""SF appliers: run slicing functions over data and return the slice matrix.

``SFApplier`` (a sequence of data points) and ``PandasSFApplier`` live in light
modules; ``DaskSFApplier`` and ``PandasParallelSFApplier`` in ``slicing.apply.dask``
(imported on demand, since importing Dask takes a moment).
"""

from slicing.apply.base import ApplierMetadata, BaseSFApplier
from slicing.apply.core import SFApplier
from slicing.apply.pandas import PandasSFApplier

__all__ = ["ApplierMetadata", "BaseSFApplier", "PandasSFApplier", "SFApplier"]
