"""Train the demo's two networks: the same backbone with and without slice heads."""

from collections.abc import Sequence

import numpy as np
import torch
from snorkel.classification import DictDataset
from torch import nn
from tqdm.auto import tqdm

from slicing.model.classifier import SliceAwareClassifier

__all__ = ["train_classifier"]


def train_classifier(
    features: torch.Tensor,
    labels: torch.Tensor,
    S: np.ndarray | None,
    *,
    hidden: int = 32,
    epochs: int = 10,
    seed: int = 0,
    description: str = "training",
    progress: bool = True,
) -> SliceAwareClassifier:
    """Fit a ``SliceAwareClassifier`` on a linear + ReLU backbone, with a progress bar.

    With ``S=None`` the model has no slices: only the ``base`` slice's expert and the
    final head, i.e. a plain network with the same backbone, trained the same way.

    Parameters
    ----------
    features
        ``(n, d)`` float inputs.
    labels
        ``(n,)`` class labels.
    S
        Slice matrix of the same rows (its fields name the slices), or ``None``.
    hidden
        Width of the backbone's representation.
    epochs
        Passes over the data (Adam, learning rate 1e-3, batches of 32).
    seed
        Seeds the weights and the batch order: the same seed gives the same model.
    description
        Label of the progress bar.
    progress
        Show a tqdm bar counting batches.

    Returns
    -------
    SliceAwareClassifier

    Examples
    --------
    >>> X = torch.randn(64, 3)
    >>> model = train_classifier(X, (X[:, 0] > 0).long(), None, epochs=2, progress=False)
    >>> model.slice_names, model.predict(X).shape
    ([], (64,))
    """
    slice_names: Sequence[str] = [] if S is None else list(S.dtype.names or ())
    backbone = nn.Sequential(nn.Linear(features.shape[1], hidden), nn.ReLU())
    model = SliceAwareClassifier(backbone, head_dim=hidden, slice_names=slice_names)
    dataset = DictDataset.from_tensors(features, labels, split="train")
    loader = model.make_slice_dataloader(dataset, S, batch_size=32, shuffle=True)
    with tqdm(
        total=epochs * len(loader),
        desc=description,
        unit="batch",
        disable=not progress,
        leave=False,
    ) as bar:
        # One bar for the whole fit instead of snorkel's bar per epoch. The linear
        # layer runs once per training batch; snorkel calls the backbone's
        # ``forward`` directly, which skips hooks on the backbone itself.
        def count_batch(*_: object) -> None:  # returning None keeps the output
            bar.update(1)

        hook = backbone[0].register_forward_hook(count_batch)
        try:
            model.fit([loader], seed=seed, n_epochs=epochs, lr=1e-3, progress_bar=False)
        finally:
            hook.remove()
    return model
