"""The ``slicing gate`` batch job: a per-slice regression gate over a prediction log.

:func:`run_gate_job` is the Python entry point; ``slicing gate`` (in ``slicing.cli``)
parses options, calls it, prints the summary and exits 0 (pass), 1 (fail) or 3
(investigate).
"""

from pathlib import Path

import pandas as pd

from slicing.batch.align import align_slices_and_predictions
from slicing.batch.errors import BatchInputError, BatchOutputError
from slicing.batch.io import read_input, write_atomically, write_json_atomically

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

    out_dir = Path(out)
    existing = [name for name in GATE_FILES if (out_dir / name).exists()]
    if existing and not overwrite:
        raise BatchInputError(
            f"a gate report already exists in {out!r} ({existing[0]}); pass "
            "--overwrite to replace it"
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
    missing = [c for c in needed if c not in predictions.columns]
    if missing:
        raise BatchInputError(
            f"the predictions lack the columns {missing}; they have "
            f"{list(predictions.columns)}"
        )
    if slices_path is not None:
        slices = read_input(slices_path, input_format="parquet").frame
        slice_columns = [
            c
            for c, dtype in slices.dtypes.items()
            if pd.api.types.is_bool_dtype(dtype) and c != id_column
        ]
        if not slice_columns:
            raise BatchInputError(f"{slices_path!r} has no bool slice columns")
        keys = [id_column] if id_column else []
        frame, _ = align_slices_and_predictions(
            slices[[c for c in keys if c in slices.columns] + slice_columns],
            predictions[[c for c in keys if c in predictions.columns] + needed],
            id_column,
            allow_unmatched=allow_unmatched,
            scheduler=scheduler,
        )
    else:
        frame = predictions
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
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_atomically(out_dir / "gate_checks.csv", lambda p: result.checks.to_csv(p))
        markdown = result.to_markdown()
        write_atomically(out_dir / "gate.md", lambda p: p.write_text(markdown))
        figure = result.plot()
        write_atomically(
            out_dir / "gate.png",
            lambda p: figure.savefig(p, format="png", dpi=120, bbox_inches="tight"),
        )
        payload = result.to_dict()
        payload.update(
            predictions=predictions_path, slices=slices_path, rules_file=rules_path
        )
        write_json_atomically(out_dir / "gate.json", payload)
    except OSError as exc:
        raise BatchOutputError(
            f"cannot write the gate report to {out!r}: {exc.strerror or exc}"
        ) from exc
    return result
