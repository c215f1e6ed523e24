"""The regression gate from two score tables, when the models were not scored on the same rows.

Without paired rows the tests are unpaired (Agresti-Caffo for drops, exact binomial
for floors) and so need more rows than :func:`~slicing.monitor.gates.gate_slices`
to tell the same drop. Only accuracy and ``f1_micro`` are supported: a table holds
a proportion and its ``n``, from which the counts follow. A slice in one table
only is ``investigate`` for drop rules (noted), and its floors are still checked
when the candidate has it.
"""

import numpy as np
import pandas as pd

from slicing.monitor.gate_counts import PROPORTION_METRICS, rule_thresholds
from slicing.monitor.gate_result import GateResult
from slicing.monitor.gate_stats import proportion_floor_test, unpaired_drop_test
from slicing.monitor.gate_verdict import CheckRecord, decide
from slicing.monitor.gates import RulesArg, as_gate_rules
from slicing.monitor.inputs import OVERALL

__all__ = ["gate_slice_tables"]


def gate_slice_tables(
    baseline: pd.DataFrame,
    candidate: pd.DataFrame,
    *,
    rules: RulesArg = None,
    labels: tuple[str, str] = ("baseline", "candidate"),
) -> GateResult:
    """Gate from two models' score tables (from ``slice_scores`` or ``slicing report``).

    Parameters
    ----------
    baseline, candidate
        Score tables with ``n`` and the rules' metrics, indexed by slice with an
        ``overall`` row; the slices may differ.
    rules, labels
        As in :func:`~slicing.monitor.gates.gate_slices`; metrics must be accuracy
        or f1_micro.

    Returns
    -------
    GateResult

    Raises
    ------
    ValueError
        For another metric, a table lacking a rule's metric, rules naming slices
        neither table holds.

    Examples
    --------
    >>> old = pd.DataFrame({"n": [5000, 800], "accuracy": [0.9, 0.9]},
    ...                    index=pd.Index(["overall", "short"], name="slice"))
    >>> new = pd.DataFrame({"n": [5000, 800, 600], "accuracy": [0.9, 0.8, 0.9]},
    ...                    index=pd.Index(["overall", "short", "new_sf"], name="slice"))
    >>> gate_slice_tables(old, new).slices["status"].tolist()
    ['pass', 'fail', 'investigate']
    """
    rules = as_gate_rules(rules)
    unsupported = [m for m in rules.metric_names() if m not in PROPORTION_METRICS]
    if unsupported:
        raise ValueError(
            f"gate_slice_tables supports accuracy and f1_micro only; got {unsupported}. "
            "Gate on the predictions with gate_slices for other metrics"
        )
    for label, table in zip(labels, (baseline, candidate), strict=True):
        absent = [m for m in ["n", *rules.metric_names()] if m not in table.columns]
        if absent:
            raise ValueError(f"the {label} table lacks the columns {absent}")
        if OVERALL not in table.index:
            raise ValueError(f"the {label} table has no {OVERALL!r} row")
    rows = list(dict.fromkeys([*baseline.index, *candidate.index]))
    rows = [OVERALL, *(name for name in rows if name != OVERALL)]
    rules.check_slice_names(rows[1:])
    records, support = [], []
    for row in rows:
        in_base, in_cand = row in baseline.index, row in candidate.index
        base_n = int(baseline.at[row, "n"]) if in_base else 0
        cand_n = int(candidate.at[row, "n"]) if in_cand else 0
        support.append(cand_n if in_cand else base_n)
        for rule in rules.rules_for(row):
            base_value = float(baseline.at[row, rule.metric]) if in_base else np.nan
            cand_value = float(candidate.at[row, rule.metric]) if in_cand else np.nan
            for check, kind, (scale, threshold) in rule_thresholds(rule):
                cand_hits = np.array([round(cand_value * cand_n) if in_cand else 0])
                if kind == "floor":
                    excess, p, sd = proportion_floor_test(
                        cand_hits, np.array([cand_n]), threshold
                    )
                else:
                    base_hits = np.array([round(base_value * base_n) if in_base else 0])
                    excess, p, sd = unpaired_drop_test(
                        (base_hits, np.array([base_n])),
                        (cand_hits, np.array([cand_n])),
                        scale,
                        threshold,
                    )
                missing = [
                    lb
                    for lb, there in zip(labels, (in_base, in_cand), strict=True)
                    if not there
                ]
                note = (
                    f"absent from the {' and '.join(missing)} table" if missing else ""
                )
                records.append(
                    CheckRecord(
                        row,
                        rule.metric,
                        check,
                        kind,
                        support[-1],
                        base_value,
                        cand_value,
                        float(excess[0]),
                        float(p[0]),
                        float(sd[0]),
                        note,
                    )
                )
    tables = {
        label: table for label, table in zip(labels, (baseline, candidate), strict=True)
    }
    return decide(records, rows, np.array(support), rules, labels, tables)
