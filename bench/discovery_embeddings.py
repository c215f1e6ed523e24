"""Benchmark: planted error slices in embeddings, Domino's protocol (issue 18).

Generator (one problem per seed): rows drawn from 20 Gaussian clusters in a 32-dim
latent space (centres about 6 noise sd apart), mapped into 128, 256 or 512 dims by a
random orthonormal map, plus isotropic noise (sd 0.5) in every dim. 3 to 5 planted
slices, each 1-5% of the rows, are tighter sub-clusters (sd 0.6) 3.5 sd off a
background cluster, each with an error type: a false-positive slice holds gold
negatives (90%) the model calls positive at a rate of 0.6-0.9, a false-negative
slice the reverse. Two of them are adjacent (centres 3 sd apart) with opposite error
types. Elsewhere the model errs at 2-12% per cluster, both ways. Predictions are
probabilities (``p >= 0.5`` is positive). Rows split in halves: the slicers fit on
the validation half and are scored on the test half.

Metrics (Domino's ``_compute_metrics``): for each planted slice, the discovered slice
(or complement) whose test-row membership scores have the best average precision
against the planted one; its precision-at-10 and -at-25 (top rows by score) and that
average precision. "Separated": both adjacent slices have distinct best matches in
one run, each with precision-at-10 >= 0.8.

Contenders, each returning 5 slices:

- ours: ``find_embedding_slices(golds=, preds=, error_type="any")`` (defaults);
  membership of a test row is its nearest-centroid margin ``min_t d_t^2 - d_s^2``
  (positive inside the served slice), from the embedding alone;
- ours per type: the ``false_positive`` run scores FP slices, the ``false_negative``
  run FN slices;
- Domino: ``bench/domino_reference.py`` (its defaults; posterior membership using the
  test labels and predictions, as Domino does);
- k-means: error-blind, 25 clusters on the same 128-dim PCA, top 5 by error rate,
  nearest-centroid margin.

Timing: ``find_embedding_slices`` on 100,000 x 512 (fit + nearest-centroid
statistics), beside Domino and k-means. Target <= 60 s on 2 cores.

    flock /tmp/slicing-bench.lock python bench/discovery_embeddings.py   # writes BENCHMARKS.md
    python bench/discovery_embeddings.py --quick --no-write              # a smoke run
"""

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.stats import rankdata
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import average_precision_score

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.domino_reference import DominoReference  # noqa: E402
from bench.report import machine_line, markdown_table, write_section  # noqa: E402
from slicing.discover.embedding import (  # noqa: E402
    MAX_CLUSTERS,
    ROWS_PER_CLUSTER,
    find_embedding_slices,
)
from slicing.discover.embedding_inputs import class_distributions  # noqa: E402
from slicing.discover.embedding_mixture import ErrorAwareMixture  # noqa: E402

LATENT_DIM = 32
N_BACKGROUND = 20
CENTRE_SEPARATION = 6.0
NOISE_SD = 0.5
SLICE_SD = 0.6
SLICE_OFFSET = 3.5
ADJACENT_OFFSET = 3.0
N_SLICES = 5
KS = (10, 25)
SEPARATED_PRECISION = 0.8


@dataclass
class Problem:
    embeddings: np.ndarray
    golds: np.ndarray
    probs: np.ndarray
    slices: np.ndarray  # (n, planted) bool
    error_types: list[str]
    adjacent: tuple[int, int]
    validation: np.ndarray  # bool

    def split(self, part: str):
        rows = self.validation if part == "validation" else ~self.validation
        return (
            self.embeddings[rows],
            self.golds[rows],
            self.probs[rows],
            self.slices[rows],
        )


