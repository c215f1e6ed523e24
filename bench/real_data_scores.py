"""Scores that do not hang on the 0.5 threshold, on the real data sets (issue 17).

``bench/real_data.py`` scores F1 of the arg-max prediction. On a table where every model
is weak (statsmodels' ``fair``: F1 about 51, recall below one half) that F1 follows how
many rows a model calls positive more than how well it ranks them: a model that calls
fewer rows positive loses F1 at the same accuracy. This bench trains the same runs
(``bench.real_data.fit_one``: same splits, seeds and early stopping) and reports, per
contender, mean ± std over seeds:

- F1 of the arg-max prediction (as ``bench/real_data.py``) and the share of test rows
  it calls positive;
- accuracy and ROC AUC (threshold-free);
- where the data set holds out validation rows (fair): F1 overall and mean slice F1 at
  the threshold on P(positive) that maximises F1 on the validation rows, chosen per
  model and seed, as a practitioner who reports F1 would;
- for ours and its variants, the share of test rows outside every slice, and inside
  one, that the slice experts answer (the user slices together hold at least half of
  the attention): how far the indicators claim rows beyond their slices.

    flock /tmp/slicing-bench.lock python -m bench.real_data_scores --seeds 20 --jobs 2
    python -m bench.real_data_scores --quick --no-write          # smoke test
"""

import logging
import time
from typing import Any

import numpy as np
import torch
from snorkel.analysis import metric_score

from bench import real_data
from bench.geometries import VARIANTS, slice_attention
from bench.report import machine_line, markdown_table, write_section
from bench.synthetic import Data, map_jobs

THRESHOLDS = np.round(np.arange(0.05, 0.951, 0.01), 2)  # searched on validation rows
COLUMNS = [
    "F1 (arg max)",
    "called positive %",
    "accuracy",
    "ROC AUC",
    "F1, validation threshold",
    "mean slice F1, validation threshold",
    "non-members answered by slice experts %",
    "members answered by slice experts %",
]


@torch.no_grad()
def positive_probabilities(model: torch.nn.Module, data: Data) -> np.ndarray:
    """P(class 1) for every row of ``data``."""
    model.eval()
    return model.logits(data.X).softmax(dim=1)[:, 1].numpy()


def f1_at(golds: np.ndarray, probs: np.ndarray, threshold: float) -> float:
    """F1 x 100 of ``probs > threshold`` against ``golds``."""
    preds = (probs > threshold).astype(np.int64)
    return 100 * metric_score(golds, preds, metric="f1")


def best_threshold(golds: np.ndarray, probs: np.ndarray) -> float:
    """The threshold of ``THRESHOLDS`` with the highest F1 (the lowest of ties)."""
    return float(THRESHOLDS[np.argmax([f1_at(golds, probs, t) for t in THRESHOLDS])])


def scores_of_run(job: tuple[Any, ...]) -> list[float]:
    """Train ``job`` (``fit_one``'s arguments) and score it: one value per column."""
    fitted = real_data.fit_one(*job)
    golds, probs = (
        fitted.test.Y.numpy(),
        positive_probabilities(fitted.model, fitted.test),
    )
    preds = (probs > 0.5).astype(np.int64)  # the arg max of two classes
    values = [
        100 * metric_score(golds, preds, metric="f1"),
        100 * preds.mean(),
        100 * metric_score(golds, preds, metric="accuracy"),
        100
        * metric_score(golds, probs=np.stack([1 - probs, probs], 1), metric="roc_auc"),
    ]
    if fitted.validation is not None:
        threshold = best_threshold(
            fitted.validation.Y.numpy(),
            positive_probabilities(fitted.model, fitted.validation),
        )
        members = fitted.test.true_slices
        values += [
            f1_at(golds, probs, threshold),
            float(
                np.mean(
                    [
                        f1_at(golds[members[:, j]], probs[members[:, j]], threshold)
                        for j in range(members.shape[1])
                    ]
                )
            ),
        ]
    else:
        values += [np.nan, np.nan]
    answered = slice_attention(fitted.model, fitted.test)
    if answered is None:
        values += [np.nan, np.nan]
    else:
        in_a_slice = fitted.test.true_slices.any(axis=1)
        values += [
            100 * answered[~in_a_slice].mean(),
            100 * answered[in_a_slice].mean(),
        ]
    return values


