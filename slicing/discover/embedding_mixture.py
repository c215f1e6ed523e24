"""The error-aware mixture: embeddings, errors, labels and predictions, fitted by EM.

Each component ``s`` has a weight ``pi_s``, a diagonal Gaussian over the (projected)
embedding and categorical distributions over the error, the gold label and the
prediction. A row's responsibility is proportional to::

    pi_s * N(z | mu_s, diag(var_s)) * prod_t P_t(x_t | s) ** w_t

over the categorical terms ``t`` given, each weighted by its ``w_t`` (Domino's
``gamma`` and ``gamma_hat``, Eyuboglu et al., ICLR 2022). Soft values (error
probabilities, predicted probabilities) enter as expected log-likelihoods
``sum_j x_tj * log P_t(j | s)``. Embeddings are first projected on their top principal
axes (eigenvectors of their covariance) and the EM runs in float32, so 100,000 x 512 fits in seconds.
The centroids are mapped back to the embedding space: nearest-centroid there is
nearest-centroid in the projection, so serving needs the embedding only.
"""

import numpy as np

from slicing.discover.embedding_inputs import categorical_terms
from slicing.discover.embedding_start import cells, kmeans_plus_plus, principal_axes
from slicing.discover.masks import check_finite_embeddings, nearest_centroid

__all__ = ["ErrorAwareMixture"]

#: Variance floor, relative to the mean variance of the projected embedding.
RELATIVE_MIN_VARIANCE = 1e-4
#: Floor of every categorical probability (keeps logs finite).
MIN_PROBABILITY = 1e-3
#: Responsibilities below exp(MIN_LOG_RESPONSIBILITY) are set to 0: tinier ones
#: (and their products) are float32 denormals, which make the matrix products of the
#: M step many times slower, and they change nothing.
MIN_LOG_RESPONSIBILITY = -30.0
#: The categorical terms start with a weight of at least ANNEAL_FROM and come down
#: (geometrically) to their own weights over the first ANNEAL_SHARE of the
#: iterations: components first settle on regions of one kind of error, then follow
#: the embedding, so that they stay compact (served by nearest centroid) without
#: merging adjacent errors of different kinds.
ANNEAL_FROM = 10.0
ANNEAL_SHARE = 0.5


