"""The ``slicing report`` batch job: per-slice metrics of a prediction log, with Dask."""

import argparse
from pathlib import Path

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd

from slicing.batch.errors import BatchInputError
from slicing.batch.io import read_input, write_atomically

__all__ = ["add_report_parser", "align_slices_and_predictions", "run_report"]

REPORT_EXAMPLE = """\
examples:
  slicing report --slices slices.parquet --predictions preds.parquet \\
      --label-column label --pred-column pred --out report/
  slicing report --slices slices.parquet --predictions 'preds/*.parquet' \\
      --label-column y --prob-columns p0,p1 --metrics accuracy,f1 \\
      --id-column comment_id --out report/

Writes report/slice_scores.csv, report/slice_scores.md and report/slice_scores.png.
Without --id-column, the slices and the predictions are matched row by row, by
position (as when the predictions file is the input 'slicing apply' sliced; the two
may be partitioned differently but must have the same number of rows); with it,
they are joined on that column.
"""


def add_report_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``slicing report`` on the command's subparsers."""
    parser = subparsers.add_parser(
        "report",
        help="per-slice metrics (table and plot) of a prediction log, computed with Dask",
        description="Score predictions per slice with confidence intervals, from a "
        "slice matrix written by 'slicing apply' and a prediction log.",
        epilog=REPORT_EXAMPLE,
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
        help="Parquet/CSV prediction log (file, directory or glob) with the label and prediction columns",
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
        "--scheduler",
        metavar="NAME",
        default="threads",
        help="local Dask scheduler: threads (default), processes, synchronous",
    )
    parser.set_defaults(handler=run_report)


def _paired(
    slices: pd.DataFrame, predictions: pd.DataFrame, partition: int
) -> pd.DataFrame:
    if len(slices) != len(predictions):
        raise ValueError(
            f"partition {partition}: {len(slices)} slice rows but {len(predictions)} "
            "prediction rows; pass --id-column to join on an id instead"
        )
    overlap = set(slices.columns) & set(predictions.columns)
    return pd.concat(
        [
            predictions.reset_index(drop=True),
            slices.drop(columns=list(overlap)).reset_index(drop=True),
        ],
        axis=1,
    )


def _rows_between(
    parts: list[pd.DataFrame], starts: list[int], start: int, stop: int
) -> pd.DataFrame:
    """Rows ``start:stop`` (global positions) of consecutive partitions ``parts``."""
    pieces = [
        part.iloc[max(start - first, 0) : stop - first]
        for part, first in zip(parts, starts, strict=True)
    ]
    return pd.concat(pieces, ignore_index=True)


def _regroup_like(
    frame_parts: list, frame_lengths: list[int], target_lengths: list[int]
) -> list:
    """Delayed frames holding the rows of each target partition, gathered from the
    delayed partitions ``frame_parts`` (of ``frame_lengths`` rows) that overlap it."""
    frame_ends = np.cumsum(frame_lengths)
    frame_starts = frame_ends - np.asarray(frame_lengths)
    target_ends = np.cumsum(target_lengths)
    regrouped = []
    for start, stop in zip(
        (target_ends - np.asarray(target_lengths)).tolist(),
        target_ends.tolist(),
        strict=True,
    ):
        # Partitions ending after ``start`` and starting before ``stop``; empty
        # partitions inside that range contribute nothing and are skipped.
        first = int(np.searchsorted(frame_ends, start, side="right"))
        last = int(np.searchsorted(frame_starts, stop, side="left"))
        overlapping = [j for j in range(first, last) if frame_lengths[j] > 0]
        regrouped.append(
            dask.delayed(_rows_between)(
                [frame_parts[j] for j in overlapping],
                [int(frame_starts[j]) for j in overlapping],
                start,
                stop,
            )
        )
    return regrouped


