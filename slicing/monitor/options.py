"""The options of per-slice scoring, declared and validated once for every front door.

:func:`~slicing.monitor.scores.slice_scores`, :class:`~slicing.monitor.scores.SliceScorer`,
:func:`~slicing.monitor.dask_scores.dask_slice_scores` and
:func:`~slicing.monitor.compare.compare_models` take these options as keywords
(``metrics=["accuracy", "f1"], ci=0.9``) or as one :class:`ScoreOptions` object
(``options=ScoreOptions(...)``, handy to score many tables alike); either way they
are checked here, before any data is read.
"""

import dataclasses
import numbers
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from slicing.monitor.metrics import (
    MetricsArg,
    RowMetric,
    SliceMetric,
    resolve_metrics,
)

__all__ = ["DEFAULT_OPTIONS", "ScoreOptions"]


@dataclass(frozen=True)
class ScoreOptions:
    """How to score slices: metrics, intervals, support threshold, unusable rows.

    Attributes
    ----------
    metrics
        Names from snorkel's ``METRICS`` (accuracy, precision, recall, f1, f1_micro,
        f1_macro, matthews_corrcoef, roc_auc), callables
        ``func(golds, preds, probs) -> float``, a list of these, or a mapping from
        name to callable. The first metric decides ``status`` and the sort order.
        Stored as a tuple.
    ci
        Confidence level of the intervals in (0, 1), or ``None`` for none.
    ci_method
        ``"auto"``: closed forms where they exist (Wilson for the proportions
        accuracy, precision, recall, f1_micro, and for f1 through the Jaccard
        share ``TP / (TP + FP + FN)``, as ``f1 = 2J / (1 + J)``; DeLong for
        roc_auc), seeded bootstrap otherwise; ``"bootstrap"``: bootstrap for all.
    n_resamples
        Bootstrap resamples per slice (at least 1).
    seed
        Bootstrap seed (a non-negative integer); the same seed gives the same table.
    min_support
        Slices with fewer rows are marked ``"too small"`` instead of trusted.
    sort
        Sort slices worst first (``overall`` stays first); ``False`` keeps SF order.
    abstain_label
        Gold label meaning "unlabelled" and prediction meaning "no prediction".
    nan_policy
        ``"omit"``: warn and leave out rows with NaN predictions or no gold label;
        ``"raise"``: raise ``ValueError`` instead.

    Raises
    ------
    ValueError
        When an option is out of range or a metric is unknown, naming the value
        received and what was expected.

    Examples
    --------
    >>> options = ScoreOptions(metrics=["accuracy", "f1"], ci=0.9)
    >>> options.metrics, options.ci, options.min_support
    (('accuracy', 'f1'), 0.9, 30)
    >>> ScoreOptions.of(options, min_support=5).min_support
    5
    >>> ScoreOptions(ci=95)
    Traceback (most recent call last):
    ...
    ValueError: ci must be a confidence level in (0, 1) or None; got 95
    """

    metrics: MetricsArg = ("accuracy",)
    ci: float | None = 0.95
    ci_method: str = "auto"
    n_resamples: int = 1000
    seed: int = 0
    min_support: int = 30
    sort: bool = True
    abstain_label: int = -1
    nan_policy: str = "omit"

    def __post_init__(self) -> None:
        object.__setattr__(self, "metrics", _metrics_tuple(self.metrics))
        # Unknown, repeated or unsupported names fail here, before any data is read;
        # binary-only metrics are checked again once the number of classes is known.
        resolve_metrics(self.metrics)
        if self.ci is not None and not (_is_number(self.ci) and 0 < float(self.ci) < 1):
            raise ValueError(
                f"ci must be a confidence level in (0, 1) or None; got {self.ci!r}"
            )
        _check_choice("ci_method", self.ci_method, ("auto", "bootstrap"))
        _check_choice("nan_policy", self.nan_policy, ("omit", "raise"))
        _check_integer("n_resamples", self.n_resamples, minimum=1)
        _check_integer("seed", self.seed, minimum=0)
        _check_integer("min_support", self.min_support, minimum=0)
        _check_integer("abstain_label", self.abstain_label)
        if not isinstance(self.sort, bool):
            raise ValueError(f"sort must be True or False; got {self.sort!r}")

    @classmethod
    def of(
        cls,
        options: "ScoreOptions | None" = None,
        refused: Mapping[str, str] | None = None,
        /,
        **values: Any,
    ) -> "ScoreOptions":
        """``options`` (the defaults if ``None``) with some values replaced, validated.

        Every front door builds its options with this, so a misspelt keyword gets
        the same message everywhere.

        Parameters
        ----------
        options
            Options to start from.
        refused
            Option names the caller does not accept, mapped to the reason.
            ``options`` and ``refused`` are positional-only, so that every keyword
            is an option name.
        **values
            Option names and their new values.

        Returns
        -------
        ScoreOptions
            ``options`` itself when no values are given, else a validated copy.

        Raises
        ------
        TypeError
            For a keyword that is not an option (listing the options) or is refused.
        ValueError
            For an invalid value (see the class).

        Examples
        --------
        >>> ScoreOptions.of(cii=0.9)
        Traceback (most recent call last):
        ...
        TypeError: unknown option 'cii'; expected one of metrics, ci, ci_method, n_resamples, seed, min_support, sort, abstain_label, nan_policy
        """
        names = [field.name for field in dataclasses.fields(cls)]
        for name in values:
            if name not in names:
                raise TypeError(
                    f"unknown option {name!r}; expected one of {', '.join(names)}"
                )
            if refused and name in refused:
                raise TypeError(
                    f"option {name!r} is not accepted here: {refused[name]}"
                )
        base = cls() if options is None else options
        if not isinstance(base, cls):
            raise TypeError(
                f"options must be a ScoreOptions; got {type(base).__name__}"
            )
        return dataclasses.replace(base, **values) if values else base

    def resolve_metrics(self, n_classes: int = 2) -> list[SliceMetric]:
        """The metrics as :class:`~slicing.monitor.metrics.CountMetric`/``RowMetric``.

        Raises ``ValueError`` for binary-only metrics when ``n_classes > 2``.
        """
        return resolve_metrics(self.metrics, n_classes)

    def require_count_metrics(
        self, caller: str, available: Collection[str] = ()
    ) -> None:
        """Raise if a metric needs the rows but ``caller`` has only confusion counts.

        Parameters
        ----------
        caller
            The function that has only counts, for the message.
        available
            Row metrics whose estimates the caller already has.

        Examples
        --------
        >>> ScoreOptions(metrics=["accuracy", "roc_auc"]).require_count_metrics("f")
        Traceback (most recent call last):
        ...
        ValueError: metrics ['roc_auc'] need the rows, but f works on confusion counts; use count metrics (accuracy, precision, recall, f1, f1_micro, f1_macro, matthews_corrcoef) there, or score with slice_scores in memory
        """
        needing_rows = [
            metric.name
            for metric in self.resolve_metrics()
            if isinstance(metric, RowMetric) and metric.name not in available
        ]
        if needing_rows:
            raise ValueError(
                f"metrics {needing_rows} need the rows, but {caller} works on "
                "confusion counts; use count metrics (accuracy, precision, recall, "
                "f1, f1_micro, f1_macro, matthews_corrcoef) there, or score with "
                "slice_scores in memory"
            )


def _metrics_tuple(metrics: object) -> tuple:
    if isinstance(metrics, str) or callable(metrics):
        return (metrics,)
    if isinstance(metrics, Mapping):
        return tuple(metrics.items())
    if isinstance(metrics, tuple | list):
        return tuple(metrics)
    raise ValueError(
        "metrics must be a metric name, a callable, a list of these or a mapping "
        f"of name to callable; got {type(metrics).__name__}"
    )


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        expected = " or ".join(repr(choice) for choice in choices)
        raise ValueError(f"{name} must be {expected}; got {value!r}")


def _check_integer(name: str, value: object, minimum: int | None = None) -> None:
    integer = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not integer or (minimum is not None and value < minimum):  # type: ignore[operator]
        bound = "an integer" if minimum is None else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {bound}; got {value!r}")


#: The default options (immutable, so one shared instance serves every call).
DEFAULT_OPTIONS = ScoreOptions()
