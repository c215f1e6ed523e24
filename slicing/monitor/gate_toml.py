"""Gate rules from a small TOML file, read with the standard library's ``tomllib``."""

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from slicing.monitor.gate_rules import THRESHOLDS, GateRules, MetricRule
from slicing.monitor.metrics import COUNT_METRICS

__all__ = ["load_gate_rules"]


def load_gate_rules(source: str | Path | Mapping[str, Any]) -> GateRules:
    """Read gate rules from a TOML file (or its text, or a parsed mapping).

    The file::

        alpha = 0.05              # optional: alpha, correction ("holm" or "bh"),
        critical = ["short"]      # min_support, detectable_drop, power

        [metrics.accuracy]        # every slice and overall
        max_drop = 0.0
        [metrics.f1]
        max_relative_drop = 0.05
        [overall.accuracy]        # replaces [metrics.accuracy] for overall
        floor = 0.9
        [slices.short.accuracy]   # replaces it for the slice 'short'
        floor = 0.85

    Without a ``[metrics]`` table, the default rule (accuracy, ``max_drop = 0``)
    applies to every row.

    Parameters
    ----------
    source
        A path to a ``.toml`` file, TOML text (containing a newline or ``=``), or
        a mapping shaped like the parsed file.

    Returns
    -------
    GateRules

    Raises
    ------
    ValueError
        Naming the unknown key, metric or bad value (and the file).
    FileNotFoundError
        If the path does not exist.

    Examples
    --------
    >>> rules = load_gate_rules('[metrics.accuracy]\\nmax_drop = 0.01\\n')
    >>> rules.metrics
    (MetricRule(metric='accuracy', floor=None, max_drop=0.01, max_relative_drop=None),)
    >>> load_gate_rules('[metrics.acuracy]\\nfloor = 0.8\\n')
    Traceback (most recent call last):
    ...
    ValueError: gate rules: unknown metric 'acuracy' in [metrics]; expected one of accuracy, precision, recall, f1, f1_micro, f1_macro, matthews_corrcoef
    """
    name = "gate rules"
    if isinstance(source, Mapping):
        data = dict(source)
    else:
        text = str(source)
        if isinstance(source, Path) or ("\n" not in text and "=" not in text):
            name = f"rules file {str(source)!r}"
            text = Path(source).read_text()
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"{name}: not valid TOML: {error}") from error
    settings = {
        key: data.pop(key)
        for key in (
            "critical",
            "min_support",
            "alpha",
            "correction",
            "detectable_drop",
            "power",
        )
        if key in data
    }
    tables = {
        key: data.pop(key) for key in ("metrics", "overall", "slices") if key in data
    }
    if data:
        raise ValueError(
            f"{name}: unknown key {next(iter(data))!r}; expected critical, "
            "min_support, alpha, correction, detectable_drop, power, [metrics], "
            "[overall], [slices]"
        )
    try:
        fields: dict[str, Any] = {
            kind: _metric_rules(tables[kind], f"[{kind}]")
            for kind in ("metrics", "overall")
            if kind in tables
        }
        if "slices" in tables:
            fields["slices"] = {
                slice_name: _metric_rules(rules, f"[slices.{slice_name}]")
                for slice_name, rules in _table(tables["slices"], "[slices]").items()
            }
        return GateRules(
            **fields, **settings, source=None if name == "gate rules" else str(source)
        )
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name}: {error}") from None


def _metric_rules(table: object, where: str) -> tuple[MetricRule, ...]:
    rules = []
    for metric, thresholds in _table(table, where).items():
        if metric not in COUNT_METRICS:
            raise ValueError(
                f"unknown metric {metric!r} in {where}; expected one of "
                f"{', '.join(COUNT_METRICS)}"
            )
        thresholds = _table(thresholds, f"{where[:-1]}.{metric}]")
        unknown = [key for key in thresholds if key not in THRESHOLDS]
        if unknown:
            raise ValueError(
                f"unknown key {unknown[0]!r} in {where[:-1]}.{metric}]; expected "
                f"{', '.join(THRESHOLDS)}"
            )
        rules.append(MetricRule(metric, **thresholds))
    return tuple(rules)


def _table(value: object, where: str) -> dict:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where} must be a table; got {value!r}")
    return dict(value)
