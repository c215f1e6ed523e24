"""The result of an estimate: the table, the weights and the diagnostics to trust it by."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "EstimateWarning",
    "NoSourceSupportWarning",
    "PerformanceEstimate",
    "UnmatchedRatesWarning",
]


class EstimateWarning(UserWarning):
    """Base class of the warnings about an estimate without labels."""


class NoSourceSupportWarning(EstimateWarning):
    """Target rows fall in SF patterns that never occur in the labeled source."""


class UnmatchedRatesWarning(EstimateWarning):
    """Reweighting the source cannot reproduce the target's SF rates exactly."""


@dataclass(frozen=True)
class PerformanceEstimate:
    """Estimated target performance, overall and per slice, with its diagnostics.

    Attributes
    ----------
    table
        One row for ``overall`` and one per slice. Columns: ``target_rows`` and
        ``target_share`` (rows the SF selects in the target), ``source_rows``; for
        each metric ``m``: ``m`` (the target estimate), ``m_low``/``m_high`` (its
        bootstrap interval), ``source_m`` (the unweighted source value, what
        monitoring the labeled data alone says) with ``source_m_low``/``_high``, and
        ``m_shift`` (estimate minus source).
    metrics
        The metric names, in column order.
    weights
        Importance weight of each source row (mean 1), or ``None`` when the source
        was given as pattern counts; ``pattern_weights`` has them per pattern.
    pattern_weights
        One row per source SF pattern: the SF columns, ``source_rows``,
        ``target_rows`` and ``weight``.
    coefficients
        The fitted log-linear coefficients, indexed by feature (``"a"``,
        ``"a*b"``); features are SF outputs coded -1/+1. Noise-aware: the log
        ratio of each membership configuration of each SF group.
    effective_sample_size
        ``(sum w)^2 / sum w^2`` over the source rows: how many unweighted rows the
        weighted source is worth. Far below the source size means few rows carry
        the estimate.
    largest_weights
        The source patterns with the largest weights (``pattern_weights`` rows).
    rates
        Per SF: ``source_rate``, ``target_rate`` (what the fit matched: the SF
        rate, or the deconvolved true-membership rate when noise-aware),
        ``weighted_source_rate`` and ``gap`` (weighted source minus target).
    unsupported_target_rows, unsupported_target_patterns
        Target rows (and distinct patterns) whose SF pattern never occurs in the
        source: their performance is extrapolated by the log-linear model.
    converged
        False if the target's SF rates could not be matched without a penalty (see
        :class:`UnmatchedRatesWarning`); ``l2`` then holds the fallback penalty.
    l2
        The L2 penalty in effect.
    noise_aware
        Whether the SF flip rates were corrected for.
    n_source, n_target
        Rows on each side.
    notes
        The text of every warning issued for this estimate.
    """

    table: pd.DataFrame
    metrics: list[str]
    weights: np.ndarray | None
    pattern_weights: pd.DataFrame
    coefficients: pd.Series
    effective_sample_size: float
    rates: pd.DataFrame
    unsupported_target_rows: int
    unsupported_target_patterns: int
    converged: bool
    l2: float
    noise_aware: bool
    n_source: int
    n_target: int
    notes: tuple[str, ...] = ()

    @property
    def has_unsupported_patterns(self) -> bool:
        """Whether some target rows have SF patterns never seen in the source."""
        return self.unsupported_target_rows > 0

    @property
    def largest_weights(self) -> pd.DataFrame:
        """The five source patterns with the largest weights."""
        return self.pattern_weights.nlargest(5, "weight")

    @property
    def max_rate_gap(self) -> float:
        """Largest ``|weighted source rate - target rate|`` over the SFs."""
        return float(self.rates["gap"].abs().max())

    def estimate(self, metric: str | None = None, slice_name: str = "overall") -> float:
        """The target estimate of ``metric`` (the first by default) for one row."""
        return float(self.table.loc[slice_name, metric or self.metrics[0]])

    def summary(self) -> str:
        """A few lines: overall estimate beside the source value, and the diagnostics."""
        metric = self.metrics[0]
        row = self.table.loc["overall"]
        interval = (
            f" [{row[f'{metric}_low']:.3f}, {row[f'{metric}_high']:.3f}]"
            if f"{metric}_low" in row
            else ""
        )
        lines = [
            f"target {metric}: {row[metric]:.3f}{interval} (source only: "
            f"{row[f'source_{metric}']:.3f})",
            f"source rows {self.n_source:,}, target rows {self.n_target:,}, effective "
            f"sample size {self.effective_sample_size:,.1f}, largest weight "
            f"{self.pattern_weights['weight'].max():.2f}",
            f"largest |weighted source rate - target rate|: {self.max_rate_gap:.2e}",
        ]
        return "\n".join(lines + [f"warning: {note}" for note in self.notes])

    def __repr__(self) -> str:
        return f"PerformanceEstimate(\n{self.summary()}\n)"
