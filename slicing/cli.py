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
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from slicing.batch.errors import BatchInputError, BatchOutputError
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
The input is never modified: an output that is, holds or lies inside an input is
refused, and --overwrite replaces only an earlier 'slicing apply' output.
"""

EXIT_STATUS = """\
exit status: 0 done, 1 an SF failed, 2 bad input or usage (also: another run holds
the output's lock), 4 the output could not be written (read-only or full disk;
staged partitions are kept for --resume), 130 interrupted.
"""

REPORT_EXAMPLE = """\
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


def _add_apply_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "apply",
        help="apply SFs to Parquet/CSV data and write the slice matrix as Parquet",
        description="Apply slicing functions to Parquet/CSV data with Dask and write "
        "the slice matrix as Parquet, atomically.",
        epilog=APPLY_EXAMPLE + EXIT_STATUS,
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
        help="replace an existing output of 'slicing apply' (only once the new one is "
        "complete); any other existing path is refused",
    )
    parser.set_defaults(handler=_run_apply)


def _add_report_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="per-slice metrics (table and plot) of a prediction log, computed with Dask",
        description="Score predictions per slice with confidence intervals, from a "
        "slice matrix written by 'slicing apply' and a prediction log.",
        epilog=REPORT_EXAMPLE + EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--slices",
        required=True,
        metavar="PATH",
        help="slice matrix written by 'slicing apply'",
    )
    parser.add_argument(
        "--predictions",
        required=True,
        metavar="PATH",
        help="Parquet/CSV prediction log (file, directory or glob) with the label and "
        "prediction columns",
    )
    parser.add_argument(
        "--label-column",
        default="label",
        metavar="COL",
        help="gold label column (default: label)",
    )
    parser.add_argument(
        "--pred-column", metavar="COL", help="predicted label column, e.g. pred"
    )
    parser.add_argument(
        "--prob-columns",
        metavar="COLS",
        help="comma-separated per-class probability columns in class order, e.g. p0,p1 "
        "(used for the prediction when --pred-column is absent)",
    )
    parser.add_argument(
        "--metrics",
        default="accuracy,f1",
        metavar="NAMES",
        help="comma-separated metrics: accuracy, precision, recall, f1, f1_micro, f1_macro, "
        "matthews_corrcoef (default: accuracy,f1; use accuracy,f1_macro for multiclass)",
    )
    parser.add_argument(
        "--id-column", metavar="COL", help="join slices and predictions on this column"
    )
    parser.add_argument(
        "--allow-unmatched",
        action="store_true",
        help="with --id-column: score the rows whose id is on both sides when some are "
        "not, and report how many were left out on each side (refused otherwise)",
    )
    parser.add_argument(
        "--min-support",
        type=int,
        default=30,
        metavar="N",
        help="slices with fewer rows are flagged (default: 30)",
    )
    parser.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="directory for the CSV, Markdown and PNG files",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing report in --out"
    )
    parser.add_argument(
        "--scheduler",
        metavar="NAME",
        default="threads",
        choices=["threads", "processes", "synchronous"],
        help="local Dask scheduler: threads (default), processes, synchronous",
    )
    parser.set_defaults(handler=_run_report)


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
    print(f"summary written to {summary_path(Path(args.output))}")
    return 0


def _run_report(args: argparse.Namespace) -> int:
    import pandas as pd

    from slicing.batch.report import run_report_job

    table = run_report_job(
        args.slices,
        args.predictions,
        args.out,
        label_column=args.label_column,
        pred_column=args.pred_column,
        prob_columns=args.prob_columns.split(",") if args.prob_columns else None,
        metrics=[m.strip() for m in args.metrics.split(",") if m.strip()],
        id_column=args.id_column,
        allow_unmatched=args.allow_unmatched,
        min_support=args.min_support,
        overwrite=args.overwrite,
        scheduler=args.scheduler,
    )
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(table.to_string())
    join = table.attrs.get("id_join")
    if join is not None:
        print(
            f"joined on {args.id_column!r}: {join['matched']:,} rows matched; "
            f"left out: {join['predictions_unmatched']:,} prediction rows without a "
            f"slice row, {join['slices_unmatched']:,} slice rows without a prediction"
        )
    print(f"report written to {args.out}/slice_scores.{{csv,md,png}} and report.json")
    return 0