def scores_table(scores: dict[str, np.ndarray]) -> str:
    """One row per contender, mean ± std over seeds; blank where not measured."""

    def cell(values: np.ndarray) -> str:
        return (
            ""
            if np.isnan(values).all()
            else f"{values.mean():.1f} ± {values.std():.1f}"
        )

    rows = [
        [name, *(cell(values[:, j]) for j in range(len(COLUMNS)))]
        for name, values in scores.items()
    ]
    return markdown_table(["model", *COLUMNS], rows)


def correlations_table(scores: dict[str, np.ndarray]) -> str:
    """Per contender, over seeds: what the arg-max F1 moves with."""

    def corr(a: np.ndarray, b: np.ndarray) -> str:
        if np.isnan(a).all() or np.isnan(b).all() or a.std() == 0 or b.std() == 0:
            return ""
        return f"{np.corrcoef(a, b)[0, 1]:+.2f}"

    f1, positive, accuracy, claims = 0, 1, 2, 6  # columns of COLUMNS
    rows = [
        [
            name,
            corr(values[:, f1], values[:, positive]),
            corr(values[:, f1], values[:, accuracy]),
            corr(values[:, claims], values[:, f1]),
            corr(values[:, claims], values[:, positive]),
        ]
        for name, values in scores.items()
    ]
    return markdown_table(
        [
            "model (correlation over seeds)",
            "F1 (arg max) with called positive %",
            "F1 (arg max) with accuracy",
            "non-members answered by slice experts with F1 (arg max)",
            "non-members answered by slice experts with called positive %",
        ],
        rows,
    )


def main() -> None:
    parser = real_data.arguments(
        __doc__,
        [*real_data.CONTENDERS, "ours, unbalanced indicator loss"],
        20,
        "real-data-scores",
    )
    parser.add_argument("--quick", action="store_true", help="2 seeds, 3 epochs")
    args = parser.parse_args()
    torch.set_num_threads(1)
    logging.disable(logging.INFO)
    contenders = {
        name: {**real_data.CONTENDERS, **VARIANTS}[name] for name in args.contenders
    }
    specs = real_data.data_sets(args.test_fraction)
    real_data.load_fair()  # once, before any fork
    real_data.spam.load()
    seeds = 2 if args.quick else args.seeds

    started, sections = time.perf_counter(), []
    for data_set in args.datasets:
        spec = specs[data_set]
        epochs = 3 if args.quick else spec.epochs
        jobs = [
            (
                data_set,
                name,
                options,
                seed,
                epochs,
                spec.lr,
                spec.batch_size,
                args.test_fraction,
            )
            for seed in range(seeds)
            for name, options in contenders.items()
        ]
        raw: dict[str, list[list[float]]] = {name: [] for name in contenders}
        for job, values in map_jobs(scores_of_run, jobs, args.jobs):
            raw[job[1]].append(values)
            print(
                f"{data_set} seed={job[3]} {job[1]}: "
                + "/".join(f"{v:.1f}" for v in values),
                flush=True,
            )
        title = f"### {spec.title}"
        scores = {name: np.array(values) for name, values in raw.items()}
        body = f"{scores_table(scores)}\n\n{correlations_table(scores)}"
        print(f"\n{title}\n\n{body}\n", flush=True)
        sections.append(f"{title}\n\n{body}")
    minutes = (time.perf_counter() - started) / 60
    print(f"wall time {minutes:.1f} min", flush=True)
    header = (
        "## Real data, scores beside F1 at 0.5 (`bench/real_data_scores.py`)\n\n"
        f"{machine_line()} {seeds} seeds; the runs of `bench/real_data.py` (same "
        f"splits, seeds, training and early stopping); {minutes:.0f} min wall time. "
        "x 100, mean ± std over seeds. 'Validation threshold': the threshold on "
        "P(positive) with the best F1 on the rows that picked the epoch, per model "
        "and seed (fair only; spam holds out none). 'Answered by slice experts': test "
        "rows where the user slices together hold at least half of the attention "
        "(ours only); members: rows in at least one slice.\n\n"
        f"Reproduce: `python -m bench.real_data_scores --seeds {seeds} --jobs "
        f"{args.jobs} --datasets {' '.join(args.datasets)} --contenders "
        f"{real_data.quoted_names(list(contenders))}`.\n\n"
    )
    if not args.no_write:
        write_section(args.section, header + "\n\n".join(sections))


if __name__ == "__main__":
    main()
