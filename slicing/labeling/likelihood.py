"""The slice-conditioned generative model of LF votes: parameters, posteriors, EM statistics.

Given the true class ``Y = y`` and a row's slice indicators ``s``, LF ``i``

- votes (does not abstain) with probability ``pi_iy(s)``, and
- when it votes, votes ``y`` with probability ``a_iy(s)``, each other class with
  ``(1 - a_iy(s)) / (c - 1)``,

independently of the other LFs (a two-coin Dawid-Skene model with class-dependent
coverage, so that LFs that only ever vote one class, such as ``SPAM if "http" in
text``, are described exactly). Every ``pi_iy`` and ``a_iy`` is a slice-dependent rate
of :mod:`slicing.labeling.logistic`. The ``2 * m * c`` rate regressions are stored
together as ``(2, m, c, k + 1)`` coefficients: kind 0 the coverage ``pi``, kind 1 the
accuracy ``a``.

Rows are scored from their votes only, as snorkel's ``LabelModel.predict_proba`` does,
so a row where every LF abstains gets the class prior; EM uses the same posteriors,
and abstains enter the fit through the coverage rates (how often an LF votes on rows
of each class), which is what tells a one-class LF's precision.
"""

from dataclasses import dataclass

import numpy as np

from slicing.labeling.inputs import ABSTAIN
from slicing.labeling.logistic import newton_step, sigmoid, slice_logits

__all__ = ["LFRates", "VoteTable", "class_posteriors", "mean_vote_accuracy"]

RATE, ACCURACY = 0, 1
LOG_FLOOR = 1e-6