class ErrorAwareMixture:
    """Diagonal Gaussian mixture over embeddings, with error, label and prediction terms.

    Parameters
    ----------
    n_clusters
        Number of components.
    error_weight
        Weight of the error's log-likelihood against the embedding's; 0 ignores it.
    n_iter
        Most EM iterations (it stops earlier once the mean log-likelihood changes by
        less than ``tol``).
    seed
        Seed of the k-means++ initialisation.
    label_weight
        Weight of the gold label's log-likelihood (Domino's
        ``y_log_likelihood_weight``, also 1 by default).
    prediction_weight
        Weight of the prediction's log-likelihood (Domino's
        ``y_hat_log_likelihood_weight``, also 1 by default).
    projection_dim
        Principal axes the embeddings are projected on before the mixture; ``None``
        keeps every dimension. Domino uses 128; with fewer, the diagonal Gaussians
        separate small adjacent regions more reliably (``bench/discovery_embeddings.py``
        tried 32, 48 and 64 on embeddings of 128-512 dims).
    tol
        Convergence threshold on the change of the mean log-likelihood per row.

    Attributes
    ----------
    means_
        ``(n_clusters, dim)`` centroids, in the space of the embeddings.
    variances_
        ``(n_clusters, projection_dim)`` variances, in the projected space.
    weights_
        ``(n_clusters,)`` mixing weights.
    error_rates_, label_probs_, prediction_probs_
        Per component: the error rate, ``(n_clusters, C)`` label and prediction
        distributions; ``None`` for a term not fitted.
    labels_
        Each fitted row's most likely component given everything it was fitted on
        (embedding, error, label, prediction).

    Notes
    -----
    The terms' weights are annealed: each starts at ``max(w, 10)`` and comes down
    geometrically to ``w`` over the first half of the iterations, so components
    first gather one kind of error each and then settle on the embedding. Served
    membership (:meth:`~slicing.discover.embedding_mixture.ErrorAwareMixture.predict`,
    nearest centroid on the embedding alone) agrees with ``labels_`` where
    components are compact; it cannot follow a split that only the labels make.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 1, (50, 2)), rng.normal(6, 1, (50, 2))])
    >>> errors = np.r_[np.zeros(50), np.ones(50)]
    >>> mixture = ErrorAwareMixture(2, seed=0).fit(X, errors)
    >>> np.sort(mixture.error_rates_).round(2).tolist()
    [0.0, 1.0]

    Labels and predictions split rows the embedding alone cannot (the gold label
    and the prediction are class indices or ``(n, C)`` probabilities):

    >>> golds = np.r_[np.zeros(50), np.ones(50)]
    >>> preds = 1 - golds
    >>> X = rng.normal(0, 1, (100, 2))
    >>> mixture = ErrorAwareMixture(2, seed=0).fit(X, golds=golds, preds=preds)
    >>> [len(set(mixture.labels_[:50])), len(set(mixture.labels_[50:]))]
    [1, 1]
    >>> bool(mixture.labels_[0] != mixture.labels_[50])
    True
    """

    def __init__(
        self,
        n_clusters: int,
        error_weight: float = 10.0,
        n_iter: int = 50,
        seed: int = 0,
        *,
        label_weight: float = 1.0,
        prediction_weight: float = 1.0,
        projection_dim: int | None = 48,
        tol: float = 1e-4,
    ) -> None:
        if not isinstance(n_clusters, int) or n_clusters < 1:
            raise ValueError(f"n_clusters must be a positive int; got {n_clusters!r}")
        for name, weight in (
            ("error_weight", error_weight),
            ("label_weight", label_weight),
            ("prediction_weight", prediction_weight),
        ):
            if not weight >= 0:
                raise ValueError(f"{name} must be >= 0; got {weight!r}")
        if projection_dim is not None and (
            not isinstance(projection_dim, int) or projection_dim < 1
        ):
            raise ValueError(
                f"projection_dim must be a positive int or None; got {projection_dim!r}"
            )
        self.n_clusters = n_clusters
        self.error_weight = error_weight
        self.n_iter = n_iter
        self.seed = seed
        self.label_weight = label_weight
        self.prediction_weight = prediction_weight
        self.projection_dim = projection_dim
        self.tol = tol

    def fit(
        self,
        embeddings: np.ndarray,
        errors: np.ndarray | None = None,
        *,
        golds: np.ndarray | None = None,
        preds: np.ndarray | None = None,
    ) -> "ErrorAwareMixture":
        """Fit by EM from k-means++ centres, on any of errors, labels, predictions.

        Parameters
        ----------
        embeddings
            ``(n, dim)`` embeddings.
        errors
            ``(n,)`` errors in [0, 1], or ``None``.
        golds, preds
            Gold labels and predictions: ``(n,)`` class indices ``0..C-1`` or
            ``(n, C)`` probabilities; either may be ``None``.

        Returns
        -------
        ErrorAwareMixture
            ``self``, fitted.

        Raises
        ------
        ValueError
            Some rows of ``embeddings`` hold NaN or infinity (names them).
        """
        rng = np.random.default_rng(self.seed)
        X = check_finite_embeddings(np.asarray(embeddings, dtype=np.float64))
        Z = self._project(X)
        terms = categorical_terms(
            len(X),
            (errors, self.error_weight, "error"),
            (golds, self.label_weight, "label"),
            (preds, self.prediction_weight, "prediction"),
        )
        min_variance = RELATIVE_MIN_VARIANCE * float(Z.var(axis=0).mean()) + 1e-12
        means = kmeans_plus_plus(Z, self.n_clusters, rng, cells(terms))
        variances = np.tile(Z.var(axis=0) + min_variance, (self.n_clusters, 1))
        weights = np.full(self.n_clusters, 1 / self.n_clusters, dtype=np.float32)
        probs = {
            name: np.tile(values.mean(axis=0), (self.n_clusters, 1))
            for name, (values, _) in terms.items()
        }
        squares = Z * Z
        previous = -np.inf
        anneal_steps = int(self.n_iter * ANNEAL_SHARE)
        for iteration in range(self.n_iter):
            remaining = max(0.0, 1 - iteration / max(anneal_steps, 1))
            log_resp, mean_loglik = _e_step(
                Z,
                squares,
                means,
                variances,
                weights,
                _annealed(terms, remaining),
                probs,
            )
            resp = np.exp(np.maximum(log_resp, MIN_LOG_RESPONSIBILITY))
            resp[log_resp <= MIN_LOG_RESPONSIBILITY] = 0.0
            mass = resp.sum(axis=0) + 1e-6
            weights = mass / mass.sum()
            means = (resp.T @ Z) / mass[:, None]
            second_moment = (resp.T @ squares) / mass[:, None]
            variances = np.maximum(second_moment - means**2, min_variance)
            probs = {
                name: _normalise((resp.T @ values) / mass[:, None])
                for name, (values, _) in terms.items()
            }
            if iteration >= anneal_steps and abs(mean_loglik - previous) < self.tol:
                break
            previous = mean_loglik
        log_resp, _ = _e_step(Z, squares, means, variances, weights, terms, probs)
        self.labels_ = log_resp.argmax(axis=1)
        self.weights_ = weights.astype(np.float64)
        self.variances_ = variances.astype(np.float64)
        self.means_ = self._unproject(means.astype(np.float64))
        self.error_rates_ = (
            probs["error"][:, 1].astype(np.float64) if "error" in probs else None
        )
        self.label_probs_ = probs.get("label")
        self.prediction_probs_ = probs.get("prediction")
        return self

    def predict(self, embeddings: np.ndarray) -> np.ndarray:
        """Nearest centroid of each row, from the embedding alone (how slices serve)."""
        return nearest_centroid(np.asarray(embeddings, dtype=np.float64), self.means_)

    def _project(self, X: np.ndarray) -> np.ndarray:
        self.center_ = X.mean(axis=0)
        centered = (X - self.center_).astype(np.float32)
        if self.projection_dim is None or self.projection_dim >= X.shape[1]:
            self.axes_ = None
            return centered
        self.axes_ = principal_axes(centered, self.projection_dim)
        return centered @ self.axes_.T

    def _unproject(self, means: np.ndarray) -> np.ndarray:
        if self.axes_ is None:
            return means + self.center_
        return means @ self.axes_.astype(np.float64) + self.center_