GATE_EXAMPLE = """\
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

exit status: 0 pass, 1 fail (a critical slice or overall breaks a rule beyond
noise), 3 investigate (nothing fails, but a critical slice has too few rows to
tell), 2 bad input or usage (a missing column, a bad rules file), 130 interrupted.
"""


def _add_gate_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "gate",
        help="per-slice regression gate of a candidate model against a baseline",
        description="Compare two models' predictions on the same rows, slice by "
        "slice, against rules; each slice passes, fails or needs investigating.",
        epilog=GATE_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--predictions",
        required=True,
        metavar="PATH",
        help="Parquet/CSV prediction log (file, directory or glob) with the label "
        "and both models' prediction columns",
    )
    parser.add_argument(
        "--baseline",
        required=True,
        metavar="COLS",
        help="baseline's predicted-label column, or comma-separated per-class "
        "probability columns in class order",
    )
    parser.add_argument(
        "--candidate", required=True, metavar="COLS", help="the same for the candidate"
    )
    parser.add_argument(
        "--label-column",
        default="label",
        metavar="COL",
        help="gold label column (default: label)",
    )
    parser.add_argument(
        "--slices",
        metavar="PATH",
        help="slice matrix written by 'slicing apply' (default: the log's bool columns)",
    )
    parser.add_argument(
        "--slice-columns",
        metavar="COLS",
        help="comma-separated slice columns of the log (default: every bool column)",
    )
    parser.add_argument(
        "--id-column", metavar="COL", help="join --slices and the log on this column"
    )
    parser.add_argument(
        "--allow-unmatched",
        action="store_true",
        help="with --id-column: gate the rows whose id is on both sides",
    )
    parser.add_argument(
        "--rules", metavar="TOML", help="rules file (default: the default rules)"
    )
    parser.add_argument(
        "--out", required=True, metavar="DIR", help="directory for the gate report"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing gate report"
    )
    parser.add_argument(
        "--scheduler",
        metavar="NAME",
        default="threads",
        choices=["threads", "processes", "synchronous"],
        help="local Dask scheduler: threads (default), processes, synchronous",
    )
    parser.set_defaults(handler=_run_gate)


def _run_gate(args: argparse.Namespace) -> int:
    from slicing.batch.gate import run_gate_job

    def columns(text: str) -> str | list[str]:
        names = [name.strip() for name in text.split(",") if name.strip()]
        return names[0] if len(names) == 1 else names

    result = run_gate_job(
        args.predictions,
        args.out,
        baseline=columns(args.baseline),
        candidate=columns(args.candidate),
        label_column=args.label_column,
        slices_path=args.slices,
        slice_columns=[c.strip() for c in args.slice_columns.split(",")]
        if args.slice_columns
        else None,
        id_column=args.id_column,
        allow_unmatched=args.allow_unmatched,
        rules_path=args.rules,
        overwrite=args.overwrite,
        scheduler=args.scheduler,
    )
    print(result.summary())
    print(f"gate report written to {args.out}/gate.{{json,md,png}} and gate_checks.csv")
    return result.exit_code


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
    _add_report_parser(subparsers)
    _add_gate_parser(subparsers)
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
    except BatchInputError as exc:
        print(f"slicing {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BatchOutputError as exc:
        print(f"slicing {args.command}: error: {exc}", file=sys.stderr)
        return 4
    except (SFApplicationError, SFOutputError) as exc:
        print(f"slicing {args.command}: SF failure: {exc}", file=sys.stderr)
        print(
            "(use --fault-tolerant to count such rows instead of stopping)",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        resume = " Rerun with --resume to continue." if args.command == "apply" else ""
        print(
            f"slicing {args.command}: interrupted; the output was not written.{resume}",
            file=sys.stderr,
        )
        return 130
    finally:
        notes.removeHandler(handler)
        notes.propagate = True


if __name__ == "__main__":
    sys.exit(main())
