"""The synthetic study of Chen et al. (2019), section 3.3: F1 overall and per slice.

Data: points uniform in [-1, 1]^2, label ``x0 + x1 > 0``, and two small discs
centred on the boundary (critical slices, ~3% and ~1.5% of the data) whose labels
are inverted. SFs return disc membership; with ``--noise p`` each SF misses a
fraction ``p`` of its slice and a fraction ``p`` of its outputs are false positives
drawn from outside the slice. F1 is measured on a fresh test set against true
membership.

Contenders share the backbone (2-layer MLP, d = 13), optimiser (Adam), batch size,
gradient clipping (1.0, snorkel ``Trainer``'s default), epochs and the training loop
(``calculate_loss`` of each model summed, on tensor-indexed batches, the same for
all): VANILLA, HPS (a head per slice on a shared backbone), MoE (a full expert per
slice plus a slice-supervised gate), ours (``slicing.SliceAwareClassifier``), ours
with the paper's attention ``softmax(Q + |P|)`` (the default until issue 17), ours
with the indicator entering the attention as ``log sigmoid(q)`` (an earlier default)
and ``snorkel.slicing.SliceAwareClassifier``.

Threads: ``torch.set_num_threads(1)`` (tiny models; more threads only add
contention on this 2-core machine). Run under the shared lock:

    flock /tmp/slicing-bench.lock python -m bench.synthetic --seeds 5 --epochs 150 --jobs 2
"""

import argparse
import contextlib
import copy
import logging
import multiprocessing
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from snorkel.analysis import metric_score
from snorkel.classification import DictDataset
from snorkel.slicing import SliceAwareClassifier as SnorkelSliceAwareClassifier
from torch import nn

from bench.report import machine_line, markdown_table, write_section
from slicing.matrix import make_slice_matrix
from slicing.model.averaging import (
    DEFAULT_EMA_DECAY,
    DEFAULT_EMA_MAX_EPOCHS,
    WeightAverage,
    decay_spanning_epochs,
)
from slicing.model.classifier import SliceAwareClassifier
from slicing.model.combiner import SliceCombinerModule
from slicing.model.losses import slice_losses

HIDDEN = 13
# (centre, fraction of the square covered); both centres lie on x0 + x1 = 0
DISCS = [((0.4, -0.4), 0.03), ((-0.55, 0.55), 0.015)]


@dataclass
class Data:
    X: torch.Tensor
    Y: torch.Tensor
    true_slices: np.ndarray  # (n, 2) bool, real membership
    sf_slices: np.ndarray  # (n, 2) bool, what the (possibly noisy) SFs say


def make_data(n_points: int, seed: int, noise: float) -> Data:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n_points, 2))
    Y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    true_slices = np.zeros((n_points, len(DISCS)), dtype=bool)
    for index, (centre, fraction) in enumerate(DISCS):
        radius = np.sqrt(fraction * 4 / np.pi)
        true_slices[:, index] = np.linalg.norm(X - np.array(centre), axis=1) < radius
        Y[true_slices[:, index]] = 1 - Y[true_slices[:, index]]
    return Data(
        torch.tensor(X, dtype=torch.float32),
        torch.from_numpy(Y),
        true_slices,
        noisy_sf_outputs(true_slices, noise, rng),
    )


def noisy_sf_outputs(
    true_slices: np.ndarray, noise: float, rng: np.random.Generator
) -> np.ndarray:
    """What noisy SFs say: each misses a fraction ``noise`` of its slice's members and
    marks as many outsiders instead (shared with ``bench/geometries.py``)."""
    sf_slices = true_slices.copy()
    if noise > 0:
        for index in range(true_slices.shape[1]):
            members = np.flatnonzero(true_slices[:, index])
            outsiders = np.flatnonzero(~true_slices[:, index])
            n_wrong = int(round(noise * len(members)))
            sf_slices[rng.choice(members, n_wrong, replace=False), index] = False
            sf_slices[rng.choice(outsiders, n_wrong, replace=False), index] = True
    return sf_slices


