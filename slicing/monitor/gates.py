"""Per-slice regression gates: may the candidate model replace the baseline?

:func:`gate_slices` compares two models' predictions on the same rows, slice by
slice, against :class:`~slicing.monitor.gate_rules.GateRules`, and gives each slice
``pass``, ``fail`` (a rule is broken beyond noise) or ``investigate`` (too few rows
to tell either way, with the rows that would be needed). Everything is computed
from the joint counts ``counts[row, gold, baseline_pred, candidate_pred]``
(:func:`gate_from_counts`), which the Dask path
(:func:`~slicing.monitor.gate_dask.dask_gate_slices`) sums over partitions in one
pass; the statistics are in :mod:`slicing.monitor.gate_stats`.

Supported metrics: the count metrics. Accuracy (and ``f1_micro``) use exact or
closed-form paired tests; precision, recall, f1, f1_macro and matthews_corrcoef a
paired bootstrap of the joint counts (``n_resamples``, ``seed``). ``roc_auc`` and
callables are not supported (they need the rows).
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from slicing.monitor.gate_counts import (
    PROPORTION_METRICS,
    CountTests,
    paired_counts,
    rule_thresholds,
)
from slicing.monitor.gate_result import GateResult
from slicing.monitor.gate_rules import DEFAULT_RULES, GateRules
from slicing.monitor.gate_toml import load_gate_rules
from slicing.monitor.gate_verdict import CheckRecord, decide
from slicing.monitor.inputs import OVERALL, SliceMatrixLike
from slicing.monitor.options import ScoreOptions
from slicing.monitor.table import table_from_counts

__all__ = [
    "PROPORTION_METRICS",
    "as_gate_rules",
    "gate_from_counts",
    "gate_options",
    "gate_slices",
    "paired_counts",
]

_SET_BY_GATE = {
    "metrics": "the gate's metrics come from its rules",
    "min_support": "set min_support in the rules",
    "sort": "the gate keeps the slices in SF order",
}

RulesArg = GateRules | Mapping[str, Any] | str | Path | None


def gate_slices(
    golds: ArrayLike,
    S: SliceMatrixLike,
    *,
    baseline: ArrayLike,
    candidate: ArrayLike,
    rules: RulesArg = None,
    labels: tuple[str, str] = ("baseline", "candidate"),
    options: ScoreOptions | None = None,
    **option_values: Any,
) -> GateResult:
    """Gate a candidate model against a baseline, slice by slice, on the same rows.

    Parameters
    ----------
    golds
        Gold labels, shape ``(n,)``; ``abstain_label`` (-1) rows are left out.
    S
        Slice matrix (or DataFrame of bool slice columns), ``n`` rows.
    baseline, candidate
        Each model's predictions on the same rows: class labels ``(n,)`` or class
        probabilities ``(n, C)`` (argmax taken). A row missing either prediction
        (NaN or ``abstain_label``) is left out for both.
    rules
        :class:`~slicing.monitor.gate_rules.GateRules`, a TOML file path or text, a
        mapping shaped like the TOML, or ``None`` for the defaults (accuracy may
        not drop beyond noise; see :mod:`slicing.monitor.gate_rules`).
    labels
        Names of the two models in the tables and renderings.
    options, **option_values
        Scoring options (:class:`~slicing.monitor.options.ScoreOptions`):
        ``abstain_label``, ``nan_policy``, ``ci`` (intervals of the plot),
        ``n_resamples`` and ``seed`` (bootstrap metrics). ``metrics``,
        ``min_support`` and ``sort`` come from the rules.

    Returns
    -------
    GateResult
        ``.verdict``, ``.exit_code`` (0 pass, 1 fail, 3 investigate), ``.slices``,
        ``.checks``, ``.to_json()``, ``.to_markdown()``, ``.plot()``.

    Raises
    ------
    ValueError
        For mismatched lengths, invalid labels, rules naming slices that ``S`` lacks.

    Examples
    --------
    >>> from slicing.matrix import make_slice_matrix
    >>> rng = np.random.default_rng(0)
    >>> golds = rng.integers(0, 2, 4000)
    >>> S = make_slice_matrix(rng.random((4000, 2)) < [0.5, 0.005], ["half", "tiny"])
    >>> baseline = np.where(rng.random(4000) < 0.9, golds, 1 - golds)
    >>> # The candidate breaks a fifth of the rows of 'half' (outside 'tiny').
    >>> broken = S["half"] & ~S["tiny"] & (rng.random(4000) < 0.2)
    >>> candidate = np.where(broken, 1 - golds, baseline)
    >>> result = gate_slices(golds, S, baseline=baseline, candidate=candidate)
    >>> result.verdict, result.exit_code
    ('fail', 1)
    >>> result.slices[["n", "status", "rows_needed"]]
                n       status  rows_needed
    slice
    overall  4000         fail          NaN
    half     1992         fail          NaN
    tiny       20  investigate        143.0
    """
    rules = as_gate_rules(rules)
    options = gate_options(options, **option_values)
    joint, slice_names, _ = paired_counts(golds, S, baseline, candidate, options)
    return gate_from_counts(
        joint, slice_names, rules=rules, options=options, labels=labels
    )


def as_gate_rules(rules: RulesArg) -> GateRules:
    """``rules`` as :class:`GateRules`: ``None`` gives the defaults, paths are read."""
    if rules is None:
        return DEFAULT_RULES
    if isinstance(rules, GateRules):
        return rules
    if isinstance(rules, str | Path | Mapping):
        return load_gate_rules(rules)
    raise TypeError(
        "rules must be GateRules, a TOML path or text, a mapping or None; got "
        f"{type(rules).__name__}"
    )


def gate_options(
    options: ScoreOptions | None = None, **option_values: Any
) -> ScoreOptions:
    """Scoring options for a gate (``metrics``, ``min_support``, ``sort`` refused)."""
    return ScoreOptions.of(options, _SET_BY_GATE, **option_values)


def gate_from_counts(
    joint: np.ndarray,
    slice_names: list[str],
    *,
    rules: RulesArg = None,
    options: ScoreOptions | None = None,
    labels: tuple[str, str] = ("baseline", "candidate"),
) -> GateResult:
    """The gate's kernel: test every rule on joint counts ``(1 + k, C, C, C)``.

    ``joint[0]`` is overall; ``joint[1 + j, gold, baseline_pred, candidate_pred]``
    counts the rows of slice ``j``. Equal counts give equal results, whichever
    path (in memory, Dask) produced them.

    Examples
    --------
    >>> joint = np.zeros((2, 2, 2, 2), dtype=int)
    >>> joint[:, 0, 0, 0] = joint[:, 1, 1, 1] = [400, 40]  # both right
    >>> joint[:, 1, 1, 0] = [55, 10]                       # only the baseline right
    >>> joint[:, 1, 0, 1] = [45, 0]                        # only the candidate right
    >>> gate_from_counts(joint, ["a"]).slices["status"].tolist()
    ['pass', 'fail']
    """
    rules = as_gate_rules(rules)
    rules.check_slice_names(slice_names)
    if labels[0] == labels[1]:
        raise ValueError(f"labels must differ; got {labels}")
    metric_names = rules.metric_names()
    options = ScoreOptions.of(
        options, metrics=metric_names, sort=False, min_support=rules.min_support
    )
    joint = np.asarray(joint)
    tables = {
        labels[0]: table_from_counts(joint.sum(axis=3), slice_names, options),
        labels[1]: table_from_counts(joint.sum(axis=2), slice_names, options),
    }
    rows = [OVERALL, *slice_names]
    n = joint.sum(axis=(1, 2, 3))
    tests = CountTests(joint, options)
    records = []
    for position, row in enumerate(rows):
        for rule in rules.rules_for(row):
            for check, kind, value in rule_thresholds(rule):
                excess, p, sd = tests.run(rule.metric, kind, value)
                note = tables[labels[1]]["note"].iloc[position]
                records.append(
                    CheckRecord(
                        row,
                        rule.metric,
                        check,
                        kind,
                        int(n[position]),
                        float(tables[labels[0]][rule.metric].iloc[position]),
                        float(tables[labels[1]][rule.metric].iloc[position]),
                        float(excess[position]),
                        float(p[position]),
                        float(sd[position]),
                        note,
                    )
                )
    return decide(records, rows, n, rules, labels, tables)
