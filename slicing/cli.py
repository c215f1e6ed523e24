"""The ``slicing`` command line: batch jobs over Parquet/CSV data, on one machine or a cluster.

Examples
--------
Apply the SFs of ``my_sfs.py`` to a Parquet dataset on two local worker processes::

    slicing apply --sfs my_sfs.py --input data/ --output slices.parquet --workers 2

Per-slice metrics of a prediction log::

    slicing report --slices slices.parquet --predictions preds.parquet \\
        --label-column label --pred-column pred --out report/
"""

import argparse
import sys
from collections.abc import Sequence

from slicing.batch.errors import BatchInputError
from slicing.errors import SFApplicationError, SFOutputError

__all__ = ["main"]

APPLY_EXAMPLE = """\
examples:
  slicing apply --sfs my_sfs.py --input comments/ --output slices.parquet
  slicing apply --sfs my_package.sfs:SFS --input 'logs/*.csv' --output s.parquet \\
      --workers 4 --id-column comment_id --fault-tolerant
  slicing apply --sfs my_sfs --input data.parquet --output s.parquet \\
      --scheduler tcp://10.0.0.5:8786 --resume

The output is a directory of Parquet files (one per input partition, in input order)
with the id column (if given) and one bool column per SF, plus OUTPUT.summary.json.
It appears only when complete; an interrupted run can be continued with --resume.
Exit status: 0 done, 1 an SF failed, 2 bad input or usage, 130 interrupted.
"""


def _add_apply_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "apply",
        help="apply SFs to Parquet/CSV data and write the slice matrix as Parquet",
        description="Apply slicing functions to Parquet/CSV data with Dask and write "
        "the slice matrix as Parquet, atomically.",
        epilog=APPLY_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--sfs",
        required=True,
        metavar="MODULE[:NAME]",
        help="where the SFs are: MODULE:NAME (an SF or a list of SFs) or MODULE (every "
        "SF it defines); MODULE is a dotted module name or a path to a .py file, "
        "e.g. my_sfs.py or my_package.sfs:SFS",
    )
    parser.add_argument(
        "--input",
        required=True,
        metavar="PATH",
        help="Parquet or CSV input: a file, a directory or a glob, e.g. 'logs/*.parquet'",
    )
    parser.add_argument(
        "--output",
        required=True,
        metavar="PATH",
        help="output directory for the slice matrix, e.g. slices.parquet; must not "
        "exist (see --overwrite)",
    )
    parser.add_argument(
        "--format",
        choices=["parquet", "csv"],
        help="input format; inferred from the file names by default",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of a running dask.distributed scheduler (e.g. tcp://host:8786), "
        "or a local scheduler name: threads, processes, synchronous",
    )
    where.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="start a local cluster of N worker processes (default: one per core)",
    )
    parser.add_argument(
        "--fault-tolerant",
        action="store_true",
        help="count rows where an SF raises as 'not in slice' and report the faults "
        "per SF, instead of stopping at the first failure",
    )
    parser.add_argument(
        "--id-column",
        metavar="COL",
        help="input column copied to the output (to join slices back to rows) and "
        "named in error messages, e.g. --id-column comment_id",
    )
    parser.add_argument(
        "--partition-size",
        metavar="BYTES",
        help="bytes of input per partition, e.g. 64MB (default: Dask's choice for "
        "Parquet, 64MB for CSV); memory per worker grows with it",
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="hide the progress bar"
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run of the same job, keeping finished partitions",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing output (only once the new one is complete)",
    )
    parser.set_defaults(handler=_run_apply)


def _run_apply(args: argparse.Namespace) -> int:
    from slicing.batch.job import run_apply_job, summary_path
    from slicing.batch.loading import load_sfs

    if args.workers is not None and args.workers < 1:
        raise BatchInputError(f"--workers must be at least 1; got {args.workers}")
    sfs = load_sfs(args.sfs)
    summary = run_apply_job(
        sfs,
        args.input,
        args.output,
        input_format=args.format,
        scheduler=args.scheduler,
        workers=args.workers,
        fault_tolerant=args.fault_tolerant,
        id_column=args.id_column,
        partition_size=args.partition_size,
        progress_bar=not args.no_progress,
        resume=args.resume,
        overwrite=args.overwrite,
    )
    print(summary.format_table())
    print(f"summary written to {summary_path(__import__('pathlib').Path(args.output))}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``slicing`` command."""
    parser = argparse.ArgumentParser(
        prog="slicing",
        description="Slice-based learning batch jobs: apply slicing functions to large "
        "Parquet/CSV datasets with Dask, and report per-slice metrics.",
        epilog="Run 'slicing COMMAND --help' for a command's options and examples.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_apply_parser(subparsers)
    try:
        from slicing.batch.report import add_report_parser
    except ImportError:  # pragma: no cover - the report needs the monitoring package
        pass
    else:
        add_report_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``slicing`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except BatchInputError as exc:
        print(f"slicing {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except (SFApplicationError, SFOutputError) as exc:
        print(f"slicing {args.command}: SF failure: {exc}", file=sys.stderr)
        print(
            "(use --fault-tolerant to count such rows instead of stopping)",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print(
            f"slicing {args.command}: interrupted; the output was not written. "
            "Rerun with --resume to continue.",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
