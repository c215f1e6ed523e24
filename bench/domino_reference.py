"""A faithful re-implementation of Domino's slicer, the baseline of the embedding benchmark.

Follows ``domino/_slice/mixture.py`` (HazyResearch/domino, before the "generalized"
rewrite, commit b4d149f^): ``MixtureSlicer`` with its defaults (``n_slices=5``,
``covariance_type="diag"``, ``n_pca_components=128``, ``n_mixture_components=25``,
``y_log_likelihood_weight=1``, ``y_hat_log_likelihood_weight=1``, ``max_iter=100``,
``init_params="confusion"``, ``confusion_noise=1e-3``) and ``DominoMixture``, a
scikit-learn ``GaussianMixture`` (``reg_covar=1e-6``, ``tol=1e-3``, one init) whose
E step adds ``gamma * log(y @ y_probs.T + eps)`` and
``gamma_hat * log(y_hat @ y_hat_probs.T + eps)`` to the Gaussian log-density and whose
M step re-estimates ``y_probs`` and ``y_hat_probs`` as responsibility-weighted means.
Slices are the ``n_slices`` components with the largest
``|max_j (y_hat_probs - y_probs)_j|`` (the gap between mean prediction and mean
label), and membership is the posterior given the embedding, the label and the
prediction (Domino's ``predict_proba`` uses the labels at inference too).

The sklearn pieces used there (``_estimate_gaussian_covariances_diag``,
``_compute_precision_cholesky``, ``_estimate_log_gaussian_prob``) are written out in
numpy here; PCA is scikit-learn's, as in Domino.
"""

import numpy as np
from scipy.special import logsumexp
from sklearn.decomposition import PCA

__all__ = ["DominoReference"]

EPS = np.finfo(np.float64).eps


