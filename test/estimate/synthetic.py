"""A small source/target generator with known truth for the estimate tests."""

import numpy as np
import pandas as pd


def shifted_pair(
    seed: int, n_source: int, n_target: int, k: int = 6, eps: float = 0.0
) -> dict:
    """Latent slices z; source and target differ in P(z) only; SFs flip z at eps."""
    rng = np.random.default_rng(seed)
    source_rates = rng.uniform(0.1, 0.5, k)
    target_rates = np.clip(source_rates + rng.uniform(-0.1, 0.3, k), 0.05, 0.9)
    coef = rng.normal(-0.7, 0.5, k)

    def draw(n: int, rates: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        z = rng.random((n, k)) < rates
        g = z ^ (rng.random(z.shape) < eps)
        correct = rng.random(n) < 1 / (1 + np.exp(-(2.0 + z @ coef)))
        return z, g, correct

    z_s, g_s, correct = draw(n_source, source_rates)
    z_t, g_t, correct_t = draw(n_target, target_rates)
    names = [f"sf{j}" for j in range(k)]
    # The truth, exactly: the target's expected accuracy over the 2^k values of z,
    # overall and within each true slice.
    every_z = ((np.arange(2**k)[:, None] >> np.arange(k)) & 1).astype(bool)
    prob = np.prod(np.where(every_z, target_rates, 1 - target_rates), axis=1)
    accuracy = 1 / (1 + np.exp(-(2.0 + every_z @ coef)))
    return {
        "truth": float(prob @ accuracy),
        "slice_truth": (prob * accuracy) @ every_z / (prob @ every_z),
        "source": pd.DataFrame(g_s, columns=names),
        "target": pd.DataFrame(g_t, columns=names),
        "true_source": pd.DataFrame(z_s, columns=names),
        "correct": correct,
        "target_correct": correct_t,
    }
