"""``SliceAwareLabelModel``: a label model whose LF behaviour depends on the slice.

snorkel's ``LabelModel`` learns one set of parameters per LF. Here the accuracy of an
LF's votes given the true class (and, with ``condition_coverage=True``, how often it
votes) depends on the row's slice memberships (the model of
:mod:`slicing.labeling.likelihood`, each rate an additive logit in the slice
indicators, :mod:`slicing.labeling.logistic`): overlapping slices add up, and a slice
with little data is shrunk toward the LF's global rates. The parameters are fitted
without gold labels by EM: the E-step scores every row from its votes under the
current rates (the posteriors ``predict_proba`` returns), the
M-step takes one penalized Newton step of every rate regression on the expected
counts, aggregated by slice pattern. Every step is a vectorized pass over the votes
(``np.bincount``), so a fit on 100,000 rows x 10 LFs x 5 slices takes well under a
second.
"""

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from snorkel.analysis import Scorer
from snorkel.utils import probs_to_preds
from tqdm.auto import tqdm

from slicing.labeling.inputs import (
    ABSTAIN,
    check_cardinality,
    check_golds,
    check_label_matrix,
    class_prior,
    slice_indicators,
)
from slicing.labeling.likelihood import (
    LFRates,
    VoteTable,
    class_posteriors,
    mean_vote_accuracy,
)
from slicing.labeling.logistic import slice_patterns

__all__ = ["NoSliceVotesWarning", "SliceAwareLabelModel"]

#: snorkel ``LabelModel.fit`` settings of its SGD optimizer: accepted so that calls
#: written for snorkel run unchanged, and ignored (EM has no learning rate or epochs).
SNORKEL_SGD_OPTIONS = frozenset(
    "n_epochs lr l2 optimizer optimizer_config lr_scheduler lr_scheduler_config "
    "log_freq mu_eps".split()
)


class NoSliceVotesWarning(UserWarning):
    """A slice has no LF votes; its rows use the LFs' global accuracies."""


