"""Synthetic weak supervision with slice-dependent LF accuracies (tests and benchmarks).

The setting of issue 16: every LF has a "home" slice where it is accurate and is
noisier elsewhere; slices overlap (memberships are drawn independently).
"""

from dataclasses import dataclass

import numpy as np

from slicing.labeling.inputs import ABSTAIN, check_cardinality
from slicing.matrix import make_slice_matrix

__all__ = ["SyntheticWeakSupervision", "make_sliced_votes"]


@dataclass
class SyntheticWeakSupervision:
    """Votes, slices, golds and the true accuracy of every LF on every row."""

    L: np.ndarray
    S: np.recarray
    Y: np.ndarray
    true_accuracy: np.ndarray  # (n, m)

    def lf_slice_accuracy(self) -> np.ndarray:
        """True mean accuracy of each LF over its votes: ``(m, 1 + k)``, overall first."""
        slices = self.S.view(np.bool_).reshape(len(self.S), -1)
        groups = np.column_stack([np.ones(len(self.Y), dtype=bool), slices])
        voted = (self.L != ABSTAIN).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            return ((groups.T @ (voted * self.true_accuracy)) / (groups.T @ voted)).T


def make_sliced_votes(
    n_rows: int = 20_000,
    n_lfs: int = 8,
    n_slices: int = 4,
    *,
    accuracy_in: float | np.ndarray = 0.85,
    accuracy_out: float | np.ndarray = 0.60,
    coverage: tuple[float, float] = (0.3, 0.6),
    slice_share: tuple[float, float] = (0.2, 0.4),
    cardinality: int = 2,
    seed: int = 0,
) -> SyntheticWeakSupervision:
    """Draw LF votes whose accuracy is ``accuracy_in`` in the LF's home slice, else ``accuracy_out``.

    LF ``i``'s home slice is ``i % n_slices``. Each slice holds each row independently
    with a probability drawn from ``slice_share`` (so slices overlap); each LF votes
    on a row with a probability drawn from ``coverage``, independently of the class;
    a wrong vote picks one of the other classes uniformly. Classes are balanced.
    ``accuracy_in`` and ``accuracy_out`` are one value or one per LF; equal values are
    the control where accuracy ignores the slices.

    Examples
    --------
    >>> data = make_sliced_votes(1000, 4, 2, seed=0)
    >>> data.L.shape, data.S.dtype.names, sorted(set(data.L.ravel().tolist()))
    ((1000, 4), ('slice_0', 'slice_1'), [-1, 0, 1])
    """
    cardinality = check_cardinality(cardinality)
    rng = np.random.default_rng(seed)
    golds = rng.integers(0, cardinality, n_rows)
    shares = rng.uniform(*slice_share, n_slices)
    members = rng.random((n_rows, n_slices)) < shares
    home = members[:, np.arange(n_lfs) % n_slices]
    inside = np.broadcast_to(np.asarray(accuracy_in, dtype=np.float64), (n_lfs,))
    outside = np.broadcast_to(np.asarray(accuracy_out, dtype=np.float64), (n_lfs,))
    true_accuracy = np.where(home, inside, outside)
    right = rng.random((n_rows, n_lfs)) < true_accuracy
    wrong_label = (
        golds[:, None] + rng.integers(1, cardinality, (n_rows, n_lfs))
    ) % cardinality
    L = np.where(right, golds[:, None], wrong_label)
    voting = rng.random((n_rows, n_lfs)) < rng.uniform(*coverage, n_lfs)
    L = np.where(voting, L, ABSTAIN)
    S = make_slice_matrix(members, [f"slice_{j}" for j in range(n_slices)])
    return SyntheticWeakSupervision(L=L, S=S, Y=golds, true_accuracy=true_accuracy)