class DominoReference:
    """Domino's ``MixtureSlicer`` (diagonal covariance, confusion initialisation)."""

    def __init__(
        self,
        n_slices: int = 5,
        n_pca_components: int | None = 128,
        n_mixture_components: int = 25,
        y_log_likelihood_weight: float = 1.0,
        y_hat_log_likelihood_weight: float = 1.0,
        max_iter: int = 100,
        confusion_noise: float = 1e-3,
        reg_covar: float = 1e-6,
        tol: float = 1e-3,
        random_state: int | None = None,
    ) -> None:
        self.n_slices = n_slices
        self.n_pca_components = n_pca_components
        self.n_components = n_mixture_components
        self.y_weight = y_log_likelihood_weight
        self.y_hat_weight = y_hat_log_likelihood_weight
        self.max_iter = max_iter
        self.confusion_noise = confusion_noise
        self.reg_covar = reg_covar
        self.tol = tol
        self.random_state = random_state

    # -- MixtureSlicer ---------------------------------------------------------------
    def fit(self, embeddings, targets, pred_probs) -> "DominoReference":
        embeddings = np.asarray(embeddings, dtype=np.float64)
        self.pca = None
        if self.n_pca_components is not None:
            self.pca = PCA(n_components=self.n_pca_components).fit(embeddings)
            embeddings = self.pca.transform(embeddings)
        y, y_hat = _preprocess_ys(np.asarray(targets), np.asarray(pred_probs))
        self._fit_mixture(embeddings, y, y_hat)
        gap = np.abs((self.y_hat_probs - self.y_probs).max(axis=1))
        self.slice_cluster_indices = (-gap).argsort()[: self.n_slices]
        return self

    def predict_proba(self, embeddings, targets, pred_probs) -> np.ndarray:
        """``(n, n_slices)`` membership probabilities (labels used, as in Domino)."""
        embeddings = np.asarray(embeddings, dtype=np.float64)
        if self.pca is not None:
            embeddings = self.pca.transform(embeddings)
        y, y_hat = _preprocess_ys(np.asarray(targets), np.asarray(pred_probs))
        _, log_resp = self._estimate_log_prob_resp(embeddings, y, y_hat)
        return np.exp(log_resp)[:, self.slice_cluster_indices]

    # -- DominoMixture ----------------------------------------------------------------
    def _fit_mixture(self, X: np.ndarray, y: np.ndarray, y_hat: np.ndarray) -> None:
        random_state = np.random.RandomState(self.random_state)
        self._initialize(X, y, y_hat, self._confusion_resp(y, y_hat, random_state))
        lower_bound = -np.inf
        self.converged_ = False
        n_iter = 0
        while n_iter < self.max_iter:
            n_iter += 1
            previous = lower_bound
            log_prob_norm, log_resp = self._estimate_log_prob_resp(X, y, y_hat)
            self._m_step(X, y, y_hat, log_resp)
            lower_bound = float(np.mean(log_prob_norm))
            if abs(lower_bound - previous) < self.tol:
                self.converged_ = True
                break
        self.n_iter_ = n_iter

    def _confusion_resp(self, y, y_hat, random_state) -> np.ndarray:
        n_samples, num_classes = y.shape
        if self.n_components < num_classes**2:
            raise ValueError(
                "Can't use 'init_params=\"confusion\"' when `n_components` < "
                "`num_classes **2`"
            )
        resp = np.matmul(y[:, :, np.newaxis], y_hat[:, np.newaxis, :]).reshape(
            n_samples, -1
        )
        repeats = int(self.n_components / num_classes**2) + (
            self.n_components % num_classes**2 > 0
        )
        resp = np.concatenate([resp] * repeats, axis=1)[:, : self.n_components]
        resp /= resp.sum(axis=1)[:, np.newaxis]
        resp += random_state.rand(n_samples, self.n_components) * self.confusion_noise
        resp /= resp.sum(axis=1)[:, np.newaxis]
        return resp

    def _initialize(self, X, y, y_hat, resp) -> None:
        self._set_parameters(X, y, y_hat, resp)

    def _m_step(self, X, y, y_hat, log_resp) -> None:
        self._set_parameters(X, y, y_hat, np.exp(log_resp))

    def _set_parameters(self, X, y, y_hat, resp) -> None:
        nk = resp.sum(axis=0) + 10 * np.finfo(resp.dtype).eps
        means = resp.T @ X / nk[:, np.newaxis]
        # sklearn's _estimate_gaussian_covariances_diag
        avg_X2 = resp.T @ (X * X) / nk[:, np.newaxis]
        avg_X_means = means * (resp.T @ X) / nk[:, np.newaxis]
        self.covariances_ = avg_X2 - 2 * avg_X_means + means**2 + self.reg_covar
        if np.any(self.covariances_ <= 0.0):
            raise ValueError("ill-defined empirical covariance (as sklearn raises)")
        self.precisions_cholesky_ = 1.0 / np.sqrt(self.covariances_)
        self.weights_ = nk / len(X)
        self.means_ = means
        self.y_probs = resp.T @ y / nk[:, np.newaxis]
        self.y_hat_probs = resp.T @ y_hat / nk[:, np.newaxis]

    def _estimate_log_prob_resp(self, X, y, y_hat):
        weighted = self._estimate_weighted_log_prob(X, y, y_hat)
        log_prob_norm = logsumexp(weighted, axis=1)
        with np.errstate(under="ignore"):
            log_resp = weighted - log_prob_norm[:, np.newaxis]
        return log_prob_norm, log_resp

    def _estimate_weighted_log_prob(self, X, y, y_hat):
        log_prob = self._estimate_log_gaussian_prob(X) + np.log(self.weights_)
        log_prob += self.y_weight * np.log(y @ self.y_probs.T + EPS)
        log_prob += self.y_hat_weight * np.log(y_hat @ self.y_hat_probs.T + EPS)
        return log_prob

    def _estimate_log_gaussian_prob(self, X):
        # sklearn's _estimate_log_gaussian_prob, covariance_type="diag"
        n_features = X.shape[1]
        log_det = np.sum(np.log(self.precisions_cholesky_), axis=1)
        precisions = self.precisions_cholesky_**2
        log_prob = (
            np.sum(self.means_**2 * precisions, 1)
            - 2.0 * (X @ (self.means_ * precisions).T)
            + (X**2) @ precisions.T
        )
        return -0.5 * (n_features * np.log(2 * np.pi) + log_prob) + log_det


def _preprocess_ys(y: np.ndarray, y_hat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Domino's ``_preprocess_ys``: one-hot labels, two-column binary predictions."""
    if np.issubdtype(y.dtype, np.integer):
        n_classes = int(y.max()) + 1
        y = np.eye(max(n_classes, 2))[y] if n_classes > 2 else y.astype(np.float64)
    if y.ndim == 1:
        y = y[:, np.newaxis]
    if y.shape[-1] == 1:
        y = np.array([1 - y[:, 0], y[:, 0]]).T
    if y_hat.ndim == 1:
        y_hat = np.array([1 - y_hat, y_hat]).T
    return y.astype(np.float64), y_hat.astype(np.float64)