class VoteTable:
    """The non-abstain cells of an LF matrix, flattened, with the indices EM reuses.

    Every per-vote quantity is gathered and summed with flat indices computed once
    here (``np.take`` and one ``np.bincount`` per sum), which is what keeps an EM
    iteration at a few milliseconds per 100,000 rows.
    """

    def __init__(
        self,
        L: np.ndarray,
        pattern_of_row: np.ndarray,
        n_patterns: int,
        cardinality: int,
    ) -> None:
        self.n_rows, self.n_lfs = L.shape
        self.n_patterns, self.cardinality = n_patterns, cardinality
        self.pattern_of_row = pattern_of_row
        flat = np.flatnonzero(L.ravel() != ABSTAIN)
        self.row = flat // self.n_lfs
        self.lf = flat % self.n_lfs
        self.label = L.ravel()[flat].astype(np.int64)
        classes = np.arange(cardinality)
        # (pattern, LF) of each vote, then with its class and with every class.
        self.cell = pattern_of_row[self.row] * self.n_lfs + self.lf
        self.cell_label = self.cell * cardinality + self.label
        self.cell_class = (self.cell * cardinality)[:, None] + classes
        self.row_label = self.row * cardinality + self.label
        self.row_class = (self.row * cardinality)[:, None] + classes
        self.pattern_class = (pattern_of_row * cardinality)[:, None] + classes

    def _sum(self, index: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
        return np.bincount(index.ravel(), weights.ravel(), minlength=size).astype(
            np.float64
        )

    def statistics(self, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """EM's expected counts under class posteriors ``probs`` ``(n, c)``.

        Returns ``trials`` and ``successes``, each ``(2, m, c, G)``: for the coverage
        rates, rows of class ``y`` and those the LF votes on; for the accuracy rates,
        the LF's votes on rows of class ``y`` and those that are ``y``.
        """
        m, c, G = self.n_lfs, self.cardinality, self.n_patterns
        at_votes = np.take(probs, self.row, axis=0)  # (votes, c)
        rows = self._sum(self.pattern_class, probs, G * c).reshape(G, c)
        voted = self._sum(self.cell_class, at_votes, G * m * c).reshape(G, m, c)
        right_probs = np.take(probs.ravel(), self.row_label)
        right = self._sum(self.cell_label, right_probs, G * m * c).reshape(G, m, c)
        trials = np.empty((2, m, c, G))
        successes = np.empty((2, m, c, G))
        trials[RATE] = rows.T[None, :, :]
        successes[RATE] = trials[ACCURACY] = voted.transpose(1, 2, 0)
        successes[ACCURACY] = right.transpose(1, 2, 0)
        return trials, successes


@dataclass
class LFRates:
    """Coefficients, centres and free flags of the ``(2, m, c)`` rate regressions."""

    theta: np.ndarray  # (2, m, c, k + 1)
    centers: np.ndarray  # (2, m, c, k)
    free: np.ndarray  # (2, m, c, k + 1)

    @classmethod
    def initial(
        cls,
        L: np.ndarray,
        indicators: np.ndarray,
        cardinality: int,
        *,
        prec_init: float,
        min_slice_votes: int,
        slices: bool,
        condition_coverage: bool,
    ) -> "LFRates":
        """Starting rates (global coverage, accuracy ``prec_init``) and the free flags.

        An LF gets an accuracy coefficient for a slice where it casts at least
        ``min_slice_votes`` votes, and (with ``condition_coverage``) a coverage
        coefficient where it also abstains at least that often; none without
        ``slices``.
        """
        m, c, k = L.shape[1], cardinality, indicators.shape[1]
        voted = (L != ABSTAIN).astype(np.float64)
        member = indicators.astype(np.float64)
        votes_in = voted.T @ member  # (m, k)
        abstains_in = member.sum(axis=0) - votes_in
        enough_votes = slices & (votes_in >= min_slice_votes)
        free = np.ones((2, m, c, k + 1), dtype=bool)
        free[RATE, :, :, 1:] = (
            condition_coverage & enough_votes & (abstains_in >= min_slice_votes)
        )[:, None, :]
        free[ACCURACY, :, :, 1:] = enough_votes[:, None, :]
        total_votes = voted.sum(axis=0)[:, None]
        centers = np.empty((2, m, c, k))
        centers[RATE] = member.mean(axis=0) if len(L) else 0.0
        centers[ACCURACY] = np.divide(
            votes_in, total_votes, out=np.zeros((m, k)), where=total_votes > 0
        )[:, None, :]
        coverage = np.clip(voted.mean(axis=0), 1e-3, 1 - 1e-3)
        theta = np.zeros((2, m, c, k + 1))
        theta[RATE, :, :, 0] = np.log(coverage / (1 - coverage))[:, None]
        theta[ACCURACY, :, :, 0] = np.log(prec_init / (1 - prec_init))
        return cls(theta=theta, centers=centers, free=free)

    def log_tables(self, patterns: np.ndarray) -> dict[str, np.ndarray]:
        """``log`` of every rate on every slice pattern, each ``(G, m, c)``."""
        shape = self.theta.shape
        logits = slice_logits(
            self.theta.reshape(-1, shape[-1]),
            self.centers.reshape(-1, shape[-1] - 1),
            self.free.reshape(-1, shape[-1]),
            patterns,
        ).reshape(patterns.shape[0], *shape[:-1])
        rate = np.clip(sigmoid(logits[:, RATE]), LOG_FLOOR, 1 - LOG_FLOOR)
        accuracy = np.clip(sigmoid(logits[:, ACCURACY]), LOG_FLOOR, 1 - LOG_FLOOR)
        c = shape[2]
        return {
            "vote": np.log(rate),
            "right": np.log(accuracy),
            "wrong": np.log1p(-accuracy) - np.log(max(c - 1, 1)),
        }

    def update(
        self,
        trials: np.ndarray,
        successes: np.ndarray,
        patterns: np.ndarray,
        prior_strength: float,
    ) -> float:
        """One Newton step of every regression; returns the largest coefficient change."""
        shape = self.theta.shape
        updated = newton_step(
            self.theta.reshape(-1, shape[-1]),
            trials.reshape(-1, patterns.shape[0]),
            successes.reshape(-1, patterns.shape[0]),
            patterns,
            self.centers.reshape(-1, shape[-1] - 1),
            self.free.reshape(-1, shape[-1]),
            prior_strength,
        ).reshape(shape)
        change = float(np.abs(updated - self.theta).max())
        self.theta = updated
        return change


def class_posteriors(
    votes: VoteTable, tables: dict[str, np.ndarray], log_prior: np.ndarray
) -> np.ndarray:
    """Class posteriors ``(n, c)`` of every row from its votes (``tables`` from :meth:`LFRates.log_tables`)."""
    n, c = votes.n_rows, votes.cardinality
    # Every vote adds log pi + log((1 - a) / (c - 1)) to each class, and
    # log a - log((1 - a) / (c - 1)) more to the class it votes.
    each_class = (tables["vote"] + tables["wrong"]).reshape(-1, c)  # (G * m, c)
    boost = (tables["right"] - tables["wrong"]).ravel()
    scores = votes._sum(votes.row_class, np.take(each_class, votes.cell, axis=0), n * c)
    scores += votes._sum(votes.row_label, np.take(boost, votes.cell_label), n * c)
    scores = scores.reshape(n, c) + log_prior
    return _softmax_rows(scores)


def _softmax_rows(scores: np.ndarray) -> np.ndarray:
    """Row softmax; column by column, which beats ``axis=1`` reductions for few classes."""
    columns = range(1, scores.shape[1])
    top = scores[:, 0].copy()
    for y in columns:
        np.maximum(top, scores[:, y], out=top)
    probs = np.exp(scores - top[:, None])
    total = probs[:, 0].copy()
    for y in columns:
        total += probs[:, y]
    probs /= total[:, None]
    return probs


def mean_vote_accuracy(
    L: np.ndarray, indicators: np.ndarray, probs: np.ndarray
) -> np.ndarray:
    """``(m, 1 + k)``: mean posterior probability that an LF's vote is right, overall and per slice.

    NaN where the LF casts no vote in the slice.

    Examples
    --------
    >>> L = np.array([[1], [0], [-1]])
    >>> probs = np.array([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]])
    >>> mean_vote_accuracy(L, np.array([[True], [False], [True]]), probs).round(2).tolist()
    [[0.7, 0.8]]
    """
    voted = L != ABSTAIN
    right = np.where(voted, np.take_along_axis(probs, np.clip(L, 0, None), 1), 0.0)
    groups = np.column_stack([np.ones(len(L), dtype=bool), indicators]).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return ((groups.T @ right) / (groups.T @ voted)).T
