"""Features of the log-linear density ratio: SF outputs coded -1/+1 and pair products.

``phi(g) = [g_1, ..., g_k, g_i * g_j for each (i, j) in the pairs]`` with ``g`` in
``{-1, +1}``: the sufficient statistics whose source and target means the fit matches.
"""

from collections.abc import Sequence
from itertools import combinations
from typing import TypeAlias

import numpy as np

__all__ = ["PairsArg", "feature_matrix", "feature_names", "resolve_pairs"]

#: ``None`` (main effects only), ``"all"`` (every pair: use an L2 penalty), or a list
#: of pairs of SF names or column positions.
PairsArg: TypeAlias = None | str | Sequence[tuple[str | int, str | int]]


def resolve_pairs(pairs: PairsArg, slice_names: Sequence[str]) -> list[tuple[int, int]]:
    """Turn ``pairs`` into sorted, distinct ``(i, j)`` column positions with ``i < j``.

    Examples
    --------
    >>> resolve_pairs([("b", "a"), (0, 2)], ["a", "b", "c"])
    [(0, 1), (0, 2)]
    >>> resolve_pairs("all", ["a", "b", "c"])
    [(0, 1), (0, 2), (1, 2)]
    >>> resolve_pairs([("a", "x")], ["a", "b"])
    Traceback (most recent call last):
    ...
    ValueError: pair ('a', 'x') names 'x', which is not an SF; expected one of ['a', 'b']
    """
    names = list(slice_names)
    if pairs is None:
        return []
    if isinstance(pairs, str):
        if pairs != "all":
            raise ValueError(
                f"pairs must be None, 'all' or a list of SF pairs; got {pairs!r}"
            )
        return list(combinations(range(len(names)), 2))
    resolved = set()
    for pair in pairs:
        if isinstance(pair, str) or len(pair) != 2:
            raise ValueError(f"each pair must hold two SFs; got {pair!r}")
        positions = []
        for member in pair:
            if isinstance(member, str):
                if member not in names:
                    raise ValueError(
                        f"pair {tuple(pair)!r} names {member!r}, which is not an SF; "
                        f"expected one of {names}"
                    )
                positions.append(names.index(member))
            elif isinstance(member, int | np.integer) and 0 <= member < len(names):
                positions.append(int(member))
            else:
                raise ValueError(
                    f"pair {tuple(pair)!r} holds {member!r}; expected an SF name or a "
                    f"position in 0..{len(names) - 1}"
                )
        first, second = sorted(positions)
        if first == second:
            raise ValueError(f"pair {tuple(pair)!r} pairs an SF with itself")
        resolved.add((first, second))
    return sorted(resolved)


def feature_matrix(
    patterns: np.ndarray, pairs: Sequence[tuple[int, int]]
) -> np.ndarray:
    """``phi`` of each pattern: shape ``(P, k + len(pairs))``, float64 in {-1, +1}.

    Examples
    --------
    >>> feature_matrix(np.array([[True, False]]), [(0, 1)]).tolist()
    [[1.0, -1.0, -1.0]]
    """
    signs = np.where(patterns, 1.0, -1.0)
    if not pairs:
        return signs
    first, second = np.array(pairs, dtype=np.int64).T
    return np.concatenate([signs, signs[:, first] * signs[:, second]], axis=1)


def feature_names(
    slice_names: Sequence[str], pairs: Sequence[tuple[int, int]]
) -> list[str]:
    """Readable names of the features: the SF names, then ``"a*b"`` for each pair."""
    names = list(slice_names)
    return names + [f"{names[i]}*{names[j]}" for i, j in pairs]
