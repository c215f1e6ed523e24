"""The ``slicing`` command line: batch jobs over Parquet/CSV data, on one machine or a cluster.

One module per command (:mod:`~slicing.cli.apply`, :mod:`~slicing.cli.report`,
:mod:`~slicing.cli.gate`, :mod:`~slicing.cli.estimate`), each with its ``--help``
text, its ``add_parser`` and its ``run``; :mod:`~slicing.cli.common` holds the shared
option helpers and the mapping from failures to exit statuses.

Examples
--------
Apply the SFs of ``my_sfs.py`` to a Parquet dataset on two local worker processes::

    slicing apply --sfs my_sfs.py --input data/ --output slices.parquet --workers 2

Per-slice metrics of a prediction log::

    slicing report --slices slices.parquet --predictions preds.parquet \\
        --label-column label --pred-column pred --out report/
"""

import argparse
import logging
import sys
from collections.abc import Sequence

from slicing.cli import apply, estimate, gate, report
from slicing.cli.common import FAILURES, failure

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``slicing`` command."""
    parser = argparse.ArgumentParser(
        prog="slicing",
        description="Slice-based learning batch jobs on large Parquet/CSV datasets, "
        "with Dask: apply slicing functions, then report, gate or estimate a model's "
        "performance per slice.",
        epilog="Run 'slicing COMMAND --help' for a command's options and examples.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in (apply, report, gate, estimate):
        command.add_parser(subparsers)
    return parser


class _NoteHandler(logging.Handler):
    """Prints the batch jobs' notes (a broken stale lock, recomputed partitions)."""

    def __init__(self, command: str) -> None:
        super().__init__(logging.INFO)
        self.command = command

    def emit(self, record: logging.LogRecord) -> None:
        print(f"slicing {self.command}: note: {record.getMessage()}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``slicing`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    notes = logging.getLogger("slicing.batch")
    handler = _NoteHandler(args.command)
    notes.addHandler(handler)
    notes.propagate = False
    try:
        return args.handler(args)
    except FAILURES as exc:
        status, message = failure(exc, args.command)
        print(f"slicing {args.command}: {message}", file=sys.stderr)
        return status
    finally:
        notes.removeHandler(handler)
        notes.propagate = True
