"""Noise-aware density ratio: weights over the true slice membership ``z``, not the SFs ``g``.

An SF flips a row's true membership with rates ``P(g=1 | z=0)`` (false positives) and
``P(g=0 | z=1)`` (false negatives), estimated from a few rows of known membership.
Weights fitted on ``g`` estimate ``E[w(z) | g]``, which misses how the outcome varies
with ``z`` inside a pattern of ``g``: that is the 4-6x error growth of the reference
under 10% SF noise. Here the ratio is built over ``z``: each domain's distribution of
true membership is recovered from its SF patterns through the flip rates (EM), and
each source row gets the unbiased *surrogate* of ``w(z)``, the function ``w_hat(g)``
with ``E[w_hat(g) | z] = w(z)`` (each SF's inverse 2x2 flip matrix applied along its
axis), so that ``mean_source w_hat(g) * outcome`` estimates ``mean_source w(z) *
outcome``. Assumed: flips independent across SFs and of the outcome given ``z``,
the same in both domains; SF groups not linked by pair terms independent within a
domain. A group's table has ``2^size`` cells.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["FlipRates", "NoiseModel"]

#: Largest group of SFs linked by pair terms (its table has 2**size cells).
MAX_COMPONENT_SIZE = 12


@dataclass(frozen=True)
class FlipRates:
    """Per-SF flip rates: ``false_positive[j] = P(g_j=1 | z_j=0)``, ``false_negative``.

    Examples
    --------
    >>> true = np.array([[1, 0], [1, 1], [0, 1], [0, 0]], bool)
    >>> sf = np.array([[1, 0], [0, 1], [0, 1], [0, 1]], bool)
    >>> rates = FlipRates.from_rows(true, sf)
    >>> rates.false_positive.round(3).tolist(), rates.false_negative.round(3).tolist()
    ([0.3, 0.3], [0.3, 0.3])
    """

    false_positive: np.ndarray
    false_negative: np.ndarray

    @classmethod
    def from_rows(cls, true: np.ndarray, observed: np.ndarray) -> "FlipRates":
        """Flip rates from rows with known membership, shrunk towards the pooled rate.

        A few hundred known rows leave a rare slice with few members, and an error
        in its flip rate is amplified by the deconvolution; so each SF's rate is
        shrunk towards the rate pooled over the SFs, as far as the spread of the
        SFs' rates allows (empirical Bayes, beta-binomial method of moments): SFs
        whose rates differ by no more than sampling noise share the pooled rate,
        clearly different SFs keep their own.
        """
        true, observed = np.asarray(true, bool), np.asarray(observed, bool)
        in_slice = true.sum(axis=0)
        false_pos = _shrunk((observed & ~true).sum(axis=0), len(true) - in_slice)
        false_neg = _shrunk((~observed & true).sum(axis=0), in_slice)
        return cls(false_pos, false_neg)

    def inverse_matrices(self) -> np.ndarray:
        """Shape ``(k, 2, 2)``: per SF, the inverse of ``M[z, g] = P(g | z)``."""
        fp, fn = self.false_positive, self.false_negative
        if ((fp + fn) >= 0.9).any():
            worst = int(np.argmax(fp + fn))
            raise ValueError(
                f"SF {worst} has flip rates {fp[worst]:.2f} (false positive) and "
                f"{fn[worst]:.2f} (false negative): its output carries almost no "
                "information about membership; expected rates summing below 0.9"
            )
        flips = np.stack([np.stack([1 - fp, fp], -1), np.stack([fn, 1 - fn], -1)], 1)
        return np.linalg.inv(flips)


def _shrunk(flips: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """Per-SF flip rates shrunk towards the pooled rate by a fitted beta prior."""
    pooled = (flips.sum() + 0.5) / (trials.sum() + 1)
    binomial = pooled * (1 - pooled)
    seen = trials > 0
    rates = flips[seen] / trials[seen]
    spread = 0.0
    if seen.sum() > 1:
        spread = float(np.average((rates - pooled) ** 2, weights=trials[seen]))
        spread -= float(np.mean(binomial / trials[seen]))
    prior_rows = binomial / spread - 1 if spread > 0 else 1e4
    prior_rows = float(np.clip(prior_rows, 1.0, 1e4))
    return (flips + prior_rows * pooled) / (trials + prior_rows)


def _components(k: int, pairs: Sequence[tuple[int, int]]) -> list[list[int]]:
    parent = list(range(k))

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for first, second in pairs:
        parent[root(first)] = root(second)
    groups: dict[int, list[int]] = {}
    for node in range(k):
        groups.setdefault(root(node), []).append(node)
    return sorted(groups.values())


class NoiseModel:
    """Membership distributions and surrogate weights over the SF components.

    Within each domain, the true membership of different components is taken as
    independent (the pair terms say which SFs depend on each other); each
    component's distribution over its ``2^m`` membership configurations is
    recovered from the SF patterns by EM through the known flip rates, and the
    density ratio is the product of the components' ratios.
    """

    def __init__(
        self, flip_rates: FlipRates, k: int, pairs: Sequence[tuple[int, int]]
    ) -> None:
        self.inverses = flip_rates.inverse_matrices()
        self.flips = np.linalg.inv(self.inverses)
        self.pairs = list(pairs)
        self.components = _components(k, self.pairs)
        largest = max(self.components, key=len)
        if len(largest) > MAX_COMPONENT_SIZE:
            raise ValueError(
                f"pair terms link {len(largest)} SFs into one group; the noise-aware "
                f"estimate supports groups of at most {MAX_COMPONENT_SIZE} (pass a "
                "short edge list instead of pairs='all')"
            )

    @staticmethod
    def _grid(group: list[int]) -> np.ndarray:
        """All ``2^m`` membership configurations of a component, shape ``(2^m, m)``."""
        codes = np.arange(2 ** len(group))
        return ((codes[:, None] >> np.arange(len(group))) & 1).astype(bool)

    @staticmethod
    def _apply(group: list[int], table: np.ndarray, matrices: np.ndarray) -> np.ndarray:
        """``table`` (indexed by the group's bits) times each SF's 2x2 matrix on its axis."""
        cube = table.reshape((2,) * len(group), order="F")
        for axis, sf in enumerate(group):
            cube = np.moveaxis(
                np.tensordot(matrices[sf], cube, axes=(1, axis)), 0, axis
            )
        return cube.reshape(-1, order="F")

    @staticmethod
    def _codes(group: list[int], patterns: np.ndarray) -> np.ndarray:
        return patterns[:, group].astype(np.int64) @ (1 << np.arange(len(group)))

    def membership(self, patterns: np.ndarray, rows: np.ndarray) -> list[np.ndarray]:
        """Per component, the distribution of true membership (EM through the flips).

        ``P(g) = sum_z pi(z) M(z, g)``; EM's update ``pi(z) <- pi(z) * sum_g M(z, g)
        n(g) / (n P(g))`` keeps ``pi`` a distribution; half a row per cell of prior
        keeps every configuration possible.
        """
        distributions = []
        for group in self.components:
            observed = np.bincount(
                self._codes(group, patterns), weights=rows, minlength=2 ** len(group)
            )
            observed = (observed + 0.5) / (observed.sum() + 0.5 * len(observed))
            if len(group) == 1:
                # One SF: EM's fixed point in closed form, the deconvolved rate.
                (sf,) = group
                fp, fn = self.flips[sf, 0, 1], self.flips[sf, 1, 0]
                rate = np.clip((observed[1] - fp) / (1 - fp - fn), 1e-4, 1 - 1e-4)
                distributions.append(np.array([1 - rate, rate]))
                continue
            transposed = np.transpose(self.flips, (0, 2, 1))
            pi = observed.copy()
            for _ in range(500):
                predicted = self._apply(group, pi, transposed)
                updated = pi * self._apply(group, observed / predicted, self.flips)
                updated /= updated.sum()
                if np.abs(updated - pi).max() < 1e-10:
                    pi = updated
                    break
                pi = updated
            distributions.append(pi)
        return distributions

    def ratios(
        self,
        source_patterns: np.ndarray,
        source_rows: np.ndarray,
        target_patterns: np.ndarray,
        target_rows: np.ndarray,
    ) -> tuple[list[np.ndarray], np.ndarray]:
        """Per component ``pi_target / pi_source``, and the target's membership rates."""
        source = self.membership(source_patterns, source_rows)
        target = self.membership(target_patterns, target_rows)
        rates = np.zeros(source_patterns.shape[1])
        for group, pi in zip(self.components, target, strict=True):
            rates[group] = pi @ self._grid(group)
        return [t / s for s, t in zip(source, target, strict=True)], rates

    def weights(
        self, ratios: list[np.ndarray], patterns: np.ndarray, source_rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Surrogate weights of ``w(z)`` and of ``w(z) * z_j`` for each slice ``j``.

        Returns the overall weights ``(P,)`` (source-weighted mean 1) and the
        per-slice weights ``(k, P)`` on the same scale.
        """
        share = source_rows / source_rows.sum()
        codes = [self._codes(group, patterns) for group in self.components]
        values = [
            self._apply(group, ratio, self.inverses)[code]
            for group, ratio, code in zip(self.components, ratios, codes, strict=True)
        ]
        others = _products_of_others(values)
        overall = values[0] * others[0]
        norm = float(share @ overall)
        per_slice = np.zeros((patterns.shape[1], len(patterns)))
        for c, group in enumerate(self.components):
            grid = self._grid(group)
            for position, sf in enumerate(group):
                masked = self._apply(
                    group, ratios[c] * grid[:, position], self.inverses
                )
                per_slice[sf] = masked[codes[c]] * others[c]
        return overall / norm, per_slice / norm


def _products_of_others(values: list[np.ndarray]) -> list[np.ndarray]:
    """For each factor, the product of all the other factors (no division)."""
    prefix = [np.ones_like(values[0])]
    for value in values[:-1]:
        prefix.append(prefix[-1] * value)
    suffix = [np.ones_like(values[0])]
    for value in reversed(values[1:]):
        suffix.append(suffix[-1] * value)
    return [
        before * after for before, after in zip(prefix, reversed(suffix), strict=True)
    ]