def align_slices_and_predictions(
    slices: dd.DataFrame, predictions: dd.DataFrame, id_column: str | None
) -> dd.DataFrame:
    """One Dask DataFrame with the prediction columns and the slice columns.

    Joined on ``id_column`` when given; otherwise matched row by row, by position in
    the whole file. Partitions are paired directly when both sides are partitioned
    alike (as when the predictions are the input ``slicing apply`` sliced); otherwise
    each slice partition gathers its rows from the prediction partitions that overlap
    it, so memory stays bounded by partition size.

    Raises
    ------
    BatchInputError
        A missing id column, or (without one) different row counts.
    """
    if id_column is not None:
        for name, frame in (("slices", slices), ("predictions", predictions)):
            if id_column not in frame.columns:
                raise BatchInputError(
                    f"--id-column {id_column!r} is not a column of the {name}"
                )
        return predictions.merge(slices, on=id_column, how="inner")
    # Count rows on the very partitions that are paired below: dask-expr may fuse
    # the partitions of a column-projected Parquet read in ``map_partitions`` but
    # not in ``to_delayed``, so ``map_partitions(len)`` can describe other
    # partitions than the ones paired.
    slice_parts, prediction_parts = slices.to_delayed(), predictions.to_delayed()
    slice_lengths, prediction_lengths = (
        [int(n) for n in lengths]
        for lengths in dask.compute(
            [dask.delayed(len)(part) for part in slice_parts],
            [dask.delayed(len)(part) for part in prediction_parts],
        )
    )
    n_slices, n_predictions = sum(slice_lengths), sum(prediction_lengths)
    if n_slices != n_predictions:
        raise BatchInputError(
            f"the slices have {n_slices:,} rows and the predictions {n_predictions:,}: "
            "they cannot be matched row by row; pass --id-column to join on an id"
        )
    if slice_lengths != prediction_lengths:
        prediction_parts = _regroup_like(
            prediction_parts, prediction_lengths, slice_lengths
        )
    meta = _paired(slices._meta, predictions._meta, 0)
    parts = [
        dask.delayed(_paired)(s, p, i)
        for i, (s, p) in enumerate(zip(slice_parts, prediction_parts, strict=True))
    ]
    return dd.from_delayed(parts, meta=meta, verify_meta=False)


def markdown_table(table: pd.DataFrame) -> str:
    """Render a score table (index included) as a Markdown table, floats to 4 places."""
    frame = table.reset_index()
    cells = [
        [f"{v:.4g}" if isinstance(v, float) else str(v) for v in row]
        for row in frame.itertuples(index=False)
    ]
    lines = [
        "| " + " | ".join(map(str, frame.columns)) + " |",
        "|" + "---|" * frame.shape[1],
    ]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines) + "\n"


def run_report(args: argparse.Namespace) -> int:
    """Compute the per-slice table with Dask and write CSV, Markdown and PNG."""
    from slicing.monitor.dask_scores import dask_slice_scores
    from slicing.monitor.plots import plot_slice_scores

    slices = read_input(args.slices, "parquet")
    predictions = read_input(args.predictions)
    slice_names = [
        c
        for c, dtype in slices.dtypes.items()
        if pd.api.types.is_bool_dtype(dtype) and c != args.id_column
    ]
    if not slice_names:
        raise BatchInputError(f"{args.slices!r} has no bool slice columns")
    prob_columns = args.prob_columns.split(",") if args.prob_columns else None
    if args.pred_column is None and prob_columns is None:
        raise BatchInputError("pass --pred-column, --prob-columns or both")
    needed = [
        args.label_column,
        *([args.pred_column] if args.pred_column else []),
        *(prob_columns or []),
    ]
    missing = [c for c in needed if c not in predictions.columns]
    if missing:
        raise BatchInputError(
            f"the predictions lack the columns {missing}; they have {list(predictions.columns)}"
        )
    # Read only the columns the report uses: aligning by row position takes a pass
    # over both inputs to count rows, and a wide prediction log would otherwise be
    # read in full twice. (A missing id column is reported by the alignment.)
    keys = [args.id_column] if args.id_column else []
    predictions = predictions[
        [c for c in keys if c in predictions.columns] + list(dict.fromkeys(needed))
    ]
    slices = slices[[c for c in keys if c in slices.columns] + slice_names]
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    with dask.config.set(scheduler=args.scheduler):
        joined = align_slices_and_predictions(slices, predictions, args.id_column)
        try:
            table = dask_slice_scores(
                joined,
                args.label_column,
                pred_column=args.pred_column,
                prob_columns=prob_columns,
                slice_columns=slice_names,
                metrics=metrics,
                min_support=args.min_support,
            )
        except (KeyError, ValueError) as exc:
            raise BatchInputError(str(exc)) from exc
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_atomically(out / "slice_scores.csv", lambda p: table.to_csv(p))
    write_atomically(
        out / "slice_scores.md", lambda p: p.write_text(markdown_table(table))
    )
    figure = plot_slice_scores(table, metrics[0])
    write_atomically(
        out / "slice_scores.png",
        lambda p: figure.savefig(p, format="png", dpi=120, bbox_inches="tight"),
    )
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(table.to_string())
    print(f"report written to {out}/slice_scores.{{csv,md,png}}")
    return 0
