"""The rules of a per-slice regression gate (read from TOML by :mod:`slicing.monitor.gate_toml`).

A rule set says, per metric, what a candidate model must achieve: an absolute
``floor``, a ``max_drop`` against the baseline in metric points, and/or a
``max_relative_drop``. The relative drop is, everywhere in this package,

    relative drop = (baseline - candidate) / baseline

so ``max_relative_drop = 0.05`` allows a candidate accuracy of 0.95 x the
baseline's. Rules given for every row (``metrics``) can be replaced, metric by
metric, for the ``overall`` row and for named slices.

The default rule set (``GateRules()``, also what an empty TOML file means): accuracy
may not drop at all beyond noise (``max_drop = 0``), no floors, every slice
critical, ``min_support = 30``, ``alpha = 0.05`` with Holm's correction, and a
slice must be large enough to detect a 5-point excess drop with 80% power.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from slicing.monitor.inputs import OVERALL
from slicing.monitor.metrics import COUNT_METRICS

__all__ = ["DEFAULT_RULES", "GateRules", "MetricRule", "THRESHOLDS"]

#: The rule fields a ``[metrics.NAME]`` table may hold.
THRESHOLDS = ("floor", "max_drop", "max_relative_drop")
_CORRECTIONS = ("holm", "bh")


def _check_number(name: str, value: object, low: float, high: float) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number; got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in [{low:g}, {high:g}]; got {value!r}")


def _check_open(name: str, value: object, upper: float = 1.0) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number; got {value!r}")
    if not 0 < value < upper:
        raise ValueError(f"{name} must be in (0, {upper:g}); got {value!r}")


@dataclass(frozen=True)
class MetricRule:
    """Thresholds for one metric; ``None`` means "not checked".

    Attributes
    ----------
    metric
        A count metric: accuracy, precision, recall, f1, f1_micro, f1_macro or
        matthews_corrcoef.
    floor
        The candidate's value must not be below this.
    max_drop
        Largest allowed ``baseline - candidate``, in metric units (0.02 = 2 points).
    max_relative_drop
        Largest allowed ``(baseline - candidate) / baseline``, in [0, 1).

    Examples
    --------
    >>> MetricRule("accuracy", floor=0.8, max_drop=0.02).describe()
    ['accuracy >= 0.8', 'accuracy drop <= 0.02']
    >>> MetricRule("acc", floor=0.8)
    Traceback (most recent call last):
    ...
    ValueError: unknown gate metric 'acc'; expected one of accuracy, precision, recall, f1, f1_micro, f1_macro, matthews_corrcoef
    """

    metric: str = "accuracy"
    floor: float | None = None
    max_drop: float | None = None
    max_relative_drop: float | None = None

    def __post_init__(self) -> None:
        if self.metric not in COUNT_METRICS:
            raise ValueError(
                f"unknown gate metric {self.metric!r}; expected one of "
                f"{', '.join(COUNT_METRICS)}"
            )
        lowest = -1.0 if self.metric == "matthews_corrcoef" else 0.0
        _check_number(f"{self.metric} floor", self.floor, lowest, 1.0)
        _check_number(f"{self.metric} max_drop", self.max_drop, 0.0, 2.0)
        _check_number(
            f"{self.metric} max_relative_drop", self.max_relative_drop, 0.0, 1.0
        )
        if self.max_relative_drop is not None and self.max_relative_drop >= 1:
            raise ValueError(
                f"{self.metric} max_relative_drop must be below 1; got "
                f"{self.max_relative_drop!r}"
            )
        if all(getattr(self, name) is None for name in THRESHOLDS):
            raise ValueError(
                f"the rule for {self.metric} sets no threshold; set floor, max_drop "
                "or max_relative_drop"
            )

    def describe(self) -> list[str]:
        """One short text per threshold set, as shown in the gate's table."""
        checks = []
        if self.floor is not None:
            checks.append(f"{self.metric} >= {self.floor:g}")
        if self.max_drop is not None:
            checks.append(f"{self.metric} drop <= {self.max_drop:g}")
        if self.max_relative_drop is not None:
            checks.append(f"{self.metric} relative drop <= {self.max_relative_drop:g}")
        return checks