class SliceAwareLabelModel:
    """Label model whose LF accuracies depend on slice membership, fitted without golds.

    A drop-in for snorkel's ``LabelModel`` that also takes the slice matrix: apply the
    same SFs to every split you label (``S_train = PandasSFApplier(sfs).apply(train)``,
    ``S_test = ...apply(test)``) and pass ``S`` after ``L`` to ``fit``,
    ``predict_proba``, ``predict`` and ``score``. The slice names and order must be the
    ones seen by ``fit``.

    Parameters
    ----------
    cardinality
        Number of classes.
    prior_strength
        Pseudo-observations at an LF's global rate behind each slice coefficient: a
        slice where the LF has ``n`` observations (rows for its coverage, votes for its
        accuracy) moves about ``n / (n + prior_strength)`` of the way from the global
        rate to its own. ``float("inf")`` gives the slice-blind model.
    min_slice_votes
        An LF with fewer votes than this in a slice gets no accuracy coefficient for
        it (nor a coverage coefficient, which also needs this many abstains there: an
        LF that votes on all of a slice, such as the LF an SF was made from with
        ``sf_from_lf``, keeps its global coverage). On such slices the model is exactly
        the one fitted without the slice: never worse than the global model for lack
        of data.
    condition_coverage
        Also let each LF's coverage given the class depend on the slices. By default
        only the accuracy of an LF's votes does (the LF's coverage given the class is
        global). An LF that only ever votes one class (``SPAM if ... else ABSTAIN``)
        has accuracy 1 given the class is its class and 0 otherwise, in every slice:
        its precision can only change by slice through its coverage. On the YouTube
        spam LFs (all one-class) conditioning the coverage raised the accuracy of the
        training labels by about 1 point but lowered F1 on the held-out video by about
        1 point, so it is off by default.
    verbose
        Print the number of EM iterations and whether they converged.

    Attributes
    ----------
    slice_names_, class_prior_, rates_, n_iter_, converged_
        Set by ``fit``: the slices, the class prior ``p``, the fitted
        :class:`~slicing.labeling.likelihood.LFRates`, EM iterations run and whether
        they converged.

    Examples
    --------
    >>> import numpy as np
    >>> from slicing.matrix import make_slice_matrix
    >>> L = np.array([[1, 1, -1], [0, 0, 0], [1, -1, 1], [-1, -1, -1]] * 25)
    >>> S = make_slice_matrix(np.array([[True], [False], [True], [False]] * 25), ["short"])
    >>> model = SliceAwareLabelModel(cardinality=2).fit(L, S, progress_bar=False)
    >>> model.predict(L[:4], S[:4])
    array([ 1,  0,  1, -1])
    >>> model.predict_proba(L[3:4], S[3:4])              # all abstain: the class prior
    array([[0.5, 0.5]])
    """

    def __init__(
        self,
        cardinality: int = 2,
        *,
        prior_strength: float = 50.0,
        min_slice_votes: int = 20,
        condition_coverage: bool = False,
        verbose: bool = False,
    ) -> None:
        self.cardinality = check_cardinality(cardinality)
        if not prior_strength >= 0:
            raise ValueError(f"prior_strength must be >= 0; got {prior_strength!r}")
        if min_slice_votes < 1:
            raise ValueError(f"min_slice_votes must be >= 1; got {min_slice_votes!r}")
        self.prior_strength = float(prior_strength)
        self.min_slice_votes = int(min_slice_votes)
        self.condition_coverage = bool(condition_coverage)
        self.verbose = verbose

    def fit(
        self,
        L_train: np.ndarray,
        S: Any,
        Y_dev: np.ndarray | None = None,
        class_balance: Sequence[float] | None = None,
        progress_bar: bool = True,
        *,
        seed: int | None = None,
        max_iter: int = 200,
        tol: float = 1e-4,
        prec_init: float = 0.7,
        **snorkel_options: Any,
    ) -> "SliceAwareLabelModel":
        """Fit the slice-conditioned LF rates by EM, without gold labels.

        Parameters
        ----------
        L_train
            LF matrix ``(n, m)``: ``-1`` abstain, else a class in ``0..c-1``.
        S
            Slice matrix (from an SF applier) or bool DataFrame with ``n`` rows.
        Y_dev
            Gold labels of a dev set, used only for the class balance (as snorkel).
        class_balance
            Class prior ``p``; by default estimated from ``Y_dev``, else uniform (as
            snorkel).
        progress_bar
            Show the EM iterations.
        seed
            Accepted for snorkel compatibility; the fit is deterministic.
        max_iter, tol
            EM stops after ``max_iter`` iterations or when no logit coefficient moves
            more than ``tol``.
        prec_init
            Every LF's starting accuracy (snorkel's name): the first E-step is a
            majority vote.
        **snorkel_options
            snorkel's SGD settings (``n_epochs``, ``lr``, ``l2``, ``optimizer``,
            ``log_freq``, ...) are accepted and ignored: EM has no learning rate.

        Returns
        -------
        SliceAwareLabelModel
            ``self``.

        Raises
        ------
        ValueError
            For a bad ``L`` or ``S`` (values outside ``{-1, 0..c-1}``, different
            lengths, ...), a bad class balance or ``prec_init``.
        TypeError
            For an option neither this model nor snorkel's ``LabelModel.fit`` knows.

        Warns
        -----
        NoSliceVotesWarning
            For a slice where no LF votes; its rows use the global rates.
        """
        unknown = sorted(set(snorkel_options) - SNORKEL_SGD_OPTIONS)
        if unknown:
            raise TypeError(
                f"SliceAwareLabelModel.fit got unexpected options {unknown}; it takes "
                "seed, max_iter, tol, prec_init and ignores snorkel's SGD settings "
                f"{sorted(SNORKEL_SGD_OPTIONS)}"
            )
        if not 0.5 < prec_init < 1:
            raise ValueError(f"prec_init must be in (0.5, 1); got {prec_init!r}")
        L = check_label_matrix(L_train, self.cardinality)
        indicators, self.slice_names_ = slice_indicators(S, L.shape[0])
        self.class_prior_ = class_prior(class_balance, Y_dev, self.cardinality)
        self.n_lfs_ = L.shape[1]
        patterns, pattern_of_row = slice_patterns(indicators)
        votes = VoteTable(L, pattern_of_row, patterns.shape[0], self.cardinality)
        self._warn_slices_without_votes(L, indicators)
        self.rates_ = LFRates.initial(
            L,
            indicators,
            self.cardinality,
            prec_init=prec_init,
            min_slice_votes=self.min_slice_votes,
            slices=np.isfinite(self.prior_strength),
            condition_coverage=self.condition_coverage,
        )
        log_prior = np.log(self.class_prior_)
        prior_strength = (
            self.prior_strength if np.isfinite(self.prior_strength) else 0.0
        )
        self.converged_ = False
        iterations = tqdm(
            range(max_iter), disable=not progress_bar, unit="iter", desc="EM"
        )
        for self.n_iter_ in range(1, max_iter + 1):
            tables = self.rates_.log_tables(patterns)
            probs = class_posteriors(votes, tables, log_prior)
            trials, successes = votes.statistics(probs)
            change = self.rates_.update(trials, successes, patterns, prior_strength)
            iterations.update()
            if change < tol:
                self.converged_ = True
                break
        iterations.close()
        if self.verbose:
            print(f"EM: {self.n_iter_} iterations, converged: {self.converged_}")
        probs = self._probs(L, indicators)
        self._lf_accuracy = mean_vote_accuracy(L, indicators, probs)[:, 0]
        return self

    def _warn_slices_without_votes(self, L: np.ndarray, indicators: np.ndarray) -> None:
        voted_rows = (L != ABSTAIN).any(axis=1)
        for name, has_votes, n_rows in zip(
            self.slice_names_,
            (indicators & voted_rows[:, None]).any(axis=0),
            indicators.sum(axis=0),
        ):
            if not has_votes:
                warnings.warn(
                    f"slice {name!r} ({int(n_rows)} rows) has no LF votes in L_train; "
                    "its rows use the LFs' global rates",
                    NoSliceVotesWarning,
                    stacklevel=3,
                )

    def _posteriors(self, L: Any, S: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Checked ``L``, slice indicators and vote-only class posteriors."""
        if not hasattr(self, "rates_"):
            raise RuntimeError(
                "SliceAwareLabelModel is not fitted; call fit(L_train, S)"
            )
        L = check_label_matrix(L, self.cardinality, n_lfs=self.n_lfs_)
        indicators, _ = slice_indicators(S, L.shape[0], names=self.slice_names_)
        return L, indicators, self._probs(L, indicators)

    def _probs(self, L: np.ndarray, indicators: np.ndarray) -> np.ndarray:
        patterns, pattern_of_row = slice_patterns(indicators)
        votes = VoteTable(L, pattern_of_row, patterns.shape[0], self.cardinality)
        tables = self.rates_.log_tables(patterns)
        return class_posteriors(votes, tables, np.log(self.class_prior_))

    def predict_proba(self, L: np.ndarray, S: Any) -> np.ndarray:
        """Class probabilities ``(n, c)`` from the votes; all-abstain rows get the prior.

        Parameters
        ----------
        L
            LF matrix ``(n, m)`` from the same LFs as in ``fit``.
        S
            Slice matrix or bool DataFrame from the same SFs as in ``fit``, ``n`` rows.
        """
        return self._posteriors(L, S)[2]

    def predict(
        self,
        L: np.ndarray,
        S: Any,
        return_probs: bool = False,
        tie_break_policy: str = "abstain",
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Predicted classes; ties as in snorkel: ``"abstain"`` (-1), ``"random"``, ``"true-random"``."""
        probs = self.predict_proba(L, S)
        preds = probs_to_preds(probs, tie_break_policy)
        return (preds, probs) if return_probs else preds

    def score(
        self,
        L: np.ndarray,
        S: Any,
        Y: np.ndarray,
        metrics: Sequence[str] = ("accuracy",),
        tie_break_policy: str = "abstain",
    ) -> dict[str, float]:
        """Score the predictions against golds ``Y`` with snorkel's ``Scorer`` metrics.

        With ``tie_break_policy="abstain"`` tied rows are predicted -1 and count as
        wrong, as in snorkel's ``LabelModel.score``.
        """
        golds = check_golds(Y, np.shape(L)[0], self.cardinality)
        preds, probs = self.predict(
            L, S, return_probs=True, tie_break_policy=tie_break_policy
        )
        return Scorer(metrics=list(metrics)).score(golds, preds, probs)

    def get_weights(self) -> np.ndarray:
        """Each LF's estimated accuracy on its training votes, like snorkel's ``get_weights``."""
        if not hasattr(self, "_lf_accuracy"):
            raise RuntimeError(
                "SliceAwareLabelModel is not fitted; call fit(L_train, S)"
            )
        return self._lf_accuracy.copy()

    def lf_slice_accuracies(
        self, L: np.ndarray, S: Any, *, lf_names: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Estimated accuracy of each LF's votes, overall and inside each slice, without golds.

        The mean, over the LF's votes among the slice's rows, of the model's posterior
        probability that the vote is right; unbiased for the LF's accuracy there when
        the model's posteriors are calibrated.

        Returns
        -------
        pd.DataFrame
            One row per LF (``lf_names``, or ``lf_0``, ...), columns ``overall`` then
            the slices; NaN where the LF casts no vote in the slice.
        """
        L, indicators, probs = self._posteriors(L, S)
        names = (
            list(lf_names)
            if lf_names is not None
            else [f"lf_{i}" for i in range(L.shape[1])]
        )
        if len(names) != L.shape[1]:
            raise ValueError(
                f"got {len(names)} lf_names but L has {L.shape[1]} LF columns"
            )
        return pd.DataFrame(
            mean_vote_accuracy(L, indicators, probs),
            index=pd.Index(names, name="lf"),
            columns=["overall", *self.slice_names_],
        )