def make_problem(seed: int, n_rows: int = 20_000, dim: int | None = None) -> Problem:
    """One planted-slice problem (see the module docstring)."""
    rng = np.random.default_rng(seed)
    dim = int(dim or rng.choice([128, 256, 512]))
    n_planted = int(rng.integers(3, 6))
    centres = rng.normal(size=(N_BACKGROUND, LATENT_DIM)) * (
        CENTRE_SEPARATION / np.sqrt(2 * LATENT_DIM)
    )
    shares = rng.uniform(0.01, 0.05, n_planted)
    parents = rng.choice(N_BACKGROUND, n_planted, replace=False)
    slice_centres = centres[parents] + SLICE_OFFSET * _unit(rng, n_planted)
    # Slice 1 sits next to slice 0, with the opposite error type.
    slice_centres[1] = slice_centres[0] + ADJACENT_OFFSET * _unit(rng, 1)[0]
    error_types = ["false_positive", "false_negative"] + list(
        rng.choice(["false_positive", "false_negative"], n_planted - 2)
    )
    counts = np.round(shares * n_rows).astype(int)
    background = n_rows - counts.sum()
    member = np.repeat(np.arange(-1, n_planted), [background, *counts])
    cluster = rng.integers(N_BACKGROUND, size=n_rows)
    latent = np.where(
        (member >= 0)[:, None],
        slice_centres[np.maximum(member, 0)]
        + SLICE_SD * rng.normal(size=(n_rows, LATENT_DIM)),
        centres[cluster] + rng.normal(size=(n_rows, LATENT_DIM)),
    )
    rotation, _ = np.linalg.qr(rng.normal(size=(dim, LATENT_DIM)))
    embeddings = latent @ rotation.T + NOISE_SD * rng.normal(size=(n_rows, dim))
    # Labels: background clusters lean to one class; FP slices hold negatives, FN positives.
    positive_share = rng.choice([0.1, 0.5, 0.9], N_BACKGROUND)[cluster]
    slice_positive = np.array(
        [0.1 if kind == "false_positive" else 0.9 for kind in error_types]
    )
    positive_share = np.where(
        member >= 0, slice_positive[np.maximum(member, 0)], positive_share
    )
    golds = (rng.random(n_rows) < positive_share).astype(np.int64)
    error_rate = rng.uniform(0.02, 0.12, N_BACKGROUND)[cluster]
    slice_error = rng.uniform(0.6, 0.9, n_planted)
    wrong_gold = np.array(
        [0 if kind == "false_positive" else 1 for kind in error_types]
    )
    in_slice_rate = np.where(
        golds == wrong_gold[np.maximum(member, 0)],
        slice_error[np.maximum(member, 0)],
        0.0,
    )
    error_rate = np.where(member >= 0, in_slice_rate, error_rate)
    wrong = rng.random(n_rows) < error_rate
    predicted = np.where(wrong, 1 - golds, golds)
    confidence = rng.uniform(0.55, 0.99, n_rows)
    probs = np.where(predicted == 1, confidence, 1 - confidence)
    order = rng.permutation(n_rows)
    slices = member[:, None] == np.arange(n_planted)[None, :]
    return Problem(
        embeddings=embeddings[order].astype(np.float32),
        golds=golds[order],
        probs=probs[order],
        slices=slices[order],
        error_types=error_types,
        adjacent=(0, 1),
        validation=rng.random(n_rows) < 0.5,
    )


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    directions = rng.normal(size=(n, LATENT_DIM))
    return directions / np.linalg.norm(directions, axis=1, keepdims=True)


def centroid_margins(
    embeddings: np.ndarray, centroids: np.ndarray, clusters
) -> np.ndarray:
    """``(n, len(clusters))`` nearest-centroid margins: > 0 inside the cluster's cell."""
    distances = (
        (embeddings**2).sum(axis=1)[:, None]
        - 2 * embeddings @ centroids.T
        + (centroids**2).sum(axis=1)[None, :]
    )
    margins = []
    for cluster in clusters:
        others = np.delete(distances, cluster, axis=1).min(axis=1)
        margins.append(others - distances[:, cluster])
    return np.column_stack(margins) if margins else np.zeros((len(embeddings), 0))


def match_slices(truth: np.ndarray, scores: np.ndarray) -> list[dict]:
    """Domino's metrics: per planted slice, the best (by AP) discovered slice.

    ``column`` of a match is the discovered slice's index, ``-1`` for a complement.
    """
    n_found = scores.shape[1]
    scores = np.concatenate([scores, -scores], axis=1)  # complements, as Domino
    matches = []
    for planted in range(truth.shape[1]):
        best = {"ap": -1.0}
        for column in range(scores.shape[1]):
            ap = average_precision_score(truth[:, planted], scores[:, column])
            if ap > best["ap"]:
                ranks = rankdata(-scores[:, column], method="ordinal")
                best = {"ap": ap, "column": column if column < n_found else -1}
                for k in KS:
                    best[f"p@{k}"] = float(truth[ranks <= k, planted].mean())
        if best["ap"] < 0:  # nothing found: no slice ranks the rows
            best = {
                "ap": float(truth[:, planted].mean()),
                "column": -1,
                **{f"p@{k}": 0.0 for k in KS},
            }
        matches.append(best)
    return matches


