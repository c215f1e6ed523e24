"""``slicing estimate``: estimate performance on unlabeled data from SF outputs."""

import argparse

from slicing.cli.common import (
    JOB_EXIT_STATUS,
    add_column,
    add_command,
    add_local_scheduler,
    add_names,
    add_output_dir,
    add_path,
    print_table,
    run_job,
)

EXAMPLE = """\
examples:
  slicing estimate --source labeled.parquet --target slices.parquet \\
      --correct-column correct --out estimate/
  slicing estimate --source labeled.csv --target 'prod_slices/*.parquet' \\
      --label-column label --pred-column pred --metrics accuracy,f1 \\
      --pairs short:has_link --out estimate/

Estimates the model's performance on the unlabeled target, overall and per slice,
by reweighting the labeled source so that its SF rates match the target's
(Mandoline). The SF columns are the bool columns of the source (outcome columns
excluded), which the target must have too. Writes estimate/estimate.csv, .md, .png
and estimate.json (diagnostics and warnings, e.g. target rows whose SF pattern never
occurs in the source).
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "estimate",
        run,
        summary="estimate performance on unlabeled data from SF outputs (no labels "
        "needed)",
        description="Estimate a model's performance per slice on an unlabeled target "
        "from SF outputs on a labeled source and on the target (Mandoline).",
        epilog=EXAMPLE + JOB_EXIT_STATUS,
    )
    add_path(
        parser,
        "--source",
        "Parquet/CSV of the labeled source: bool SF columns and the outcomes",
    )
    add_path(
        parser,
        "--target",
        "Parquet/CSV of the unlabeled target's SF outputs (file, directory or "
        "glob; any size, read with Dask in one pass)",
    )
    add_column(
        parser,
        "--correct-column",
        "source column saying whether the model was right (bool or 0/1)",
    )
    add_column(parser, "--label-column", "source gold labels")
    add_column(parser, "--pred-column", "source predicted labels")
    add_names(
        parser,
        "--metrics",
        "with --label-column: comma-separated count metrics (default: accuracy)",
        metavar="NAMES",
        default="accuracy",
    )
    add_names(
        parser,
        "--sf-columns",
        "comma-separated SF columns (default: the source's bool columns)",
    )
    parser.add_argument(
        "--pairs", metavar="A:B,...", help="pair terms for correlated SFs, or 'all'"
    )
    parser.add_argument(
        "--l2", type=float, default=0.0, help="L2 penalty on the weights (default: 0)"
    )
    parser.add_argument(
        "--n-resamples",
        type=int,
        default=1000,
        metavar="N",
        help="bootstrap resamples for the intervals (default: 1000)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="bootstrap seed (default: 0)"
    )
    add_output_dir(
        parser,
        out_help="directory for the output files",
        overwrite_help="replace an existing estimate in --out",
    )
    add_local_scheduler(parser, purpose=" for the target")


def run(args: argparse.Namespace) -> int:
    from slicing.batch.estimate import run_estimate_job

    result = run_job(run_estimate_job, args, args.source, args.target, args.out)
    print_table(result.table.round(4))
    print(result.summary)
    print(f"estimate written to {args.out}/estimate.{{csv,md,png,json}}")
    return 0
