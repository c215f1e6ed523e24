"""Slices of an embedding: an error-aware Gaussian mixture, served by nearest centroid.

For data without useful columns (text, images), cluster a model's embeddings with a
mixture whose components model both the embedding (diagonal Gaussian) and the
error (Bernoulli), the error's log-likelihood weighted by ``error_weight``, as in
Domino (Eyuboglu et al., ICLR 2022): components then follow regions where the model
errs, not just dense regions. A cluster becomes an SF that assigns each row to its
nearest centroid, so it needs only the embedding at serving time; its statistics
are those of that nearest-centroid slice. Clusters are described by the tokens of a
text column and the column values most over-represented in them.
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd

from slicing.discover.describe import describe_slice
from slicing.discover.masks import (
    Embedder,
    NearestCentroidMask,
    check_finite_embeddings,
    nearest_centroid,
)
from slicing.discover.result import DiscoveredSlice, DiscoveryResult
from slicing.discover.scoring import error_interval, sliceline_score
from slicing.discover.search_data import validate_errors

__all__ = ["ErrorAwareMixture", "find_embedding_slices"]

MIN_VARIANCE = 1e-6
MIN_RATE = 1e-3


class ErrorAwareMixture:
    """Gaussian mixture (diagonal) over embeddings, with a Bernoulli error per component.

    Parameters
    ----------
    n_clusters
        Number of components.
    error_weight
        Weight of the error's log-likelihood against the embedding's (Domino's
        ``gamma``); 0 clusters the embedding alone.
    n_iter
        EM iterations.
    seed
        Seed of the k-means++ initialisation.

    Attributes
    ----------
    means_, variances_, weights_, error_rates_
        Fitted parameters.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 1, (50, 2)), rng.normal(6, 1, (50, 2))])
    >>> errors = np.r_[np.zeros(50), np.ones(50)]
    >>> mixture = ErrorAwareMixture(2, seed=0).fit(X, errors)
    >>> np.sort(mixture.error_rates_).round(2).tolist()
    [0.0, 1.0]
    """

    def __init__(
        self,
        n_clusters: int,
        error_weight: float = 10.0,
        n_iter: int = 50,
        seed: int = 0,
    ) -> None:
        if not isinstance(n_clusters, int) or n_clusters < 1:
            raise ValueError(f"n_clusters must be a positive int; got {n_clusters!r}")
        if error_weight < 0:
            raise ValueError(f"error_weight must be >= 0; got {error_weight!r}")
        self.n_clusters = n_clusters
        self.error_weight = error_weight
        self.n_iter = n_iter
        self.seed = seed

    def fit(self, embeddings: np.ndarray, errors: np.ndarray) -> "ErrorAwareMixture":
        """Fit by EM, starting from k-means++ centres.

        Raises
        ------
        ValueError
            Some rows of ``embeddings`` hold NaN or infinity (names them).
        """
        rng = np.random.default_rng(self.seed)
        X = check_finite_embeddings(np.asarray(embeddings, dtype=np.float64))
        errors = np.clip(np.asarray(errors, dtype=np.float64), 0.0, 1.0)
        self.means_ = _kmeans_plus_plus(X, self.n_clusters, rng)
        spread = X.var(axis=0) + MIN_VARIANCE
        self.variances_ = np.tile(spread, (self.n_clusters, 1))
        self.weights_ = np.full(self.n_clusters, 1 / self.n_clusters)
        self.error_rates_ = np.full(
            self.n_clusters, np.clip(errors.mean(), MIN_RATE, 1 - MIN_RATE)
        )
        for _ in range(self.n_iter):
            responsibilities = self._responsibilities(X, errors)
            mass = responsibilities.sum(axis=0) + 1e-12
            self.weights_ = mass / mass.sum()
            self.means_ = responsibilities.T @ X / mass[:, None]
            second_moment = responsibilities.T @ (X**2) / mass[:, None]
            self.variances_ = np.maximum(second_moment - self.means_**2, MIN_VARIANCE)
            self.error_rates_ = np.clip(
                responsibilities.T @ errors / mass, MIN_RATE, 1 - MIN_RATE
            )
        return self

    def _responsibilities(self, X: np.ndarray, errors: np.ndarray) -> np.ndarray:
        precisions = 1 / self.variances_
        embedding_loglik = -0.5 * (
            (X**2) @ precisions.T
            - 2 * X @ (self.means_ * precisions).T
            + (self.means_**2 * precisions).sum(axis=1)
            + np.log(2 * np.pi * self.variances_).sum(axis=1)
        )
        error_loglik = np.outer(errors, np.log(self.error_rates_)) + np.outer(
            1 - errors, np.log(1 - self.error_rates_)
        )
        joint = (
            np.log(self.weights_) + embedding_loglik + self.error_weight * error_loglik
        )
        joint -= joint.max(axis=1, keepdims=True)
        probabilities = np.exp(joint)
        return probabilities / probabilities.sum(axis=1, keepdims=True)


def _kmeans_plus_plus(
    X: np.ndarray, n_clusters: int, rng: np.random.Generator
) -> np.ndarray:
    centres = [X[rng.integers(len(X))]]
    distances = ((X - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, n_clusters):
        total = distances.sum()
        # All points on the centres already: any point will do.
        weights = distances / total if total > 0 else None
        index = int(rng.choice(len(X), p=weights))
        centres.append(X[index])
        distances = np.minimum(distances, ((X - X[index]) ** 2).sum(axis=1))
    return np.array(centres)


def find_embedding_slices(
    embeddings: np.ndarray,
    errors: np.ndarray | pd.Series | Sequence[float],
    embed: str | Embedder,
    *,
    frame: pd.DataFrame | None = None,
    text_column: str | None = None,
    describe_columns: Sequence[str] = (),
    n_clusters: int = 20,
    error_weight: float = 10.0,
    min_support: int = 10,
    top_k: int = 5,
    score_weight: float = 0.95,
    n_iter: int = 50,
    seed: int = 0,
) -> DiscoveryResult:
    """Clusters of an embedding where the model errs most, as nearest-centroid slices.

    Parameters
    ----------
    embeddings
        ``(n, dim)`` embeddings of the rows (e.g. a model's last hidden layer).
    errors
        ``(n,)`` errors in [0, 1] (0/1, or a probability of error).
    embed
        How the SFs get embeddings at serving time: a column of the frame holding
        one vector per row, or a function from a DataFrame to ``(n, dim)``.
    frame
        The rows, to describe clusters; optional.
    text_column
        Column of ``frame`` whose over-represented tokens describe each cluster.
    describe_columns
        Columns of ``frame`` whose over-represented values describe each cluster.
    n_clusters
        Mixture components.
    error_weight
        Weight of the error in the mixture (Domino's ``gamma``).
    min_support
        Fewest rows a returned cluster has (nearest-centroid assignment).
    top_k
        Most clusters returned.
    score_weight
        ``alpha`` of the SliceLine score the clusters are ranked by (see
        :func:`~slicing.discover.search.find_slices`); only positive scores count.
    n_iter, seed
        EM iterations and seed.

    Returns
    -------
    DiscoveryResult
        Clusters best first, named ``cluster_<i>`` (readable names add the
        description).

    Raises
    ------
    ValueError
        On shapes that do not match, errors outside [0, 1], or embeddings holding
        NaN or infinity (the message gives the count and the first positions).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 1, (200, 3)), rng.normal(5, 1, (40, 3))])
    >>> errors = np.r_[rng.random(200) < 0.05, rng.random(40) < 0.8]
    >>> frame = pd.DataFrame({"emb": list(X)})
    >>> result = find_embedding_slices(X, errors, "emb", n_clusters=3, top_k=1)
    >>> result[0].size, round(result[0].error, 2)
    (40, 0.85)
    >>> int(result[0].to_sf().apply_to_frame(frame).sum())
    40
    """
    X = np.asarray(embeddings, dtype=np.float64)
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(
            f"embeddings must be a non-empty (n, dim) array; got shape {X.shape}"
        )
    check_finite_embeddings(X)
    error_values = validate_errors(errors, pd.DataFrame(index=range(len(X))))
    if error_values.max() > 1:
        raise ValueError(
            f"errors must be in [0, 1] for the mixture; got a maximum of {error_values.max()!r}"
        )
    if frame is not None and len(frame) != len(X):
        raise ValueError(f"frame has {len(frame)} rows but embeddings {len(X)}")
    mixture = ErrorAwareMixture(n_clusters, error_weight, n_iter, seed).fit(
        X, error_values
    )
    assignment = nearest_centroid(X, mixture.means_)
    sizes = np.bincount(assignment, minlength=n_clusters)
    sums = np.bincount(assignment, weights=error_values, minlength=n_clusters)
    squares = np.bincount(assignment, weights=error_values**2, minlength=n_clusters)
    mean_error = float(error_values.mean())
    if mean_error == 0:
        return DiscoveryResult([], len(X), 0.0)
    scores = sliceline_score(sizes, sums, len(X), mean_error, score_weight)
    eligible = np.flatnonzero((sizes >= min_support) & (scores > 0))
    ranked = eligible[np.argsort(-scores[eligible], kind="stable")][:top_k]
    binary = bool(np.isin(error_values, (0.0, 1.0)).all())
    low, high = error_interval(sizes, sums, squares, binary)
    slices = []
    for cluster in ranked:
        description = ""
        if frame is not None:
            description = describe_slice(
                frame, assignment == cluster, text_column, describe_columns
            )
        identifier = f"cluster_{cluster}"
        error = float(sums[cluster] / sizes[cluster])
        slices.append(
            DiscoveredSlice(
                name=f"{identifier} ({description})" if description else identifier,
                identifier=identifier,
                size=int(sizes[cluster]),
                error=error,
                error_low=float(low[cluster]),
                error_high=float(high[cluster]),
                error_lift=error / mean_error,
                score=float(scores[cluster]),
                level=1,
                mask=NearestCentroidMask(mixture.means_, cluster, embed),
                description=description,
            )
        )
    return DiscoveryResult(slices, len(X), mean_error)
