"""``slicing apply``: apply SFs to Parquet/CSV data and write the slice matrix."""

import argparse
from pathlib import Path

from slicing.batch.errors import BatchInputError
from slicing.cli.common import (
    LOCAL_SCHEDULERS,
    add_column,
    add_command,
    add_path,
    run_job,
)

EXAMPLE = """\
examples:
  slicing apply --sfs my_sfs.py --input comments/ --output slices.parquet
  slicing apply --sfs my_package.sfs:SFS --input 'logs/*.csv' --output s.parquet \\
      --workers 4 --id-column comment_id --fault-tolerant
  slicing apply --sfs my_sfs --input data.parquet --output s.parquet \\
      --scheduler tcp://10.0.0.5:8786 --resume
  slicing apply --sfs my_sfs.py --input comments/ --output slices.parquet \\
      --engine spark --spark-master spark://head:7077

The output is a directory of Parquet files (one per input partition, in input order)
with the id column (if given) and one bool column per SF, plus OUTPUT.summary.json.
It appears only when complete; an interrupted run can be continued with --resume.
The input is never modified: an output that is, holds or lies inside an input is
refused, and --overwrite replaces only an earlier 'slicing apply' output.
"""

EXIT_STATUS = """
exit status: 0 done, 1 an SF failed, 2 bad input or usage (also: another run holds
the output's lock), 4 the output could not be written (read-only or full disk;
staged partitions are kept for --resume), 130 interrupted.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "apply",
        run,
        summary="apply SFs to Parquet/CSV data and write the slice matrix as Parquet",
        description="Apply slicing functions to Parquet/CSV data with Dask (or Spark: "
        "--engine spark) and write the slice matrix as Parquet, atomically.",
        epilog=EXAMPLE + EXIT_STATUS,
    )
    parser.add_argument(
        "--sfs",
        required=True,
        metavar="MODULE[:NAME]",
        help="where the SFs are: MODULE:NAME (an SF or a list of SFs) or MODULE (every "
        "SF it defines); MODULE is a dotted module name or a path to a .py file, "
        "e.g. my_sfs.py or my_package.sfs:SFS",
    )
    add_path(
        parser,
        "--input",
        "Parquet or CSV input: a file, a directory or a glob, e.g. 'logs/*.parquet'",
    )
    add_path(
        parser,
        "--output",
        "output directory for the slice matrix, e.g. slices.parquet; must not "
        "exist (see --overwrite)",
    )
    parser.add_argument(
        "--format",
        dest="input_format",
        choices=["parquet", "csv"],
        help="input format; inferred from the file names by default",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of a running dask.distributed scheduler (e.g. tcp://host:8786), "
        "or a local scheduler name: " + ", ".join(LOCAL_SCHEDULERS),
    )
    where.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="start a local cluster of N worker processes (default: one per core)",
    )
    parser.add_argument(
        "--engine",
        choices=["dask", "spark"],
        default="dask",
        help="run the partitions on Dask (default) or as Spark tasks (needs "
        "slicing[spark]); the output is the same",
    )
    parser.add_argument(
        "--spark-master",
        metavar="URL",
        help="with --engine spark: the Spark master, e.g. spark://host:7077 or "
        "sc://host:15002 (Spark Connect); default local[N] with N = --workers or one "
        "per core",
    )
    parser.add_argument(
        "--fault-tolerant",
        action="store_true",
        help="count rows where an SF raises as 'not in slice' and report the faults "
        "per SF, instead of stopping at the first failure",
    )
    add_column(
        parser,
        "--id-column",
        "input column copied to the output (to join slices back to rows) and "
        "named in error messages, e.g. --id-column comment_id",
    )
    parser.add_argument(
        "--partition-size",
        metavar="BYTES",
        help="bytes of input per partition, e.g. 64MB (default: Dask's choice for "
        "Parquet, 64MB for CSV); memory per worker grows with it",
    )
    parser.add_argument(
        "--no-progress",
        dest="progress_bar",
        action="store_false",
        help="hide the progress bar",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run of the same job, keeping finished partitions",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing output of 'slicing apply' (only once the new one is "
        "complete); any other existing path is refused",
    )


def run(args: argparse.Namespace) -> int:
    from slicing.batch.job import run_apply_job, summary_path
    from slicing.batch.loading import load_sfs

    if args.workers is not None and args.workers < 1:
        raise BatchInputError(f"--workers must be at least 1; got {args.workers}")
    if args.engine == "spark" and args.scheduler:
        raise BatchInputError(
            "--scheduler is for the Dask engine; with --engine spark use --spark-master"
        )
    if args.spark_master and args.engine != "spark":
        raise BatchInputError("--spark-master needs --engine spark")
    summary = run_job(run_apply_job, args, load_sfs(args.sfs), args.input, args.output)
    print(summary.format_table())
    print(f"summary written to {summary_path(Path(args.output))}")
    return 0