def _annealed(
    terms: dict[str, tuple[np.ndarray, float]], remaining: float
) -> dict[str, tuple[np.ndarray, float]]:
    """The terms with weights ``w * (max(w, ANNEAL_FROM) / w) ** remaining``."""
    return {
        name: (values, weight * (max(weight, ANNEAL_FROM) / weight) ** remaining)
        for name, (values, weight) in terms.items()
    }


def _e_step(
    Z: np.ndarray,
    squares: np.ndarray,
    means: np.ndarray,
    variances: np.ndarray,
    weights: np.ndarray,
    terms: dict[str, tuple[np.ndarray, float]],
    probs: dict[str, np.ndarray],
) -> tuple[np.ndarray, float]:
    """Log-responsibilities ``(n, k)`` and the mean log-likelihood per row."""
    precisions = (1 / variances).astype(np.float32)
    means = means.astype(np.float32)
    # Squared Mahalanobis distances, expanded so that the work is two matrix products.
    joint = squares @ precisions.T
    joint -= 2 * (Z @ (means * precisions).T)
    joint += (means**2 * precisions).sum(axis=1)
    joint += np.log(2 * np.pi * variances).sum(axis=1).astype(np.float32)
    joint *= -0.5
    joint += np.log(weights).astype(np.float32)
    for name, (values, weight) in terms.items():
        joint += weight * (values @ np.log(probs[name]).T.astype(np.float32))
    row_max = joint.max(axis=1, keepdims=True)
    joint -= row_max
    total = np.log(np.exp(joint).sum(axis=1, keepdims=True))
    joint -= total
    return joint, float((row_max + total).mean())


def _normalise(probabilities: np.ndarray) -> np.ndarray:
    floored = np.maximum(probabilities, MIN_PROBABILITY)
    return floored / floored.sum(axis=1, keepdims=True)
