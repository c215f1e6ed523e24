"""The ``slicing estimate`` batch job: performance on unlabeled data, from SF outputs.

:func:`run_estimate_job` is the Python entry point; ``slicing estimate`` (in
``slicing.cli``) parses options, calls it and prints. The labeled source (SF columns
and outcomes) is read into memory; the unlabeled target is reduced by one Dask pass
to counts of SF patterns, so it can be any size.
"""

import warnings
from dataclasses import dataclass, field

import pandas as pd

from slicing.batch.errors import BatchInputError
from slicing.batch.io import (
    json_writer,
    png_writer,
    read_input,
    refuse_existing_output,
    write_output_files,
)
from slicing.batch.report import markdown_table

__all__ = ["ESTIMATE_FILES", "EstimateJobResult", "run_estimate_job"]

ESTIMATE_FILES = ("estimate.csv", "estimate.md", "estimate.png", "estimate.json")


@dataclass
class EstimateJobResult:
    """The table, the one-paragraph summary and the warnings of an estimate job."""

    table: pd.DataFrame
    summary: str
    notes: list[str] = field(default_factory=list)


def _pairs(text: str | None) -> list[tuple[str, str]] | str | None:
    if not text:
        return None
    if text.strip() == "all":
        return "all"
    pairs = []
    for item in text.split(","):
        names = [name.strip() for name in item.split(":")]
        if len(names) != 2 or not all(names):
            raise BatchInputError(
                f"--pairs takes SF pairs as a:b,c:d (or 'all'); got {item!r}"
            )
        pairs.append((names[0], names[1]))
    return pairs


def run_estimate_job(
    source_path: str,
    target_path: str,
    out: str,
    *,
    correct_column: str | None = None,
    label_column: str | None = None,
    pred_column: str | None = None,
    metrics: list[str] | tuple[str, ...] = ("accuracy",),
    sf_columns: list[str] | None = None,
    pairs: str | None = None,
    l2: float = 0.0,
    n_resamples: int = 1000,
    seed: int = 0,
    overwrite: bool = False,
    scheduler: str = "threads",
) -> EstimateJobResult:
    """Estimate target performance from SF outputs; write CSV, Markdown, PNG and JSON.

    Parameters
    ----------
    source_path
        Parquet/CSV of the labeled source: one bool column per SF and the outcomes
        (``correct_column``, or ``label_column`` with ``pred_column``).
    target_path
        Parquet/CSV of the unlabeled target's SF outputs (e.g. the slice matrix
        written by ``slicing apply``), any size: read with Dask in one pass.
    out
        Directory for ``estimate.{csv,md,png,json}``.
    correct_column, label_column, pred_column, metrics
        The source outcomes: per-row correctness, or gold and predicted labels with
        count metrics (see :func:`slicing.estimate.estimate_performance`).
    sf_columns
        The SF columns; by default every bool column of the source that the target
        also has.
    pairs
        Pair terms as ``"a:b,c:d"`` or ``"all"``.
    l2, n_resamples, seed
        As in :func:`slicing.estimate.estimate_performance`.
    overwrite
        Replace an existing estimate in ``out``.
    scheduler
        Local Dask scheduler for the target pass.

    Raises
    ------
    BatchInputError
        Bad input: missing files or columns, SF columns that differ between source
        and target, an empty side, NaN outcomes, an existing output.
    BatchOutputError
        The output could not be written.
    """
    from slicing.estimate import EstimateWarning, estimate_performance
    from slicing.estimate.plots import plot_performance_estimate

    out_dir = refuse_existing_output(
        out, ESTIMATE_FILES, "an estimate", overwrite=overwrite
    )
    if (correct_column is None) == (label_column is None):
        raise BatchInputError(
            "pass the source outcomes as --correct-column, or as --label-column with "
            "--pred-column"
        )
    if label_column is not None and pred_column is None:
        raise BatchInputError("--label-column needs --pred-column")
    source = read_input(source_path).frame.compute()
    target = read_input(target_path).frame
    outcome_columns = [c for c in (correct_column, label_column, pred_column) if c]
    missing = [c for c in outcome_columns if c not in source.columns]
    if missing:
        raise BatchInputError(
            f"the source {source_path!r} lacks the columns {missing}; it has "
            f"{list(source.columns)}"
        )
    if sf_columns is None:
        source_sfs = [
            c
            for c, dtype in source.dtypes.items()
            if pd.api.types.is_bool_dtype(dtype) and c not in outcome_columns
        ]
        target_sfs = [
            c for c, dtype in target.dtypes.items() if pd.api.types.is_bool_dtype(dtype)
        ]
        if sorted(source_sfs) != sorted(target_sfs):
            raise BatchInputError(
                f"the source's bool SF columns {source_sfs} differ from the target's "
                f"{target_sfs}: missing in the target "
                f"{[c for c in source_sfs if c not in target_sfs]}, not in the source "
                f"{[c for c in target_sfs if c not in source_sfs]}; pass --sf-columns "
                "to choose"
            )
        sf_columns = source_sfs
    if not sf_columns:
        raise BatchInputError(f"the source {source_path!r} has no bool SF columns")
    absent = [c for c in sf_columns if c not in target.columns]
    if absent:
        raise BatchInputError(
            f"the target {target_path!r} lacks the SF columns {absent}; it has "
            f"{list(target.columns)}"
        )
    outcomes = (
        {"correct": source[correct_column].to_numpy()}
        if correct_column
        else {
            "golds": source[label_column].to_numpy(),
            "preds": source[pred_column].to_numpy(),
            "metrics": list(metrics),
        }
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EstimateWarning)
        try:
            result = estimate_performance(
                source[sf_columns],
                target[sf_columns],
                pairs=_pairs(pairs),
                l2=l2,
                n_resamples=n_resamples,
                seed=seed,
                scheduler=scheduler,
                **outcomes,
            )
        except (TypeError, ValueError) as exc:
            raise BatchInputError(str(exc)) from exc
    notes = [str(w.message) for w in caught if issubclass(w.category, EstimateWarning)]
    summary = {
        "source": source_path,
        "target": target_path,
        "source_rows": result.n_source,
        "target_rows": result.n_target,
        "effective_sample_size": result.effective_sample_size,
        "max_rate_gap": result.max_rate_gap,
        "unsupported_target_rows": result.unsupported_target_rows,
        "converged": result.converged,
        "l2": result.l2,
        "warnings": notes,
    }
    table = result.table
    markdown = markdown_table(table) + "".join(f"\nWarning: {n}\n" for n in notes)
    write_output_files(
        out_dir,
        {
            "estimate.csv": table.to_csv,
            "estimate.md": lambda p: p.write_text(markdown),
            "estimate.png": png_writer(plot_performance_estimate(result)),
            "estimate.json": json_writer(summary),
        },
        failure=f"cannot write the estimate in {out!r}",
    )
    return EstimateJobResult(result.table, result.summary(), notes)