def run_ours(problem: Problem, error_type: str = "any") -> np.ndarray:
    X, golds, probs, _ = problem.split("validation")
    result = find_embedding_slices(
        X, embed="emb", golds=golds, preds=probs, error_type=error_type, top_k=N_SLICES
    )
    X_test = problem.split("test")[0]
    if len(result) == 0:
        return np.zeros((len(X_test), 0))
    centroids = result[0].mask.centroids
    return centroid_margins(X_test, centroids, [item.mask.cluster for item in result])


def served_agreement(problem: Problem) -> float:
    """Share of validation rows whose nearest centroid (served, embedding only) is
    their most likely component given embedding, label and prediction (fitted), for
    the mixture ``find_embedding_slices`` fits with its defaults."""
    X, golds, probs, _ = problem.split("validation")
    n_clusters = int(np.clip(len(X) // ROWS_PER_CLUSTER, 2, MAX_CLUSTERS))
    gold_dist, pred_dist = class_distributions(golds, probs)
    mixture = ErrorAwareMixture(n_clusters).fit(X, golds=gold_dist, preds=pred_dist)
    return float((mixture.predict(X) == mixture.labels_).mean())


def run_domino(problem: Problem, seed: int) -> np.ndarray:
    X, golds, probs, _ = problem.split("validation")
    domino = DominoReference(n_slices=N_SLICES, random_state=seed).fit(X, golds, probs)
    X_test, golds_test, probs_test, _ = problem.split("test")
    return domino.predict_proba(X_test, golds_test, probs_test)


def run_kmeans(problem: Problem, seed: int) -> np.ndarray:
    X, golds, probs, _ = problem.split("validation")
    pca = PCA(n_components=128).fit(X)
    kmeans = KMeans(n_clusters=25, n_init=1, random_state=seed).fit(pca.transform(X))
    errors = (probs >= 0.5) != golds
    rates = np.array(
        [
            errors[kmeans.labels_ == c].mean() if (kmeans.labels_ == c).any() else 0
            for c in range(25)
        ]
    )
    top = np.argsort(-rates)[:N_SLICES]
    X_test = pca.transform(problem.split("test")[0])
    return centroid_margins(X_test, kmeans.cluster_centers_, top)


def evaluate(seeds, n_rows: int) -> dict:
    """Per contender: lists of per-planted-slice metrics and separation counts."""
    names = ["ours", "ours per type", "Domino (reference)", "k-means (error-blind)"]
    out = {
        name: {"p@10": [], "p@25": [], "ap": [], "separated": 0, "seconds": 0.0}
        for name in names
    }
    out["ours"]["agreement"] = []
    for seed in seeds:
        problem = make_problem(seed, n_rows)
        truth = problem.split("test")[3]
        runs = {}
        started = time.perf_counter()
        runs["ours"] = match_slices(truth, run_ours(problem))
        out["ours"]["seconds"] += time.perf_counter() - started
        out["ours"]["agreement"].append(served_agreement(problem))
        by_type = {
            kind: match_slices(truth, run_ours(problem, kind))
            for kind in ("false_positive", "false_negative")
        }
        runs["ours per type"] = [
            by_type[kind][index] for index, kind in enumerate(problem.error_types)
        ]
        started = time.perf_counter()
        runs["Domino (reference)"] = match_slices(truth, run_domino(problem, seed))
        out["Domino (reference)"]["seconds"] += time.perf_counter() - started
        started = time.perf_counter()
        runs["k-means (error-blind)"] = match_slices(truth, run_kmeans(problem, seed))
        out["k-means (error-blind)"]["seconds"] += time.perf_counter() - started
        for name, matches in runs.items():
            for match in matches:
                for metric in ("p@10", "p@25", "ap"):
                    out[name][metric].append(match[metric])
            first, second = (matches[i] for i in problem.adjacent)
            separated = (
                first["column"] != second["column"]
                and min(first["column"], second["column"]) >= 0
                and min(first["p@10"], second["p@10"]) >= SEPARATED_PRECISION
            )
            if name != "ours per type":
                out[name]["separated"] += int(separated)
    return out


def timing(n_rows: int, dim: int) -> dict:
    """Seconds of each contender's fit (and ours' statistics) on one problem."""
    problem = make_problem(0, n_rows, dim)
    X, golds, probs = problem.embeddings, problem.golds, problem.probs
    contenders = {
        "ours": lambda: find_embedding_slices(X, embed="emb", golds=golds, preds=probs),
        "Domino (reference)": lambda: DominoReference(random_state=0).fit(
            X, golds, probs
        ),
        "k-means (error-blind)": lambda: KMeans(25, n_init=1, random_state=0).fit(
            PCA(n_components=128).fit_transform(X)
        ),
    }
    seconds = {}
    for name, run in contenders.items():
        started = time.perf_counter()
        run()
        seconds[name] = time.perf_counter() - started
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 seeds, no timing")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--seeds", type=int, nargs="*", default=None)
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    seeds = list(
        args.seeds if args.seeds is not None else range(3 if args.quick else 10)
    )
    results = evaluate(seeds, args.rows)
    domino_p10 = float(np.mean(results["Domino (reference)"]["p@10"]))
    rows = []
    for name, metrics in results.items():
        p10 = float(np.mean(metrics["p@10"]))
        separated = f"{metrics['separated']} / {len(seeds)}"
        rows.append(
            [
                name,
                f"{p10:.3f}",
                f"{np.mean(metrics['p@25']):.3f}",
                f"{np.mean(metrics['ap']):.3f}",
                f"{p10 / max(domino_p10, 1e-9):.2f}",
                "(two runs)" if name == "ours per type" else separated,
            ]
        )
    table = markdown_table(
        [
            "contender",
            "precision-at-10",
            "precision-at-25",
            "average precision",
            "p@10 / Domino",
            "adjacent FP/FN separated",
        ],
        rows,
    )
    ours = results["ours"]
    ours_p10 = float(np.mean(ours["p@10"]))
    agreement = ours["agreement"]
    notes = [
        f"Served (nearest centroid, embedding only) against fitted membership (with "
        f"labels and predictions) on the validation rows: {np.mean(agreement):.1%} "
        f"agree (min {np.min(agreement):.1%}).",
        f"- ours precision-at-10 {ours_p10:.3f} >= 0.8: "
        f"{'met' if ours_p10 >= 0.8 else 'NOT met'}; >= Domino ({domino_p10:.3f}): "
        f"{'met' if ours_p10 >= domino_p10 else 'NOT met'}",
        f"- adjacent slices separated in {ours['separated']} of {len(seeds)} seeds "
        f"(>= 8 of 10): "
        f"{'met' if ours['separated'] >= 0.8 * len(seeds) else 'NOT met'}",
    ]
    print(table, *notes, sep="\n")
    time_table = ""
    if not args.quick:
        load_before = os.getloadavg()[0]
        seconds = timing(100_000, 512)
        time_table = (
            markdown_table(
                ["contender", "seconds, 100,000 x 512"],
                [[name, f"{value:.1f}"] for name, value in seconds.items()],
            )
            + f"\n\nTarget for ours <= 60 s: "
            f"{'met' if seconds['ours'] <= 60 else 'NOT met'}. Load average (1 min) "
            f"before / after: {load_before:.2f} / {os.getloadavg()[0]:.2f}."
        )
        print(time_table)
    if not args.no_write:
        body = "\n\n".join(
            [
                "## Slice discovery in embeddings: planted error slices "
                "(`bench/discovery_embeddings.py`)",
                machine_line(),
                f"Seeds {seeds[0]}-{seeds[-1]}; {args.rows:,} rows (half validation, "
                "half test), 128-512 dims, 3-5 planted slices of 1-5% with an error "
                "type (two adjacent with opposite types), 5 slices returned by each "
                "contender. Means over all planted slices of all seeds (Domino's "
                "metrics: best-matching returned slice by average precision).",
                table,
                "\n".join(notes),
                time_table,
            ]
        )
        write_section("discovery_embeddings", body)


if __name__ == "__main__":
    main()