def backbone() -> nn.Module:
    return nn.Sequential(
        nn.Linear(2, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU()
    )


# --------------------------------------------------------------------- contenders
class Vanilla(nn.Module):
    """A backbone (``backbone()`` unless given) plus a linear head of ``width`` inputs."""

    def __init__(self, body: nn.Module | None = None, width: int = HIDDEN) -> None:
        super().__init__()
        self.body = backbone() if body is None else body
        self.head = nn.Linear(width, 2)

    def logits(self, X: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(X))

    def loss(
        self, X: torch.Tensor, Y: torch.Tensor, membership: torch.Tensor
    ) -> torch.Tensor:
        return F.cross_entropy(self.logits(X), Y)


class HardParameterSharing(nn.Module):
    """Shared backbone; one head per slice trained on its members, and the base
    slice's head (trained on all rows) makes the prediction."""

    def __init__(self, n_slices: int) -> None:
        super().__init__()
        self.body, self.n_heads = backbone(), n_slices + 1
        self.heads = nn.Linear(HIDDEN, 2 * self.n_heads)

    def _all_logits(self, X: torch.Tensor) -> torch.Tensor:
        return self.heads(self.body(X)).view(len(X), self.n_heads, 2)

    def logits(self, X: torch.Tensor) -> torch.Tensor:
        return self._all_logits(X)[:, -1]

    def loss(
        self, X: torch.Tensor, Y: torch.Tensor, membership: torch.Tensor
    ) -> torch.Tensor:
        no_indicator = torch.zeros(len(X), self.n_heads)
        _, head_losses = slice_losses(no_indicator, self._all_logits(X), membership, Y)
        return head_losses


class MixtureOfExperts(nn.Module):
    """A full copy of the model per slice (and the base) plus a slice-supervised gate."""

    def __init__(self, n_slices: int) -> None:
        super().__init__()
        self.experts = nn.ModuleList([Vanilla() for _ in range(n_slices + 1)])
        self.gate = nn.Linear(2, n_slices + 1)

    def _parts(
        self, X: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        expert_logits = torch.stack(
            [expert.logits(X) for expert in self.experts], dim=1
        )
        gate_logits = self.gate(X)
        mixture = (
            F.softmax(gate_logits, 1).unsqueeze(-1) * F.softmax(expert_logits, -1)
        ).sum(1)
        return mixture, expert_logits, gate_logits

    def logits(self, X: torch.Tensor) -> torch.Tensor:
        return self._parts(X)[0].clamp_min(1e-8).log()

    def loss(
        self, X: torch.Tensor, Y: torch.Tensor, membership: torch.Tensor
    ) -> torch.Tensor:
        mixture, expert_logits, gate_logits = self._parts(X)
        gate_loss, expert_loss = slice_losses(gate_logits, expert_logits, membership, Y)
        return F.nll_loss(mixture.clamp_min(1e-8).log(), Y) + gate_loss + expert_loss


class SnorkelStyle(nn.Module):
    """Adapter: a MultitaskClassifier trained through its own ``calculate_loss``."""

    def __init__(self, model: nn.Module, Y_dict: dict[str, torch.Tensor]) -> None:
        super().__init__()
        self.model, self.Y_dict = model, Y_dict

    def logits(self, X: torch.Tensor) -> torch.Tensor:
        outputs = self.model.forward({"input_data": X}, ["task"])
        return outputs[self.model.op_sequences["task"][-1].name]

    def batch_loss(self, rows: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
        Y_batch = {name: labels[rows] for name, labels in self.Y_dict.items()}
        losses, _ = self.model.calculate_loss({"input_data": X}, Y_batch)
        return torch.stack(list(losses.values())).sum()


def slice_names_of(data: Data) -> list[str]:
    """``s1``, ``s2``, ... one per SF column of ``data``."""
    return [f"s{index + 1}" for index in range(data.sf_slices.shape[1])]


def build(
    name: str,
    data: Data,
    options: dict,
    body: nn.Module | None = None,
    width: int = HIDDEN,
) -> nn.Module:
    """A contender; ``body`` (of output ``width``) replaces the 2-D ``backbone()``
    (``bench/real_data.py``; HPS and MoE are 2-D only). ``options["ema_decay"]``
    sets the weight averaging ``train`` does (ours: ``DEFAULT_EMA_DECAY`` unless
    given, like ``SliceAwareClassifier.fit``; others: none unless given) and
    ``options["ema_max_epochs"]`` the longest span of the average in epochs
    (``DEFAULT_EMA_MAX_EPOCHS`` unless given; ``None``: no cap), as ``fit``'s;
    ``options["average_with_early_stopping"]`` keeps it under early stopping too."""
    options = dict(options)
    # Weight averaging (``train``): ours averages by default, as its ``fit`` does;
    # the other contenders only when asked.
    ema_decay = options.pop("ema_decay", DEFAULT_EMA_DECAY if _is_ours(name) else None)
    with_early_stopping = options.pop("average_with_early_stopping", False)
    ema_max_epochs = options.pop("ema_max_epochs", DEFAULT_EMA_MAX_EPOCHS)
    model = _build(name, data, options, body, width)
    model.ema_decay = ema_decay
    model.ema_max_epochs = ema_max_epochs
    model.average_with_early_stopping = with_early_stopping
    return model


def _is_ours(name: str) -> bool:
    """Whether contender ``name`` is a ``SliceAwareClassifier`` of this package."""
    return name.startswith(("ours", "naive"))


def _build(
    name: str, data: Data, options: dict, body: nn.Module | None, width: int
) -> nn.Module:
    slice_names = slice_names_of(data)
    n_slices = len(slice_names)
    if name == "VANILLA":
        return Vanilla(body, width)
    if name == "HPS":
        return HardParameterSharing(n_slices)
    if name == "MoE":
        return MixtureOfExperts(n_slices)
    dataset = DictDataset.from_tensors(data.X, data.Y, "train")
    body = backbone() if body is None else body
    if _is_ours(name):
        combiner_class = options.pop("combiner_class", SliceCombinerModule)
        classifier_class = options.pop("classifier_class", SliceAwareClassifier)
        # The classifier's own options; the rest configure the combiner.
        classifier_options = {
            key: options.pop(key)
            for key in (
                "share_final_head",
                "balance_indicators",
                "member_weight_decay",
                "indicator_dim",
                "small_slice_fraction",
                "base_predictor_rows",
            )
            if key in options
        }
        model = classifier_class(
            body,
            width,
            slice_names,
            combiner=combiner_class(**options),
            **classifier_options,
        )
        S = make_slice_matrix(data.sf_slices, slice_names)
    else:
        model = SnorkelSliceAwareClassifier(body, width, slice_names, device=-1)
        S = np.rec.fromarrays(
            [data.sf_slices[:, j].astype(np.int64) for j in range(n_slices)],
            names=slice_names,
        )
    loader = model.make_slice_dataloader(dataset, S)
    if isinstance(model, SliceAwareClassifier):  # as its fit does
        model.mark_small_slices([loader])
    return SnorkelStyle(model, loader.dataset.Y_dict)


def train(
    model: nn.Module,
    data: Data,
    epochs: int,
    lr: float,
    batch_size: int,
    validation: Data | None = None,
    patience: int = 10,
    after_epoch: Callable[[int], None] | None = None,
) -> int:
    """Adam with grad clip 1.0 for ``epochs`` epochs; the epochs run.

    With ``validation``, the same for every contender: after each epoch the overall F1
    on ``validation`` is measured, the weights of the best epoch are kept, and training
    stops after ``patience`` epochs without a better one. ``after_epoch(epoch)`` is
    called after each epoch (``bench/trajectory.py``); it must not draw random numbers,
    so that the run stays the one ``train`` makes without it.

    A model built with an ``ema_decay`` (``build``) keeps an exponential moving
    average of its weights (``slicing.model.averaging.WeightAverage``, updated after
    every step, spanning at most the model's ``ema_max_epochs`` epochs);
    ``after_epoch`` and the final weights use the average. With ``validation``
    (early stopping) the best epoch's own weights are kept and nothing
    is averaged, as ``SliceAwareClassifier.fit(checkpointing=True)`` does, unless the
    model was built with ``average_with_early_stopping`` (then validation scores the
    average and its best state is kept): on the ``fair`` table the average under
    early stopping was the more accurate model for ours and snorkel.slicing but
    called fewer rows positive, and cost about 3 points of F1 at 0.5 (issue 17,
    steps 12 and 13).
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    ema_decay = getattr(model, "ema_decay", None)
    if validation is not None and not getattr(
        model, "average_with_early_stopping", False
    ):
        ema_decay = None
    if ema_decay is not None:
        steps_per_epoch = -(-len(data.Y) // batch_size)
        ema_decay = decay_spanning_epochs(
            ema_decay, steps_per_epoch, getattr(model, "ema_max_epochs", None)
        )
    average = None if ema_decay is None else WeightAverage(model, ema_decay)

    def averaged() -> contextlib.AbstractContextManager:
        return contextlib.nullcontext() if average is None else average.swapped_in()

    membership = torch.from_numpy(
        np.concatenate([data.sf_slices, np.ones((len(data.Y), 1), bool)], axis=1)
    )
    best_f1, best_state, since_best, epochs_run = -1.0, None, 0, 0
    while epochs_run < epochs:
        epochs_run += 1
        model.train()
        for rows in torch.randperm(len(data.Y)).split(batch_size):
            X = data.X[rows]
            if isinstance(model, SnorkelStyle):
                loss = model.batch_loss(rows, X)
            else:
                loss = model.loss(X, data.Y[rows], membership[rows])
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            if average is not None:
                average.update()
        if after_epoch is not None:
            with averaged():
                after_epoch(epochs_run)
        if validation is None:
            continue
        with averaged():
            f1 = metric_score(
                validation.Y.numpy(), predictions(model, validation), metric="f1"
            )
            better = f1 > best_f1
            if better:
                best_f1, best_state = f1, copy.deepcopy(model.state_dict())
        since_best = 0 if better else since_best + 1
        if since_best >= patience:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    elif average is not None:
        average.copy_to_module()
    return epochs_run


@torch.no_grad()
def predictions(model: nn.Module, data: Data) -> np.ndarray:
    model.eval()
    return model.logits(data.X).argmax(dim=1).numpy()


def f1_scores(model: nn.Module, data: Data) -> list[float]:
    """F1 overall, then on each slice's true members."""
    preds = predictions(model, data)
    golds = data.Y.numpy()
    masks = [np.ones(len(golds), bool)] + [
        data.true_slices[:, j] for j in range(data.true_slices.shape[1])
    ]
    return [100 * metric_score(golds[m], preds[m], metric="f1") for m in masks]


def run_one(
    name: str,
    options: dict,
    seed: int,
    epochs: int,
    lr: float,
    noise: float,
    n_points: int,
    batch_size: int,
) -> tuple[list[float], float]:
    """Train one contender on one seed; F1 (overall, s1, s2) and seconds taken."""
    torch.set_num_threads(1)
    logging.disable(logging.INFO)
    train_data = make_data(n_points, seed, noise)
    test_data = make_data(n_points, 1000 + seed, 0.0)
    torch.manual_seed(seed)
    started = time.perf_counter()
    model = build(name, train_data, options)
    train(model, train_data, epochs, lr, batch_size)
    return f1_scores(model, test_data), time.perf_counter() - started


def _run_job(job: tuple) -> tuple[list[float], float]:
    return run_one(*job)


def run(
    contenders: dict[str, dict],
    seeds: int,
    epochs: int,
    lr: float,
    noise: float,
    n_points: int,
    batch_size: int,
    progress: Callable[[str], None],
    jobs: int = 1,
) -> dict[str, np.ndarray]:
    """F1 (overall, s1, s2) per contender and seed: ``{name: (seeds, 3)}``.

    With ``jobs > 1`` the (seed, contender) runs go to that many forked worker
    processes, one thread each; every run seeds torch itself, so the numbers do not
    depend on ``jobs``.
    """
    runs = [
        (name, options, seed, epochs, lr, noise, n_points, batch_size)
        for seed in range(seeds)
        for name, options in contenders.items()
    ]
    results: dict[str, list[list[float]]] = {name: [] for name in contenders}

    def record(job: tuple, outcome: tuple[list[float], float]) -> None:
        scores, seconds = outcome
        results[job[0]].append(scores)
        progress(
            f"lr={lr} noise={noise} seed={job[2]} {job[0]}: "
            + "/".join(f"{s:.1f}" for s in scores)
            + f" ({seconds:.0f} s)"
        )

    for job, outcome in map_jobs(_run_job, runs, jobs):
        record(job, outcome)
    return {name: np.array(rows) for name, rows in results.items()}


def map_jobs(
    worker: Callable[[tuple], Any], runs: list[tuple], jobs: int
) -> Iterator[tuple[tuple, Any]]:
    """``(job, worker(job))`` in order; with ``jobs > 1`` in that many forked workers
    (shared with ``bench/geometries.py``)."""
    if jobs > 1:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            yield from zip(runs, pool.imap(worker, runs), strict=True)
    else:
        for job in runs:
            yield job, worker(job)


def table(results: dict[str, np.ndarray], reference: dict[str, str]) -> str:
    rows = []
    for name, scores in results.items():
        mean, std = scores.mean(axis=0), scores.std(axis=0)
        cells = [f"{m:.1f} ± {s:.1f}" for m, s in zip(mean, std, strict=True)]
        vanilla = results.get("VANILLA")  # absent when --contenders leaves it out
        slice_gain = (
            f"{scores[:, 1:].mean() - vanilla[:, 1:].mean():+.1f}"
            if vanilla is not None
            else ""
        )
        rows.append([name, *cells, slice_gain, reference.get(name, "")])
    return markdown_table(
        [
            "model",
            "F1 overall",
            "F1 s1",
            "F1 s2",
            "slice F1 vs VANILLA",
            "paper (overall/s1/s2)",
        ],
        rows,
    )


PAPER = {
    "VANILLA": "96.6/52.9/68.8",
    "HPS": "96.7/50.0/75.0",
    "MoE": "98.5/88.2/87.5",
    "ours": "97.9/91.2/81.3 (SBL)",
}

MAIN_CONTENDERS: dict[str, dict] = {
    "VANILLA": {},
    "HPS": {},
    "MoE": {},
    "ours": {},
    "ours, MLP indicator": {"indicator_dim": None},
    "ours, Q + |P| attention (previous default)": {
        "mode": "full",
        "balance_indicators": 0.5,
    },
    "ours, Q = log sigmoid(q)": {"indicator_score": "log_probability"},
    "snorkel.slicing": {},
}

ABLATION_CONTENDERS: dict[str, dict] = {
    "VANILLA": {},
    "ours (default)": {},
    "ours, separate final head h": {"share_final_head": False},
    "ours, unbalanced indicator loss": {"balance_indicators": False},
    "ours, indicator detached from attention gradient": {"detach_indicator": True},
    "ours, Q + |P|, confidence carries attention gradient": {
        "mode": "full",
        "detach_confidence": False,
    },
    "ours, Q = log sigmoid(q)": {"indicator_score": "log_probability"},
    "ours, Q = raw logit, base slice's too": {"indicator_score": "logit"},
    "ours, temperature 2": {"temperature": 2.0},
    "naive paper-literal (separate h, raw logit Q, all gradients)": {
        "share_final_head": False,
        "balance_indicators": False,
        "indicator_score": "logit",
        "detach_indicator": False,
        "detach_confidence": False,
        "mode": "full",
    },
    "ours, Q + |P| (the paper's attention, previous default)": {"mode": "full"},
    "ours, confidence only": {"mode": "confidence"},
    "ours, uniform": {"mode": "uniform"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--lrs", type=float, nargs="+", default=[0.01, 0.001])
    parser.add_argument("--noise", type=float, nargs="+", default=[0.0, 0.4])
    parser.add_argument("--n-points", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--jobs", type=int, default=1, help="worker processes (one thread each)"
    )
    parser.add_argument(
        "--ablation", action="store_true", help="compare attention variants of ours"
    )
    parser.add_argument(
        "--quick", action="store_true", help="2 seeds, 10 epochs, 4,000 points"
    )
    parser.add_argument(
        "--no-write", action="store_true", help="do not write BENCHMARKS.md"
    )
    parser.add_argument(
        "--section",
        help="BENCHMARKS.md section to write (default: synthetic or synthetic_ablation)",
    )
    parser.add_argument(
        "--contenders",
        nargs="+",
        help="run only these contenders (names of the main or the ablation table, "
        "or of bench.geometries.VARIANTS)",
    )
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.epochs, args.n_points = 2, 10, 4_000
    torch.set_num_threads(1)
    logging.disable(logging.INFO)
    contenders = ABLATION_CONTENDERS if args.ablation else MAIN_CONTENDERS
    if args.contenders:
        # bench.geometries imports this module, so its variants load here.
        from bench.geometries import VARIANTS

        known = {**VARIANTS, **MAIN_CONTENDERS, **ABLATION_CONTENDERS}
        unknown = sorted(set(args.contenders) - set(known))
        if unknown:
            parser.error(f"unknown contenders {unknown}; choose from {sorted(known)}")
        contenders = {name: known[name] for name in args.contenders}

    sections = []
    for noise in args.noise:
        for lr in args.lrs:
            results = run(
                contenders,
                args.seeds,
                args.epochs,
                lr,
                noise,
                args.n_points,
                args.batch_size,
                print,
                jobs=args.jobs,
            )
            title = f"lr {lr}, SF noise {noise:.0%}"
            body = table(results, {} if args.ablation else PAPER)
            print(f"\n### {title}\n\n{body}\n", flush=True)
            sections.append(f"### {title}\n\n{body}")

    name = args.section or ("synthetic_ablation" if args.ablation else "synthetic")
    header = (
        f"## Synthetic study{' – attention ablation' if args.ablation else ''} "
        f"(`bench/synthetic.py`)\n\n{machine_line()} {args.n_points} training and "
        f"{args.n_points} test points, {args.seeds} seeds, {args.epochs} epochs, batch "
        f"{args.batch_size}, Adam, grad clip 1.0, `torch.set_num_threads(1)`. F1 x 100, "
        "mean ± std over seeds; slices scored on true membership.\n\n"
    )
    if not args.no_write:
        write_section(name, header + "\n\n".join(sections))


if __name__ == "__main__":
    main()
