"""Batch jobs: apply SFs to Parquet/CSV data with Dask and write the slice matrix safely.

Used by the ``slicing`` command line (``slicing.cli``); usable from Python too:
:func:`run_apply_job` and :func:`run_report_job` raise :class:`BatchInputError`
(bad input), :class:`BatchOutputError` (the output could not be written) or
``SFApplicationError`` (an SF failed).
"""

from slicing.batch.errors import BatchInputError, BatchOutputError
from slicing.batch.job import ApplyJobSummary, run_apply_job
from slicing.batch.loading import load_sfs
from slicing.batch.report import run_report_job

__all__ = [
    "ApplyJobSummary",
    "BatchInputError",
    "BatchOutputError",
    "load_sfs",
    "run_apply_job",
    "run_report_job",
]
