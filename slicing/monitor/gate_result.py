"""The outcome of a regression gate: per-check and per-slice tables, verdict, renderings.

Exit codes (:data:`EXIT_CODES`), for CI: 0 ``pass``, 1 ``fail`` (a critical slice,
or overall, breaks a rule beyond noise), 3 ``investigate`` (nothing fails, but a
critical slice is too small or undefined to tell).
"""

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from slicing.monitor.gate_rules import GateRules

__all__ = ["EXIT_CODES", "GateResult"]

#: Exit status of a CI step for each verdict.
EXIT_CODES = {"pass": 0, "fail": 1, "investigate": 3}

#: Marks used in the Markdown rendering.
_MARKS = {"pass": "pass", "fail": "**FAIL**", "investigate": "investigate"}
_COLORS = {"pass": "tab:green", "fail": "tab:red", "investigate": "tab:orange"}


@dataclass(frozen=True)
class GateResult:
    """A gate's outcome.

    Attributes
    ----------
    verdict
        ``"pass"``, ``"fail"`` or ``"investigate"``, from ``overall`` and the
        critical slices.
    slices
        One row per table row (``overall`` first, then the slices in SF order):
        ``n``, ``critical``, per metric the baseline and candidate values, then
        ``status``, ``rows_needed`` (for ``investigate``: rows at which the
        gate could tell) and ``reason``.
    checks
        One row per (table row, rule): ``slice``, ``check``, ``n``, ``baseline``,
        ``candidate``, ``excess`` (how far past the threshold; > 0 breaks it),
        ``p_value``, ``p_adjusted``, ``rows_needed``, ``status``, ``note``.
    rules
        The rules applied.
    labels
        Names of the two models.
    tables
        The two models' score tables (for the plot), keyed by label.
    """

    verdict: str
    slices: pd.DataFrame
    checks: pd.DataFrame
    rules: GateRules
    labels: tuple[str, str] = ("baseline", "candidate")
    tables: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def exit_code(self) -> int:
        """0 pass, 1 fail, 3 investigate (see :data:`EXIT_CODES`)."""
        return EXIT_CODES[self.verdict]

    @property
    def table(self) -> pd.DataFrame:
        """The per-slice table (same as :attr:`slices`)."""
        return self.slices

    def summary(self) -> str:
        """One line: the verdict and the slices behind it."""
        decisive = self.slices[self.slices["critical"]]
        counts = decisive["status"].value_counts()
        parts = [f"{counts.get(s, 0)} {s}" for s in ("fail", "investigate", "pass")]
        failing = list(decisive.index[decisive["status"] == "fail"])
        named = f" (failing: {', '.join(failing)})" if failing else ""
        return (
            f"gate {self.verdict.upper()}: {', '.join(parts)} of "
            f"{len(decisive)} critical rows{named}; exit code {self.exit_code}"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON: verdict, exit code, rules, slices and checks."""
        return {
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "summary": self.summary(),
            "labels": list(self.labels),
            "rules": _rules_dict(self.rules),
            "slices": _records(self.slices.reset_index()),
            "checks": _records(self.checks),
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The result as JSON (NaN written as ``null``)."""
        return json.dumps(self.to_dict(), indent=indent)

    def to_markdown(self, digits: int = 3) -> str:
        """A Markdown report for a pull-request comment: verdict, then one row per slice."""
        base, cand = self.labels
        metrics = self.rules.metric_names()
        header = ["slice", "n", "critical"]
        for metric in metrics:
            header += [f"{metric} {base}", f"{metric} {cand}"]
        header += ["status", "rows needed", "why"]
        lines = [
            f"### Slice gate: {self.verdict.upper()}",
            "",
            self.summary() + ".",
            "",
            "| " + " | ".join(header) + " |",
            "|" + "---|" * len(header),
        ]
        for name, row in self.slices.iterrows():
            cells = [f"`{name}`", f"{row['n']:,}", "yes" if row["critical"] else "no"]
            for metric in metrics:
                cells += [
                    _fmt(row[f"{metric}_{base}"], digits),
                    _fmt(row[f"{metric}_{cand}"], digits),
                ]
            needed = row["rows_needed"]
            cells += [
                _MARKS[row["status"]],
                "" if pd.isna(needed) else f"{int(needed):,}",
                row["reason"],
            ]
            lines.append("| " + " | ".join(cells) + " |")
        correction = {"holm": "Holm", "bh": "Benjamini-Hochberg"}[self.rules.correction]
        lines += [
            "",
            f"One-sided tests at alpha = {self.rules.alpha:g}, {correction}-corrected "
            f"across all checks; a slice passes when it could detect a "
            f"{self.rules.detectable_drop:g} excess drop with {self.rules.power:.0%} "
            f"power; fewer than {self.rules.min_support} rows are not tested.",
        ]
        return "\n".join(lines) + "\n"

    def plot(self, metric: str | None = None) -> Any:
        """Both models per slice with intervals; slice names coloured by status.

        Built on :func:`slicing.monitor.plots.plot_slice_comparison`; failing
        slices are starred. Returns a ``matplotlib.figure.Figure``.
        """
        from slicing.monitor.plots import plot_slice_comparison

        metric = metric or self.rules.metric_names()[0]
        if not self.tables:
            raise ValueError("this result holds no score tables to plot")
        base, cand = self.labels
        frame = pd.DataFrame(index=self.slices.index)
        for label in self.labels:
            table = self.tables[label].reindex(self.slices.index)
            for suffix in ("", "_low", "_high"):
                if f"{metric}{suffix}" in table:
                    frame[f"{label}{suffix}"] = table[f"{metric}{suffix}"]
        if "n" in self.slices:
            frame["n"] = self.slices["n"]
        statuses = self.slices["status"]
        frame["change"] = np.where(statuses == "fail", "worse", "unclear")
        frame.attrs.update(metric=metric, labels=self.labels)
        fig = plot_slice_comparison(frame)
        ax = fig.axes[0]
        for tick, status in zip(ax.get_yticklabels(), statuses, strict=True):
            tick.set_color(_COLORS[status])
        ax.set_title(
            f"Gate {self.verdict.upper()}: {metric}, {cand} vs {base}\n"
            "slice names: green pass, red fail (*), orange investigate"
        )
        return fig


def _fmt(value: float, digits: int) -> str:
    return "-" if pd.isna(value) else f"{value:.{digits}f}"


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    records = []
    for row in frame.to_dict(orient="records"):
        records.append({key: _plain(value) for key, value in row.items()})
    return records


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _rules_dict(rules: GateRules) -> dict[str, Any]:
    def rule_list(rule_set: tuple) -> list[dict[str, Any]]:
        return [
            {key: value for key, value in vars(rule).items() if value is not None}
            for rule in rule_set
        ]

    return {
        "metrics": rule_list(tuple(rules.metrics)),
        "overall": rule_list(tuple(rules.overall)),
        "slices": {name: rule_list(tuple(r)) for name, r in rules.slices.items()},
        "critical": None if rules.critical is None else list(rules.critical),
        "min_support": rules.min_support,
        "alpha": rules.alpha,
        "correction": rules.correction,
        "detectable_drop": rules.detectable_drop,
        "power": rules.power,
    }
