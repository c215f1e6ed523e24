"""The ``slicing report`` batch job: per-slice metrics of a prediction log, with Dask.

:func:`run_report_job` is the Python entry point; ``slicing report`` (in
``slicing.cli``) parses options, calls it and prints.
"""

from dataclasses import asdict
from pathlib import Path

import pandas as pd

from slicing.batch.align import align_slices_and_predictions
from slicing.batch.errors import BatchInputError, BatchOutputError
from slicing.batch.io import read_input, write_atomically, write_json_atomically

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

    out_dir = Path(out)
    existing = [name for name in REPORT_FILES if (out_dir / name).exists()]
    if existing and not overwrite:
        raise BatchInputError(
            f"a report already exists in {out!r} ({existing[0]}); pass --overwrite "
            "to replace it"
        )
    slices = read_input(slices_path, input_format="parquet").frame
    predictions = read_input(predictions_path).frame
    slice_names = [
        c
        for c, dtype in slices.dtypes.items()
        if pd.api.types.is_bool_dtype(dtype) and c != id_column
    ]
    if not slice_names:
        raise BatchInputError(f"{slices_path!r} has no bool slice columns")
    if pred_column is None and prob_columns is None:
        raise BatchInputError("pass --pred-column, --prob-columns or both")
    needed = [
        label_column,
        *([pred_column] if pred_column else []),
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
    keys = [id_column] if id_column else []
    predictions = predictions[
        [c for c in keys if c in predictions.columns] + list(dict.fromkeys(needed))
    ]
    slices = slices[[c for c in keys if c in slices.columns] + slice_names]
    joined, counts = align_slices_and_predictions(
        slices,
        predictions,
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
    try:
        _write_report(out_dir, table, note, summary, metrics[0])
    except OSError as exc:
        raise BatchOutputError(
            f"cannot write the report in {out!r}: {exc.strerror or exc}"
        ) from exc
    return table


def _write_report(
    out_dir: Path, table: pd.DataFrame, note: str, summary: dict, metric: str
) -> None:
    """Write the CSV, Markdown, PNG and JSON files of a report, each atomically."""
    from slicing.monitor.plots import plot_slice_scores

    out_dir.mkdir(parents=True, exist_ok=True)
    write_atomically(out_dir / "slice_scores.csv", lambda p: table.to_csv(p))
    write_atomically(
        out_dir / "slice_scores.md",
        lambda p: p.write_text(markdown_table(table) + note),
    )
    figure = plot_slice_scores(table, metric)
    write_atomically(
        out_dir / "slice_scores.png",
        lambda p: figure.savefig(p, format="png", dpi=120, bbox_inches="tight"),
    )
    write_json_atomically(out_dir / "report.json", summary)
