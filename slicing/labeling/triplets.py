"""Closed-form LF accuracies without gold labels: FlyingSquid's triplets, per slice.

For conditionally independent LFs (given the true class ``Y``) whose wrong votes are
spread evenly over the other classes (the "one-coin" model; abstaining independent of
``Y``), the agreement of two LFs over the rows where both vote,

    M_ij = (c * P(l_i = l_j | both vote) - 1) / (c - 1),

factors as ``M_ij = b_i b_j`` with ``b_i = (c a_i - 1) / (c - 1)`` and ``a_i`` LF ``i``'s
accuracy, whatever the class balance. For ``c = 2`` this is FlyingSquid's
``E[l_i l_j] = E[l_i Y] E[l_j Y]`` on +/-1 votes (Fu et al., ICML 2020), so
``b_i = sqrt(M_ij M_ik / M_jk)`` for any triplet; for ``c > 2`` the same algebra holds
under the one-coin model. We start from the median triplet estimate of each LF and
refine all of them at once by a least-squares rank-one fit of every pair, weighted by
the number of rows the pair co-votes (for three LFs this is exactly the triplet
formula). LFs are assumed better than random (``b_i >= 0``).

An LF that votes one class only inside the rows considered (a "unipolar" LF, such as
``SPAM if "http" in text else ABSTAIN``) breaks the assumption: when it votes, ``Y``
is no longer a coin flip of the same bias, and two such LFs of one class always
agree. Pairs involving one are left out, and an LF left without a triplet gets NaN;
the slice-aware label model's estimate (:meth:`SliceAwareLabelModel.lf_slice_accuracies`)
has no such restriction.
"""

import numpy as np

from slicing.labeling.inputs import ABSTAIN

__all__ = ["pairwise_agreements", "triplet_accuracies"]


def pairwise_agreements(
    L: np.ndarray, memberships: np.ndarray, cardinality: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Co-vote counts, centred agreements and voted classes of every LF pair, per group.

    Parameters
    ----------
    L
        Checked LF matrix ``(n, m)``.
    memberships
        Bool ``(n, g)``: the row groups (slices) to compute the statistics in.
    cardinality
        Number of classes ``c``.

    Returns
    -------
    tuple[np.ndarray, np.ndarray, np.ndarray]
        ``co_votes`` ``(g, m, m)``, ``agreement`` ``(g, m, m)`` (``M_ij`` above, NaN
        where the pair never co-votes) and ``classes_voted`` ``(g, m)``, the number of
        distinct classes each LF votes in the group.

    Examples
    --------
    >>> L = np.array([[0, 0], [1, 0], [1, 1], [-1, 1]])
    >>> co_votes, agreement, classes = pairwise_agreements(L, np.ones((4, 1), bool), 2)
    >>> int(co_votes[0, 0, 1]), float(agreement[0, 0, 1]), classes.tolist()
    (3, 0.33..., [[2, 2]])
    """
    voted = (L != ABSTAIN).astype(np.float64)
    weights = memberships.astype(np.float64)
    by_class = [(L == label).astype(np.float64) for label in range(cardinality)]
    n_groups, n_lfs = weights.shape[1], L.shape[1]
    co_votes = np.empty((n_groups, n_lfs, n_lfs))
    co_agree = np.zeros((n_groups, n_lfs, n_lfs))
    classes_voted = np.zeros((n_groups, n_lfs), dtype=np.int64)
    for group in range(n_groups):
        member = weights[:, group : group + 1]
        co_votes[group] = (voted * member).T @ voted
        for one_class in by_class:
            co_agree[group] += (one_class * member).T @ one_class
            classes_voted[group] += (member.T @ one_class)[0] > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        agree_rate = co_agree / co_votes
    agreement = (cardinality * agree_rate - 1) / (cardinality - 1)
    return co_votes, agreement, classes_voted


def _rank_one_fit(
    agreement: np.ndarray, weights: np.ndarray, n_iter: int = 50
) -> np.ndarray:
    """``b >= 0`` with ``agreement ~ b b^T`` off the diagonal; NaN for LFs without a triplet."""
    n_lfs = agreement.shape[0]
    usable = weights > 0
    safe = np.where(usable, agreement, 0.0)
    # Median triplet estimate b_i^2 = M_ij M_ik / M_jk over usable triplets.
    with np.errstate(divide="ignore", invalid="ignore"):
        squares = safe[:, :, None] * safe[:, None, :] / safe[None, :, :]
    valid = usable[:, :, None] & usable[:, None, :] & usable[None, :, :]
    valid &= (safe[None, :, :] > 1e-3) & ~np.eye(n_lfs, dtype=bool)[None, :, :]
    squares = np.where(valid, squares, np.nan)
    has_triplet = valid.reshape(n_lfs, -1).any(axis=1)
    b = np.zeros(n_lfs)
    if has_triplet.any():
        b[has_triplet] = np.sqrt(
            np.clip(np.nanmedian(squares[has_triplet].reshape(-1, n_lfs**2), 1), 0, 1)
        )
    w = np.where(usable, weights, 0.0) * np.outer(has_triplet, has_triplet)
    for _ in range(n_iter):
        denominator = w @ (b**2)
        with np.errstate(divide="ignore", invalid="ignore"):
            update = (w * safe) @ b / denominator
        b = np.where(has_triplet & (denominator > 0), np.clip(update, 0.0, 1.0), b)
    return np.where(has_triplet, b, np.nan)


def triplet_accuracies(
    L: np.ndarray,
    memberships: np.ndarray,
    cardinality: int,
    *,
    min_co_votes: int = 10,
) -> np.ndarray:
    """Estimated accuracy of every LF inside every row group, without gold labels.

    Parameters
    ----------
    L
        Checked LF matrix ``(n, m)``.
    memberships
        Bool ``(n, g)``: the groups (the whole data set, then each slice).
    cardinality
        Number of classes.
    min_co_votes
        Pairs of LFs that vote together on fewer rows of the group are not used.

    Returns
    -------
    np.ndarray
        ``(g, m)`` accuracies (share of an LF's votes that are right), NaN where an
        LF has no usable triplet in the group (see the module notes).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 20_000)
    >>> accuracy = np.array([0.9, 0.8, 0.7, 0.65])
    >>> right = rng.random((20_000, 4)) < accuracy
    >>> L = np.where(right, y[:, None], 1 - y[:, None])
    >>> estimate = triplet_accuracies(L, np.ones((20_000, 1), bool), 2)
    >>> bool(np.abs(estimate[0] - accuracy).max() < 0.02)
    True
    """
    co_votes, agreement, classes_voted = pairwise_agreements(
        L, memberships, cardinality
    )
    estimates = np.full(classes_voted.shape, np.nan)
    for group in range(co_votes.shape[0]):
        symmetric = classes_voted[group] > 1
        usable = (
            (co_votes[group] >= min_co_votes)
            & np.outer(symmetric, symmetric)
            & ~np.eye(L.shape[1], dtype=bool)
        )
        b = _rank_one_fit(agreement[group], np.where(usable, co_votes[group], 0.0))
        estimates[group] = 1 / cardinality + (cardinality - 1) / cardinality * b
    return estimates
