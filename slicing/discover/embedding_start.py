"""Where the error-aware mixture starts: the projection and balanced k-means++ centres.

The mixture runs on the top principal axes of the embeddings, and starts from
k-means++ centres drawn so that every cell (of the confusion matrix, or error / no
error) gets its share, however small it is: a small region of false positives next
to a large one of correct rows then has a component of its own from the start.
"""

import numpy as np

__all__ = ["cells", "kmeans_plus_plus", "principal_axes"]


def cells(terms: dict[str, tuple[np.ndarray, float]]) -> np.ndarray | None:
    """Each row's most likely category of every term, as one code (None: no terms)."""
    code = None
    for values, _ in terms.values():
        category = values.argmax(axis=1).astype(np.int64)
        code = category if code is None else code * values.shape[1] + category
    return code


def principal_axes(centered: np.ndarray, n_axes: int) -> np.ndarray:
    """Top ``n_axes`` principal axes ``(n_axes, dim)``, from the covariance matrix.

    One ``(dim, dim)`` matrix product and a small symmetric eigendecomposition: for
    embeddings (dim up to a few thousand) faster and steadier than an SVD of the rows.
    """
    covariance = (centered.T @ centered).astype(np.float64)
    _, vectors = np.linalg.eigh(covariance)
    return vectors[:, ::-1][:, :n_axes].T.astype(np.float32)


def kmeans_plus_plus(
    X: np.ndarray,
    n_clusters: int,
    rng: np.random.Generator,
    cells: np.ndarray | None = None,
) -> np.ndarray:
    """k-means++ centres; with ``cells``, each cell draws the same share of seeds.

    Rows are sampled with probability proportional to their squared distance to the
    nearest centre so far, times ``1 / (rows in the row's cell)`` when ``cells``
    (e.g. the cells of the confusion matrix) are given: small cells such as the
    false positives get centres, wherever in the embedding they sit. Cells of fewer
    than ``n / (4 * n_clusters)`` rows count as that many, so that the many tiny
    cells of a multiclass confusion matrix do not take every centre.
    """
    balance = np.ones(len(X))
    if cells is not None:
        _, codes, counts = np.unique(cells, return_inverse=True, return_counts=True)
        balance = 1.0 / np.maximum(counts, len(X) / (4 * n_clusters))[codes]
    first = rng.choice(len(X), p=balance / balance.sum())
    centres = [X[first]]
    distances = ((X - centres[0]) ** 2).sum(axis=1, dtype=np.float64)
    for _ in range(1, n_clusters):
        weights = distances * balance
        total = weights.sum()
        # All points on the centres already: any point will do.
        index = int(rng.choice(len(X), p=weights / total if total > 0 else None))
        centres.append(X[index])
        distances = np.minimum(
            distances, ((X - X[index]) ** 2).sum(axis=1, dtype=np.float64)
        )
    return np.array(centres)