@dataclass(frozen=True)
class GateRules:
    """What a candidate must achieve against a baseline, and how sure the gate must be.

    Attributes
    ----------
    metrics
        Rules applied to ``overall`` and to every slice.
    overall
        Rules for the ``overall`` row; each replaces the ``metrics`` rule of its metric.
    slices
        Slice name to rules for that slice (each replaces the ``metrics`` rule of
        its metric).
    critical
        Slices whose outcome decides the verdict (``overall`` always does);
        ``None`` means every slice. The others are reported only.
    min_support
        Slices with fewer scored rows are not tested: ``investigate``.
    alpha
        Level of the tests: the family-wise error rate with ``correction="holm"``
        (Holm-Bonferroni), the false discovery rate with ``"bh"``
        (Benjamini-Hochberg), across all checks of all slices.
    detectable_drop
        A slice passes only if its test would detect a violation of this size
        (beyond the allowed one) with probability ``power``; otherwise it is
        ``investigate``, with the rows that would be needed.
    power
        See ``detectable_drop``.
    source
        Where the rules came from (a file name), for messages.

    Raises
    ------
    ValueError
        For out-of-range values, unknown corrections, no checks at all.

    Examples
    --------
    >>> rules = GateRules(
    ...     metrics=[MetricRule("accuracy", max_drop=0.01)],
    ...     slices={"short": [MetricRule("accuracy", floor=0.9)]},
    ... )
    >>> [rule.describe() for rule in rules.rules_for("short")]
    [['accuracy >= 0.9']]
    >>> [rule.describe() for rule in rules.rules_for("overall")]
    [['accuracy drop <= 0.01']]
    """

    metrics: Sequence[MetricRule] = (MetricRule("accuracy", max_drop=0.0),)
    overall: Sequence[MetricRule] = ()
    slices: Mapping[str, Sequence[MetricRule]] = field(default_factory=dict)
    critical: Sequence[str] | None = None
    min_support: int = 30
    alpha: float = 0.05
    correction: str = "holm"
    detectable_drop: float = 0.05
    power: float = 0.8
    source: str | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "metrics", _rule_tuple(self.metrics, "metrics"))
        set_(self, "overall", _rule_tuple(self.overall, "overall"))
        set_(
            self,
            "slices",
            {
                str(name): _rule_tuple(rules, f"slices.{name}")
                for name, rules in dict(self.slices).items()
            },
        )
        if self.critical is not None:
            if isinstance(self.critical, str):
                raise ValueError(
                    f"critical must be a list of slice names; got {self.critical!r}"
                )
            set_(self, "critical", tuple(self.critical))
        if not (self.metrics or self.overall or self.slices):
            raise ValueError("the rules check nothing; give at least one MetricRule")
        if isinstance(self.min_support, bool) or not isinstance(self.min_support, int):
            raise ValueError(
                f"min_support must be an integer; got {self.min_support!r}"
            )
        if self.min_support < 1:
            raise ValueError(f"min_support must be at least 1; got {self.min_support}")
        _check_open("alpha", self.alpha)
        _check_open("power", self.power)
        _check_open("detectable_drop", self.detectable_drop, upper=2.0)
        if self.correction not in _CORRECTIONS:
            raise ValueError(
                f"correction must be 'holm' or 'bh'; got {self.correction!r}"
            )

    def rules_for(self, row: str) -> list[MetricRule]:
        """The rules of one table row (``"overall"`` or a slice name), by metric."""
        by_metric = {rule.metric: rule for rule in self.metrics}
        specific = self.overall if row == OVERALL else self.slices.get(row, ())
        by_metric.update({rule.metric: rule for rule in specific})
        return list(by_metric.values())

    def metric_names(self) -> list[str]:
        """Every metric some rule checks, in first-mention order."""
        rules = [
            *self.metrics,
            *self.overall,
            *(r for rs in self.slices.values() for r in rs),
        ]
        return list(dict.fromkeys(rule.metric for rule in rules))

    def check_slice_names(self, slice_names: Iterable[str]) -> None:
        """Raise ``ValueError`` naming any slice the rules mention that the data lacks."""
        known = list(slice_names)
        where = f" (rules from {self.source})" if self.source else ""
        for kind, names in (("slices", self.slices), ("critical", self.critical or ())):
            unknown = [name for name in names if name not in known]
            if unknown:
                raise ValueError(
                    f"the gate rules' {kind} name slices that are not in the data: "
                    f"{unknown}{where}; the slices are {known}"
                )


def _rule_tuple(rules: object, where: str) -> tuple[MetricRule, ...]:
    given: tuple[object, ...] = (
        (rules,) if isinstance(rules, MetricRule) else tuple(rules)  # type: ignore[arg-type]
    )
    for rule in given:
        if not isinstance(rule, MetricRule):
            raise ValueError(f"{where} must hold MetricRule objects; got {rule!r}")
    checked = tuple(rule for rule in given if isinstance(rule, MetricRule))
    metrics = [rule.metric for rule in checked]
    repeated = sorted({metric for metric in metrics if metrics.count(metric) > 1})
    if repeated:
        raise ValueError(f"{where} has more than one rule for {repeated}; merge them")
    return checked


#: The rules of a gate given none.
DEFAULT_RULES = GateRules()
