"""Bootstrap on counts: resampling rows is multinomial resampling of their pattern counts.

Drawing ``n`` rows with replacement from rows summarised as counts over cells gives
multinomial counts with the cells' shares; this draws them directly, either as row
indices (cheap when rows are few) or as a multinomial over the cells (cheap when
cells are few and rows many, such as a 10M-row target with a few thousand
patterns), so no resample ever materialises the rows of a large target.
"""

import numpy as np

__all__ = ["block_size", "draw_counts"]

#: Cells and rows drawn per block (bounds memory).
MAX_BLOCK_CELLS = 4_000_000


def block_size(*cells_per_replicate: int) -> int:
    """Replicates per block so that a block holds at most ``MAX_BLOCK_CELLS`` cells."""
    return max(1, MAX_BLOCK_CELLS // max(*cells_per_replicate, 1))


def draw_counts(counts: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` bootstrap replicates of ``counts`` (any shape): ``(size, *shape)``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> replicates = draw_counts(np.array([[3, 1], [0, 2]]), 5, rng)
    >>> replicates.shape, replicates.sum(axis=(1, 2)).tolist()
    ((5, 2, 2), [6, 6, 6, 6, 6])
    """
    flat = np.asarray(counts, dtype=np.int64).ravel()
    n_rows = int(flat.sum())
    present = np.flatnonzero(flat)
    replicates = np.zeros((size, flat.size), np.int64)
    if n_rows and n_rows <= 20 * len(present):
        owner = np.repeat(np.arange(len(present)), flat[present])
        picks = owner[rng.integers(0, n_rows, size=(size, n_rows))]
        offsets = (np.arange(size) * len(present))[:, None]
        drawn = np.bincount((picks + offsets).ravel(), minlength=size * len(present))
        replicates[:, present] = drawn.reshape(size, len(present))
    elif n_rows:
        replicates[:, present] = rng.multinomial(
            n_rows, flat[present] / n_rows, size=size
        )
    return replicates.reshape(size, *np.shape(counts))
