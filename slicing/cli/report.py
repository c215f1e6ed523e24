"""``slicing report``: per-slice metrics of a prediction log."""

import argparse

from slicing.cli.common import (
    JOB_EXIT_STATUS,
    add_column,
    add_command,
    add_id_join,
    add_label_column,
    add_local_scheduler,
    add_names,
    add_output_dir,
    add_path,
    print_table,
    run_job,
)

EXAMPLE = """\
examples:
  slicing report --slices slices.parquet --predictions preds.parquet \\
      --label-column label --pred-column pred --out report/
  slicing report --slices slices.parquet --predictions 'preds/*.parquet' \\
      --label-column y --prob-columns p0,p1 --metrics accuracy,f1 \\
      --id-column comment_id --out report/

Writes report/slice_scores.csv, .md, .png and report/report.json. Without
--id-column, the slices and the predictions are matched row by row, by position (as
when the predictions file is the input 'slicing apply' sliced; the two may be
partitioned differently but must have the same number of rows); with it, they are
joined on that column: repeated ids are refused, and ids found on one side only are
refused unless --allow-unmatched (then the rows left out are counted in the report).
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "report",
        run,
        summary="per-slice metrics (table and plot) of a prediction log, computed with "
        "Dask",
        description="Score predictions per slice with confidence intervals, from a "
        "slice matrix written by 'slicing apply' and a prediction log.",
        epilog=EXAMPLE + JOB_EXIT_STATUS,
    )
    add_path(parser, "--slices", "slice matrix written by 'slicing apply'")
    add_path(
        parser,
        "--predictions",
        "Parquet/CSV prediction log (file, directory or glob) with the label and "
        "prediction columns",
    )
    add_label_column(parser)
    add_column(parser, "--pred-column", "predicted label column, e.g. pred")
    add_names(
        parser,
        "--prob-columns",
        "comma-separated per-class probability columns in class order, e.g. p0,p1 "
        "(used for the prediction when --pred-column is absent)",
    )
    add_names(
        parser,
        "--metrics",
        "comma-separated metrics: accuracy, precision, recall, f1, f1_micro, f1_macro, "
        "matthews_corrcoef (default: accuracy,f1; use accuracy,f1_macro for multiclass)",
        metavar="NAMES",
        default="accuracy,f1",
    )
    add_id_join(
        parser,
        id_help="join slices and predictions on this column",
        unmatched_help="with --id-column: score the rows whose id is on both sides "
        "when some are not, and report how many were left out on each side (refused "
        "otherwise)",
    )
    parser.add_argument(
        "--min-support",
        type=int,
        default=30,
        metavar="N",
        help="slices with fewer rows are flagged (default: 30)",
    )
    add_output_dir(
        parser,
        out_help="directory for the CSV, Markdown and PNG files",
        overwrite_help="replace an existing report in --out",
    )
    add_local_scheduler(parser)


def run(args: argparse.Namespace) -> int:
    from slicing.batch.report import run_report_job

    table = run_job(run_report_job, args, args.slices, args.predictions, args.out)
    print_table(table)
    join = table.attrs.get("id_join")
    if join is not None:
        print(
            f"joined on {args.id_column!r}: {join['matched']:,} rows matched; "
            f"left out: {join['predictions_unmatched']:,} prediction rows without a "
            f"slice row, {join['slices_unmatched']:,} slice rows without a prediction"
        )
    print(f"report written to {args.out}/slice_scores.{{csv,md,png}} and report.json")
    return 0
