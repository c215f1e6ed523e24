"""The ``slicing gate`` batch job: a per-slice regression gate over a prediction log.

:func:`run_gate_job` is the Python entry point; ``slicing gate`` (in ``slicing.cli``)
parses options, calls it, prints the summary and exits 0 (pass), 1 (fail) or 3
(investigate).
"""

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

__all__ = ["GATE_FILES", "run_gate_job"]

GATE_FILES = ("gate.json", "gate.md", "gate.png", "gate_checks.csv")


def run_gate_job(
    predictions_path: str,
    out: str,
    *,
    baseline: str | list[str],
    candidate: str | list[str],
    label_column: str = "label",
    slices_path: str | None = None,
    slice_columns: list[str] | None = None,
    id_column: str | None = None,
    allow_unmatched: bool = False,
    rules_path: str | None = None,
    overwrite: bool = False,
    scheduler: str = "threads",
):
    """Gate a candidate against a baseline on a Parquet/CSV prediction log, in one pass.

    Parameters
    ----------
    predictions_path
        Prediction log (file, directory or glob) with the gold label, both models'
        predicted-label (or per-class probability) columns and, unless
        ``slices_path`` is given, one bool column per slice.
    out
        Directory for ``gate.json``, ``gate.md``, ``gate.png`` and ``gate_checks.csv``.
    baseline, candidate
        Each model's predicted-label column, or its list of probability columns.
    label_column
        Gold label column.
    slices_path
        A slice matrix written by ``slicing apply``, joined to the log on
        ``id_column`` or by row position (as in ``slicing report``).
    slice_columns
        Slice columns of the log (default: every bool column) when there is no
        ``slices_path``.
    id_column, allow_unmatched
        As in :func:`slicing.batch.report.run_report_job`.
    rules_path
        A TOML rules file (see :func:`slicing.monitor.gate_toml.load_gate_rules`);
        the default rules without it.
    overwrite
        Replace an existing gate report in ``out``.
    scheduler
        Local Dask scheduler: ``"threads"``, ``"processes"`` or ``"synchronous"``.

    Returns
    -------
    slicing.monitor.gate_result.GateResult

    Raises
    ------
    BatchInputError
        Bad input: a missing column, a bad rules file (naming the key, metric or
        slice), an existing report without ``overwrite``.
    BatchOutputError
        The report could not be written.
    """
    from slicing.monitor.gate_dask import dask_gate_slices
    from slicing.monitor.gate_toml import load_gate_rules

    out_dir = refuse_existing_output(
        out, GATE_FILES, "a gate report", overwrite=overwrite
    )
    try:
        rules = load_gate_rules(rules_path) if rules_path else None
    except (OSError, ValueError) as exc:
        raise BatchInputError(str(exc)) from exc
    predictions = read_input(predictions_path).frame
    model_columns = [
        *([baseline] if isinstance(baseline, str) else baseline),
        *([candidate] if isinstance(candidate, str) else candidate),
    ]
    needed = list(dict.fromkeys([label_column, *model_columns]))
    check_prediction_columns(predictions, needed)
    if slices_path is not None:
        slices, slice_columns = read_slice_matrix(slices_path, id_column)
        frame, _ = align_used_columns(
            slices,
            slice_columns,
            predictions,
            needed,
            id_column,
            allow_unmatched=allow_unmatched,
            scheduler=scheduler,
        )
    else:
        frame = predictions
        # Said here, in the command's words (the scoring code names its parameter).
        if slice_columns is None and not any(
            pd.api.types.is_bool_dtype(dtype)
            for column, dtype in predictions.dtypes.items()
            if column not in needed
        ):
            raise BatchInputError(
                "the predictions have no bool slice columns (they have "
                f"{list(predictions.columns)}); pass --slices (a slice matrix written "
                "by 'slicing apply') or --slice-columns"
            )
    try:
        result = dask_gate_slices(
            frame,
            label_column,
            baseline=baseline,
            candidate=candidate,
            slice_columns=slice_columns,
            rules=rules,
            scheduler=scheduler,
        )
    except (KeyError, ValueError) as exc:
        raise BatchInputError(str(exc).strip("\"'")) from exc
    payload = result.to_dict()
    payload.update(
        predictions=predictions_path, slices=slices_path, rules_file=rules_path
    )
    write_output_files(
        out_dir,
        {
            "gate_checks.csv": result.checks.to_csv,
            "gate.md": lambda p: p.write_text(result.to_markdown()),
            "gate.png": png_writer(result.plot()),
            "gate.json": json_writer(payload),
        },
        failure=f"cannot write the gate report to {out!r}",
    )
    return result
