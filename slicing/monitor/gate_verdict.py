"""From the per-check tests to statuses and a verdict: correction, power, criticality.

Each check (one rule threshold on one table row) is:

* not tested, ``investigate``: the row is empty, has fewer than ``min_support``
  rows, the metric is undefined there, or one model has no value for it;
* ``fail``: its p-value, adjusted across all tested checks (Holm or
  Benjamini-Hochberg), is at most ``alpha``;
* ``investigate``: not failed, but the test could not have detected an excess of
  ``detectable_drop`` with probability ``power`` at the first step of the
  correction (level ``alpha / m`` for ``m`` tested checks); ``rows_needed`` says
  at which size it could (from the observed spread, e.g. the discordance rate);
* ``pass`` otherwise.

A row takes its worst check (fail, then investigate, then pass); the verdict takes
the worst of ``overall`` and the critical slices.
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from slicing.monitor.gate_result import GateResult
from slicing.monitor.gate_rules import GateRules
from slicing.monitor.gate_stats import adjust_p_values, rows_needed
from slicing.monitor.inputs import OVERALL

__all__ = ["CheckRecord", "decide"]

_SEVERITY = {"pass": 0, "investigate": 1, "fail": 2}


@dataclass(frozen=True)
class CheckRecord:
    """One rule threshold tested on one table row (before correction)."""

    slice: str
    metric: str
    check: str
    kind: str
    n: int
    baseline: float
    candidate: float
    excess: float
    p_value: float
    sd: float
    note: str = ""


def decide(
    records: Sequence[CheckRecord],
    rows: Sequence[str],
    support: Sequence[int] | np.ndarray,
    rules: GateRules,
    labels: tuple[str, str],
    tables: dict[str, pd.DataFrame],
) -> GateResult:
    """Correct, judge every check and row, and build the :class:`GateResult`."""
    checks = pd.DataFrame([asdict(record) for record in records])
    untested = (
        (checks["n"] < rules.min_support)
        | checks["p_value"].isna()
        | checks["excess"].isna()
    ).to_numpy()
    p_values = np.where(untested, np.nan, checks["p_value"].to_numpy())
    adjusted = adjust_p_values(p_values, rules.correction)
    n_tested = int((~untested).sum())
    first_step = rules.alpha / max(n_tested, 1)
    sd = checks["sd"].to_numpy(dtype=np.float64)
    # A row without a spread of its own (empty, undefined) borrows overall's.
    fallback = checks[checks["slice"] == OVERALL].set_index("check")["sd"]
    sd = np.where(np.isnan(sd), checks["check"].map(fallback).to_numpy(float), sd)
    needed = rows_needed(sd, rules.detectable_drop, first_step, rules.power)
    needed = np.where(untested, np.fmax(needed, rules.min_support), needed)
    n = checks["n"].to_numpy()
    failed = ~untested & (adjusted <= rules.alpha)
    unsure = ~failed & (untested | (needed > n))
    checks["p_adjusted"] = adjusted
    checks["rows_needed"] = np.where(unsure, needed, np.nan)
    checks["status"] = np.select([failed, unsure], ["fail", "investigate"], "pass")
    checks["note"] = [
        _note(row, rules, labels) for row in checks.itertuples(index=False)
    ]
    checks = checks.drop(columns=["sd", "kind"])
    slices = _slice_table(checks, rows, support, rules, labels, tables)
    decisive = slices.loc[slices["critical"], "status"]
    verdict = max(decisive, key=_SEVERITY.__getitem__, default="pass")
    return GateResult(verdict, slices, checks, rules, labels, tables)


def _note(row: Any, rules: GateRules, labels: tuple[str, str]) -> str:
    if row.n == 0:
        return "no rows"
    if np.isnan(row.excess):
        values = (row.baseline, row.candidate)
        missing = [lb for lb, v in zip(labels, values, strict=True) if np.isnan(v)]
        why = row.note or f"{row.metric} undefined"
        return (
            f"not tested: no {row.metric} for {', '.join(missing) or 'a model'} ({why})"
        )
    if row.n < rules.min_support:
        return f"not tested: n={row.n} < min_support={rules.min_support}"
    if row.status == "fail":
        return (
            f"broken by {row.excess:+.3f} beyond the threshold "
            f"(adjusted p={row.p_adjusted:.2g})"
        )
    if row.status == "investigate":
        return (
            f"too few rows to detect a {rules.detectable_drop:g} excess "
            f"(needs {int(row.rows_needed):,})"
        )
    return ""


def _slice_table(
    checks: pd.DataFrame,
    rows: Sequence[str],
    support: Sequence[int] | np.ndarray,
    rules: GateRules,
    labels: tuple[str, str],
    tables: dict[str, pd.DataFrame],
) -> pd.DataFrame:
    critical = [
        name == OVERALL or rules.critical is None or name in rules.critical
        for name in rows
    ]
    slices = pd.DataFrame(
        {"n": np.asarray(support, dtype=np.int64), "critical": critical},
        index=pd.Index(rows, name="slice"),
    )
    for metric in rules.metric_names():
        for label in labels:
            table = tables[label]
            values = table[metric] if metric in table else pd.Series(dtype=float)
            slices[f"{metric}_{label}"] = values.reindex(slices.index).astype(float)
    statuses, needed, reasons = [], [], []
    for name in rows:
        own = checks[checks["slice"] == name]
        worst = max(own["status"], key=_SEVERITY.__getitem__, default="pass")
        statuses.append(worst)
        chosen = own[own["status"] == worst]
        needed.append(chosen["rows_needed"].max() if worst == "investigate" else np.nan)
        reasons.append(
            "; ".join(
                f"{c}: {note}"
                for c, note in zip(chosen["check"], chosen["note"], strict=True)
                if note
            )
        )
    slices["status"] = statuses
    slices["rows_needed"] = needed
    slices["reason"] = reasons
    return slices
