"""The ``slicing report`` batch job: per-slice metrics of a prediction log, with Dask.

:func:`run_report_job` is the Python entry point; ``slicing report`` (in
``slicing.cli``) parses options, calls it and prints.
"""

from dataclasses import asdict

import pandas as pd

from slicing.batch.align import (
    align_used_columns,
    check_prediction_columns,
    read_slice_matrix,
)
from slicing.batch.errors import BatchInputError
from slicing.batch.io import (
    json_writer,
    png_writer,
    read_input,
    refuse_existing_output,
    write_output_files,
)

__all__ = ["REPORT_FILES", "markdown_table", "run_report_job"]

REPORT_FILES = (
    "slice_scores.csv",
    "slice_scores.md",
    "slice_scores.png",
    "report.json",
)


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


def run_report_job(
    slices_path: str,
    predictions_path: str,
    out: str,
    *,
    label_column: str = "label",
    pred_column: str | None = None,
    prob_columns: list[str] | None = None,
    metrics: list[str] | tuple[str, ...] = ("accuracy", "f1"),
    id_column: str | None = None,
    allow_unmatched: bool = False,
    min_support: int = 30,
    overwrite: bool = False,
    scheduler: str = "threads",
) -> pd.DataFrame:
    """Score a prediction log per slice with Dask; write CSV, Markdown, PNG and JSON.

    Parameters
    ----------
    slices_path
        A slice matrix written by ``slicing apply``.
    predictions_path
        Parquet/CSV prediction log (file, directory or glob) with the label and the
        prediction and/or probability columns.
    out
        Directory for ``slice_scores.{csv,md,png}`` and ``report.json``.
    label_column, pred_column, prob_columns, metrics, min_support
        As in :func:`slicing.monitor.dask_scores.dask_slice_scores`.
    id_column
        Join on this column; without it rows are matched by position.
    allow_unmatched
        With ``id_column``: score the matched rows when some ids have no partner,
        and say how many were left out on each side (printed and in the report).
    overwrite
        Replace an existing report in ``out``.
    scheduler
        Local Dask scheduler: ``"threads"``, ``"processes"`` or ``"synchronous"``.

    Returns
    -------
    pandas.DataFrame
        The per-slice table; ``table.attrs["id_join"]`` holds the id counts (with
        ``id_column``).

    Raises
    ------
    BatchInputError
        Bad input, an existing report without ``overwrite``, duplicated ids,
        unmatched ids without ``allow_unmatched``.
    """
    from slicing.monitor.dask_scores import dask_slice_scores

    out_dir = refuse_existing_output(out, REPORT_FILES, "a report", overwrite=overwrite)
    slices, slice_names = read_slice_matrix(slices_path, id_column)
    predictions = read_input(predictions_path).frame
    if pred_column is None and prob_columns is None:
        raise BatchInputError("pass --pred-column, --prob-columns or both")
    needed = [
        label_column,
        *([pred_column] if pred_column else []),
        *(prob_columns or []),
    ]
    check_prediction_columns(predictions, needed)
    joined, counts = align_used_columns(
        slices,
        slice_names,
        predictions,
        needed,
        id_column,
        allow_unmatched=allow_unmatched,
        scheduler=scheduler,
    )
    try:
        table = dask_slice_scores(
            joined,
            label_column,
            pred_column=pred_column,
            prob_columns=prob_columns,
            slice_columns=slice_names,
            scheduler=scheduler,
            metrics=list(metrics),
            min_support=min_support,
        )
    except (KeyError, ValueError) as exc:
        raise BatchInputError(str(exc)) from exc
    if counts is not None:
        table.attrs["id_join"] = asdict(counts)
    note = (
        f"\nJoined on `{id_column}`: {counts.matched:,} rows matched; "
        f"{counts.describe_left_out()} (left out).\n"
        if counts is not None
        else ""
    )
    summary = {
        "slices": slices_path,
        "predictions": predictions_path,
        "id_column": id_column,
        "id_join": asdict(counts) if counts is not None else None,
        "rows_scored": int(table.loc["overall", "n"]),
    }
    from slicing.monitor.plots import plot_slice_scores  # matplotlib: only to write

    write_output_files(
        out_dir,
        {
            "slice_scores.csv": table.to_csv,
            "slice_scores.md": lambda p: p.write_text(markdown_table(table) + note),
            "slice_scores.png": png_writer(plot_slice_scores(table, metrics[0])),
            "report.json": json_writer(summary),
        },
        failure=f"cannot write the report in {out!r}",
    )
    return table
