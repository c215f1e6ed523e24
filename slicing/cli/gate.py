"""``slicing gate``: per-slice regression gate of a candidate model against a baseline."""

import argparse
from pathlib import Path

from slicing.cli.common import (
    add_command,
    add_id_join,
    add_label_column,
    add_local_scheduler,
    add_names,
    add_output_dir,
    add_path,
    model_columns,
    run_job,
)

EXAMPLE = """\
examples:
  slicing gate --predictions preds.parquet --label-column label \\
      --baseline pred_old --candidate pred_new --out gate/
  slicing gate --predictions 'preds/*.parquet' --slices slices.parquet \\
      --id-column comment_id --baseline pred_old --candidate p0,p1 \\
      --rules gate.toml --out gate/

Writes gate/gate.json, gate.md (a pull-request comment), gate.png and
gate_checks.csv. Without --rules: accuracy may not drop beyond noise (McNemar
exact per slice, Holm across slices at 0.05), slices under 30 rows are not tested,
every slice is critical.
"""

EXIT_STATUS = """
exit status: 0 pass, 1 fail (a critical slice or overall breaks a rule beyond
noise), 3 investigate (nothing fails, but a critical slice has too few rows to
tell), 2 bad input or usage (a missing column, a bad rules file), 4 the output
could not be written (read-only or full disk), 130 interrupted.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "gate",
        run,
        summary="per-slice regression gate of a candidate model against a baseline",
        description="Compare two models' predictions on the same rows, slice by "
        "slice, against rules; each slice passes, fails or needs investigating.",
        epilog=EXAMPLE + EXIT_STATUS,
    )
    add_path(
        parser,
        "--predictions",
        "Parquet/CSV prediction log (file, directory or glob) with the label "
        "and both models' prediction columns",
    )
    for model, help in [
        (
            "--baseline",
            "baseline's predicted-label column, or comma-separated per-class "
            "probability columns in class order",
        ),
        ("--candidate", "the same for the candidate"),
    ]:
        parser.add_argument(
            model, required=True, type=model_columns, metavar="COLS", help=help
        )
    add_label_column(parser)
    add_path(
        parser,
        "--slices",
        "slice matrix written by 'slicing apply' (default: the log's bool columns)",
        required=False,
        dest="slices_path",
    )
    add_names(
        parser,
        "--slice-columns",
        "comma-separated slice columns of the log (default: every bool column)",
    )
    add_id_join(
        parser,
        id_help="join --slices and the log on this column",
        unmatched_help="with --id-column: gate the rows whose id is on both sides",
    )
    parser.add_argument(
        "--rules",
        dest="rules_path",
        metavar="TOML",
        help="rules file (default: the default rules)",
    )
    add_output_dir(
        parser,
        out_help="directory for the gate report",
        overwrite_help="replace an existing gate report",
    )
    add_local_scheduler(parser)


def run(args: argparse.Namespace) -> int:
    from slicing.batch.gate import run_gate_job

    result = run_job(run_gate_job, args, args.predictions, args.out)
    print(result.summary())
    out = Path(args.out)
    print(f"gate report written to {out / 'gate'}.{{json,md,png}} and gate_checks.csv")
    return result.exit_code
