"""Batch jobs: apply SFs to Parquet/CSV data with Dask and write the slice matrix safely.

Used by the ``slicing`` command line (``slicing.cli``); usable from Python too.
"""

from slicing.batch.job import ApplyJobSummary, run_apply_job
from slicing.batch.loading import load_sfs

__all__ = ["ApplyJobSummary", "load_sfs", "run_apply_job"]
