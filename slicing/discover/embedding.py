"""Slices of an embedding: an error-aware mixture, served by nearest centroid.

For data without useful columns (text, images), cluster a model's embeddings with a
mixture whose components model the embedding and the error, and, given gold labels
and predictions, the label and the prediction (:mod:`slicing.discover.embedding_mixture`,
after Domino, Eyuboglu et al., ICLR 2022): components then follow regions where the
model errs, one kind of error each, not just dense regions. A cluster becomes an SF
that assigns each row to its nearest centroid, so it needs only the embedding at
serving time (no label); its statistics are those of that nearest-centroid slice.
Clusters are described by the tokens of a text column and the column values most
over-represented in them.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from slicing.discover.describe import describe_slice
from slicing.discover.embedding_inputs import check_embeddings, error_inputs
from slicing.discover.embedding_mixture import ErrorAwareMixture
from slicing.discover.masks import Embedder, NearestCentroidMask, nearest_centroid
from slicing.discover.result import DiscoveredSlice, DiscoveryResult
from slicing.discover.scoring import error_interval, sliceline_score

__all__ = ["ErrorAwareMixture", "find_embedding_slices"]

#: Default number of components: one per ROWS_PER_CLUSTER rows, at most MAX_CLUSTERS.
ROWS_PER_CLUSTER = 250
MAX_CLUSTERS = 40


def find_embedding_slices(
    embeddings: np.ndarray,
    errors: np.ndarray | pd.Series | Sequence[float] | None = None,
    embed: str | Embedder | None = None,
    *,
    golds: Any = None,
    preds: Any = None,
    error_type: str = "any",
    target_class: Any = None,
    frame: pd.DataFrame | None = None,
    text_column: str | None = None,
    describe_columns: Sequence[str] = (),
    n_clusters: int | None = None,
    error_weight: float = 10.0,
    label_weight: float = 1.0,
    prediction_weight: float = 1.0,
    projection_dim: int | None = 48,
    min_support: int = 10,
    top_k: int = 5,
    score_weight: float = 0.98,
    n_iter: int = 50,
    seed: int = 0,
) -> DiscoveryResult:
    """Clusters of an embedding where the model errs most, as nearest-centroid slices.

    Give either ``errors`` or ``golds`` and ``preds``. With labels and predictions the
    mixture models both per cluster (as Domino does), so false positives and false
    negatives fall in different clusters even where they sit side by side, and
    clusters are ranked by the rate of ``error_type``. Either way the returned SFs
    assign rows by nearest centroid on the embedding alone: no label is needed to
    serve them.

    Parameters
    ----------
    embeddings
        ``(n, dim)`` embeddings of the rows (e.g. a model's last hidden layer).
    errors
        ``(n,)`` errors in [0, 1] (0/1, or a probability of error).
    embed
        How the SFs get embeddings at serving time: a column of the frame holding
        one vector per row, or a function from a DataFrame to ``(n, dim)``. Required.
    golds
        ``(n,)`` gold labels (binary, multiclass, any hashable labels).
    preds
        ``(n,)`` predicted labels, ``(n,)`` positive-class probabilities (binary) or
        ``(n, C)`` class probabilities (then ``golds`` are ``0..C-1``).
    error_type
        ``"any"``, ``"false_positive"`` (predicted ``target_class``, truly another)
        or ``"false_negative"`` (truly ``target_class``, predicted another); see
        :func:`~slicing.discover.error_types.error_indicator`. Needs ``golds``.
    target_class
        Class of false positives and negatives; defaults to 1 for binary {0, 1}
        labels, required for multiclass.
    frame
        The rows, to describe clusters; optional.
    text_column
        Column of ``frame`` whose over-represented tokens describe each cluster.
    describe_columns
        Columns of ``frame`` whose over-represented values describe each cluster.
    n_clusters
        Mixture components; by default one per 250 rows, between 2 and 40 (Domino
        uses 25). More components than natural clusters is safer than fewer: a
        small error region needs a component of its own.
    error_weight
        Weight of ``errors`` in the mixture (with ``golds`` and ``preds`` the
        mixture models the label and the prediction instead).
    label_weight, prediction_weight
        Weights of the gold label and of the prediction in the mixture, the
        analogues of Domino's ``y_log_likelihood_weight`` and
        ``y_hat_log_likelihood_weight``; used with ``golds`` and ``preds``.
    projection_dim
        Principal axes the mixture runs on (``None``: all dimensions); see
        :class:`~slicing.discover.embedding_mixture.ErrorAwareMixture`.
    min_support
        Fewest rows a returned cluster has (nearest-centroid assignment).
    top_k
        Most clusters returned.
    score_weight
        ``alpha`` of the SliceLine score the clusters are ranked by (see
        :func:`~slicing.discover.search.find_slices`); only positive scores count.
    n_iter, seed
        Most EM iterations, and the seed.

    Returns
    -------
    DiscoveryResult
        Clusters best first, named ``cluster_<i>`` (readable names add the
        description); ``error`` is the rate of ``error_type`` (or of ``errors``).

    Raises
    ------
    ValueError
        On shapes that do not match, errors outside [0, 1], both or neither of
        ``errors`` and ``golds``/``preds``, a missing ``embed``, an unknown
        ``error_type``, or embeddings holding NaN or infinity (the message gives
        the count and the first positions).

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

    False positives and false negatives side by side (rows 0-59: negatives called
    positive; rows 60-119: positives called negative) come back apart:

    >>> rng = np.random.default_rng(0)
    >>> centres = np.repeat([[0.0, 0, 0], [4, 0, 0], [10, 0, 0]], [60, 60, 280], axis=0)
    >>> X = rng.normal(0, 1, (400, 3)) + centres
    >>> golds = np.repeat([0, 1, 0], [60, 60, 280])
    >>> flipped = rng.random(400) < np.repeat([0.8, 0.8, 0.03], [60, 60, 280])
    >>> preds = np.where(flipped, 1 - golds, golds)
    >>> frame = pd.DataFrame({"emb": list(X)})
    >>> for error_type in ("false_positive", "false_negative"):
    ...     found = find_embedding_slices(X, embed="emb", golds=golds, preds=preds,
    ...                                   error_type=error_type, n_clusters=3, top_k=1)
    ...     inside = found[0].to_sf().apply_to_frame(frame)
    ...     print(error_type, inside[:60].sum(), inside[60:120].sum(), inside.sum())
    false_positive 60 1 61
    false_negative 0 58 59
    """
    X = check_embeddings(embeddings)
    if embed is None:
        raise ValueError(
            "embed is required: the column holding each row's embedding, or a "
            "function from a DataFrame to its (n, dim) embeddings"
        )
    error_values, gold_dist, pred_dist = error_inputs(
        len(X), errors, golds, preds, error_type, target_class
    )
    if frame is not None and len(frame) != len(X):
        raise ValueError(f"frame has {len(frame)} rows but embeddings {len(X)}")
    mean_error = float(error_values.mean())
    if mean_error == 0:
        return DiscoveryResult([], len(X), 0.0)
    if n_clusters is None:
        n_clusters = int(np.clip(len(X) // ROWS_PER_CLUSTER, 2, MAX_CLUSTERS))
    mixture = ErrorAwareMixture(
        n_clusters,
        error_weight,
        n_iter,
        seed,
        label_weight=label_weight,
        prediction_weight=prediction_weight,
        projection_dim=projection_dim,
    ).fit(
        X, error_values if gold_dist is None else None, golds=gold_dist, preds=pred_dist
    )
    assignment = nearest_centroid(X, mixture.means_)
    sizes = np.bincount(assignment, minlength=n_clusters)
    sums = np.bincount(assignment, weights=error_values, minlength=n_clusters)
    squares = np.bincount(assignment, weights=error_values**2, minlength=n_clusters)
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
