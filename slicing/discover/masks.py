"""Membership tests of discovered slices: picklable, vectorized callables.

A slice's membership test is a small picklable callable (so the SFs run on Dask
process and ``distributed`` workers): :class:`ConjunctionMask` for a conjunction of
predicates, :class:`NearestCentroidMask` for a cluster of an embedding. Either takes
a whole DataFrame and returns one bool per row.
"""

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from slicing.discover.predicates import Predicate
from slicing.errors import format_label

__all__ = [
    "ConjunctionMask",
    "Embedder",
    "NearestCentroidMask",
    "check_finite_embeddings",
    "nearest_centroid",
]

Embedder = Callable[[pd.DataFrame], np.ndarray]

#: Row positions shown in an error message before "...".
SHOWN_ROWS = 5


def check_finite_embeddings(
    vectors: np.ndarray, labels: Sequence[object] | None = None
) -> np.ndarray:
    """Refuse embeddings holding NaN or infinity, naming the rows.

    A non-finite row has no nearest centroid (every distance is NaN, and
    ``argmin`` silently answers 0) and turns a mixture's parameters into NaN.

    Parameters
    ----------
    vectors
        ``(n, dim)`` embeddings.
    labels
        Index labels of the rows, shown next to their positions when given.

    Returns
    -------
    np.ndarray
        ``vectors``, unchanged.

    Raises
    ------
    ValueError
        Giving how many rows are not finite and the first few positions.

    Examples
    --------
    >>> check_finite_embeddings(np.array([[0.0, 1.0], [np.nan, 2.0], [1.0, np.inf]]))
    Traceback (most recent call last):
    ...
    ValueError: embeddings must be finite; 2 of 3 rows hold NaN or infinity, at positions [1, 2]: drop or impute those rows
    """
    bad = np.flatnonzero(~np.isfinite(vectors).all(axis=1))
    if len(bad) == 0:
        return vectors
    shown = bad[:SHOWN_ROWS]
    more = ", ..." if len(bad) > SHOWN_ROWS else ""
    where = f"positions [{', '.join(str(row) for row in shown)}{more}]"
    if labels is not None:
        shown_labels = ", ".join(format_label(labels[row]) for row in shown)
        where += f" (index labels [{shown_labels}{more}])"
    raise ValueError(
        f"embeddings must be finite; {len(bad)} of {len(vectors)} rows hold NaN or "
        f"infinity, at {where}: drop or impute those rows"
    )


class ConjunctionMask:
    """Rows satisfying every predicate of a conjunction.

    Examples
    --------
    >>> mask = ConjunctionMask([Predicate("video", "equals", 5),
    ...                         Predicate("n_words", "range", high=5.0)])
    >>> mask(pd.DataFrame({"video": [5, 5, 1], "n_words": [3, 9, 3]}))
    array([ True, False, False])
    """

    def __init__(self, predicates: Sequence[Predicate]) -> None:
        if not predicates:
            raise ValueError("a conjunction needs at least one predicate; got none")
        self.predicates = tuple(predicates)

    def __call__(self, frame: pd.DataFrame) -> np.ndarray:
        inside = self.predicates[0].mask(frame)
        for predicate in self.predicates[1:]:
            inside = inside & predicate.mask(frame)
        return inside


class NearestCentroidMask:
    """Rows whose embedding is nearest (Euclidean) to centroid ``cluster``.

    Parameters
    ----------
    centroids
        ``(clusters, dim)`` centroids.
    cluster
        Index of this slice's centroid.
    embed
        Name of a column holding one vector per row, or a function mapping a
        DataFrame to its ``(n, dim)`` embeddings (for instance a model's encoder).

    Raises
    ------
    KeyError, ValueError
        When called: the embedding column is missing, the embeddings have the wrong
        shape, or some rows hold NaN or infinity (they have no nearest centroid;
        see :func:`check_finite_embeddings`).

    Examples
    --------
    >>> mask = NearestCentroidMask(np.array([[0.0, 0.0], [5.0, 5.0]]), 1, "emb")
    >>> mask(pd.DataFrame({"emb": [np.array([4.0, 6.0]), np.array([1.0, 0.0])]}))
    array([ True, False])
    """

    def __init__(self, centroids: np.ndarray, cluster: int, embed: str | Embedder):
        self.centroids = np.asarray(centroids, dtype=np.float64)
        self.cluster = int(cluster)
        self.embed = embed

    def embeddings(self, frame: pd.DataFrame) -> np.ndarray:
        """The ``(n, dim)`` embeddings of the rows of ``frame``, checked to be finite."""
        if callable(self.embed):
            vectors = np.asarray(self.embed(frame), dtype=np.float64)
        else:
            if self.embed not in frame.columns:
                raise KeyError(
                    f"embedding column {self.embed!r} is not in the frame; it has "
                    f"{list(frame.columns)}"
                )
            column = frame[self.embed].to_numpy()
            vectors = np.stack(list(column)) if len(column) else np.empty((0, 0))
            vectors = vectors.astype(np.float64)
        if len(frame) and vectors.shape != (len(frame), self.centroids.shape[1]):
            raise ValueError(
                f"embeddings have shape {vectors.shape}; expected "
                f"({len(frame)}, {self.centroids.shape[1]})"
            )
        return check_finite_embeddings(vectors, frame.index)

    def __call__(self, frame: pd.DataFrame) -> np.ndarray:
        if len(frame) == 0:
            return np.zeros(0, dtype=np.bool_)
        return nearest_centroid(self.embeddings(frame), self.centroids) == self.cluster


def nearest_centroid(vectors: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Index of the nearest centroid of each vector (squared Euclidean distance)."""
    distances = (
        (vectors**2).sum(axis=1)[:, None]
        - 2 * vectors @ centroids.T
        + (centroids**2).sum(axis=1)[None, :]
    )
    return np.argmin(distances, axis=1)
