"""Extra starting points for refinement: the low-level slices with clearly raised error.

Refinement (:mod:`slicing.discover.refine`) can only improve slices it is given. The
lattice's top slices are not always enough: a slice whose thresholds fall inside
quantile bins is cut by the bins into pieces, and when it holds 1-2% of the rows
and tests three columns, every level-3 piece can fall below ``min_support`` and
every level-2 piece can score negative (its error is diluted by rows outside the
slice), so nothing near it reaches the top. Its level-2 pieces still have a clearly
raised error rate. :class:`SeedCollector` watches the lattice's level 2 and keeps the slices whose error is highest with confidence (the mean
minus ``SEED_Z`` standard errors, so that a small slice's lucky noise does not
win); refinement then moves their ranges and adds the missing range.
"""

import numpy as np

from slicing.discover.lattice import SliceTable
from slicing.discover.predicates import PredicateSpace
from slicing.discover.ranking import ScoredSlice, table_slices

__all__ = ["SEED_LEVELS", "SEED_POOL", "SEED_Z", "SeedCollector", "error_lower_bound"]

#: Levels whose slices may seed refinement (level 1 is large and costly to refine,
#: and its best slices are in the lattice's top anyway).
SEED_LEVELS = (2,)
#: Seeds kept per level, in multiples of ``top_k``.
SEED_POOL = 2
#: Standard errors taken off a slice's mean error to rank seeds.
SEED_Z = 2.0


def error_lower_bound(
    sizes: np.ndarray, sums: np.ndarray, squares: np.ndarray
) -> np.ndarray:
    """Mean error minus ``SEED_Z`` standard errors of the mean, per slice.

    Examples
    --------
    >>> error_lower_bound(np.array([100.0]), np.array([50.0]), np.array([50.0]))
    array([0.4])
    """
    sizes = np.asarray(sizes, dtype=np.float64)
    mean = sums / sizes
    variance = np.maximum(squares / sizes - mean**2, 0.0)
    return mean - SEED_Z * np.sqrt(variance / sizes)


class SeedCollector:
    """Keeps the ``per_level`` slices of each low level with the surest high error.

    Pass it as ``observe`` to :func:`~slicing.discover.lattice.search_lattice`.

    Parameters
    ----------
    per_level
        Slices kept per level.
    levels
        Levels whose slices are kept.

    Examples
    --------
    >>> collector = SeedCollector(1, levels=(1,))
    >>> table = SliceTable(np.array([[0], [1]]), np.array([100.0, 400.0]),
    ...                    np.array([28.0, 100.0]), None, np.ones(2), np.zeros(2))
    >>> collector(table)
    >>> collector.tables[0].predicates.tolist()   # 25% of 400 is surer than 28% of 100
    [[1]]
    """

    def __init__(self, per_level: int, levels: tuple[int, ...] = SEED_LEVELS) -> None:
        self.per_level = per_level
        self.levels = levels
        self.tables: list[SliceTable] = []

    def __call__(self, table: SliceTable) -> None:
        if table.predicates.shape[1] not in self.levels or len(table) == 0:
            return
        squares = table.sums if table.squares is None else table.squares
        bound = error_lower_bound(table.sizes, table.sums, squares)
        # Ties by predicate ids: the same seeds whatever the evaluation order.
        order = np.lexsort((*table.predicates.T[::-1], -bound))
        self.tables.append(table.take(order[: self.per_level]))

    def slices(self, space: PredicateSpace) -> list[ScoredSlice]:
        """The kept slices, lowest level first."""
        return [item for table in self.tables for item in table_slices(table, space)]
