"""Benchmark: the slice-aware label model against snorkel's ``LabelModel`` (issue 16).

Three workloads, ours and snorkel 0.10.0's ``LabelModel`` side by side in one process:

- synthetic (``make_sliced_votes``): 20,000 rows, 8 LFs, 4 overlapping slices (each row
  in each slice with probability 0.2-0.4), LF coverage 30-60%, each LF right with
  probability 0.85 inside its home slice and 0.60 outside; 5 seeds. Measured: the mean
  absolute error of the per-slice LF accuracy estimates (ours; the triplet estimate
  too), and label accuracy of both models on all rows (ties and all-abstain rows
  broken by snorkel's deterministic ``"random"`` policy, the same for both). A control
  with the same layout where each LF's accuracy (0.60 to 0.85 across LFs) ignores the
  slices.
- YouTube spam with tutorial 2's LFs and SFs: both fitted on the training comments,
  F1 of the label models' predictions on the test comments, and the per-slice LF table
  (gold accuracy on the training comments next to our estimate without golds).
- fit time on 100,000 rows x 10 LFs x 5 slices (best of 3), against ``LabelModel.fit``
  with tutorial 2's 500 epochs.

Prints one table (target, ours, snorkel, verdict) and writes the ``labeling`` section of
BENCHMARKS.md. ``--quick`` runs small sizes to check the script (verdicts against the
full-size targets are then indicative only); ``--no-write`` leaves BENCHMARKS.md alone.

    flock /tmp/slicing-bench.lock python bench/labeling.py [--quick] [--no-write]
"""

import argparse
import logging
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from snorkel.labeling import PandasLFApplier, labeling_function  # noqa: E402
from snorkel.labeling.model import LabelModel  # noqa: E402
from snorkel.preprocess import preprocessor  # noqa: E402

from bench.report import best_of, machine_line, markdown_table, write_section  # noqa: E402
from slicing import PandasSFApplier, sf_from_lf, slicing_function  # noqa: E402
from slicing.datasets import load_spam  # noqa: E402
from slicing.labeling import LFSliceAnalysis, SliceAwareLabelModel  # noqa: E402
from slicing.labeling.synthetic import make_sliced_votes  # noqa: E402
from slicing.labeling.triplets import triplet_accuracies  # noqa: E402

ABSTAIN, HAM, SPAM = -1, 0, 1
LABEL_MODEL_EPOCHS = 500  # as in tutorial 2


def snorkel_label_model(L: np.ndarray, seed: int) -> LabelModel:
    model = LabelModel(cardinality=2, verbose=False)
    model.fit(
        L, n_epochs=LABEL_MODEL_EPOCHS, seed=seed, log_freq=100, progress_bar=False
    )
    return model


def label_accuracy(preds: np.ndarray, golds: np.ndarray) -> float:
    return float((preds == golds).mean())


def synthetic_run(n_rows: int, seed: int, control: bool) -> dict[str, float]:
    """One seed: estimate errors and label accuracy of both models."""
    if control:
        accuracy = np.linspace(0.60, 0.85, 8)
        data = make_sliced_votes(
            n_rows, 8, 4, accuracy_in=accuracy, accuracy_out=accuracy, seed=seed
        )
    else:
        data = make_sliced_votes(
            n_rows, 8, 4, accuracy_in=0.85, accuracy_out=0.60, seed=seed
        )
    ours = SliceAwareLabelModel(cardinality=2).fit(data.L, data.S, progress_bar=False)
    truth = data.lf_slice_accuracy()
    estimate = ours.lf_slice_accuracies(data.L, data.S).to_numpy()
    groups = np.column_stack(
        [np.ones(n_rows, bool), data.S.view(bool).reshape(n_rows, -1)]
    )
    triplets = triplet_accuracies(data.L, groups, 2).T
    snorkel = snorkel_label_model(data.L, seed)
    return {
        "mae": float(np.abs(estimate - truth).mean()),
        "triplet_mae": float(np.nanmean(np.abs(triplets - truth))),
        "ours": label_accuracy(
            ours.predict(data.L, data.S, tie_break_policy="random"), data.Y
        ),
        "snorkel": label_accuracy(
            snorkel.predict(data.L, tie_break_policy="random"), data.Y
        ),
    }


def synthetic(n_rows: int, seeds: range) -> dict[str, pd.DataFrame]:
    return {
        name: pd.DataFrame([synthetic_run(n_rows, seed, control) for seed in seeds])
        for name, control in (("sliced", False), ("control", True))
    }


# --- YouTube spam: tutorial 2's LFs and SFs ---------------------------------------------


@labeling_function()
def keyword_my(x):
    return SPAM if "my" in x.text.lower() else ABSTAIN


@labeling_function()
def keyword_subscribe(x):
    return SPAM if "subscribe" in x.text.lower() else ABSTAIN


@labeling_function()
def keyword_link(x):
    return SPAM if "http" in x.text.lower() else ABSTAIN


@labeling_function()
def keyword_please(x):
    return (
        SPAM if any(word in x.text.lower() for word in ("please", "plz")) else ABSTAIN
    )


@labeling_function()
def keyword_song(x):
    return HAM if "song" in x.text.lower() else ABSTAIN


@labeling_function(resources=dict(pattern=re.compile(r"check.*out", re.IGNORECASE)))
def regex_check_out(x, pattern):
    return SPAM if pattern.search(x.text) else ABSTAIN


@labeling_function()
def short_comment(x):
    return HAM if len(x.text.split()) < 5 else ABSTAIN


@preprocessor(memoize=True)
def textblob_sentiment(x):
    from textblob import TextBlob

    scores = TextBlob(x.text)
    x.polarity = scores.sentiment.polarity
    x.subjectivity = scores.sentiment.subjectivity
    return x


@labeling_function(pre=[textblob_sentiment])
def textblob_polarity(x):
    return HAM if x.polarity > 0.9 else ABSTAIN


@labeling_function(pre=[textblob_sentiment])
def textblob_subjectivity(x):
    return HAM if x.subjectivity >= 0.5 else ABSTAIN


LFS = [
    keyword_my,
    keyword_subscribe,
    keyword_link,
    keyword_please,
    keyword_song,
    regex_check_out,
    short_comment,
    textblob_polarity,
    textblob_subjectivity,
]


@slicing_function()
def short(x):
    return len(x.text.split()) < 5


@slicing_function(vectorized=True)
def has_link(df):
    return df.text.str.contains(r"https?://|www\.", regex=True)


SFS = [
    short,
    has_link,
    sf_from_lf(keyword_please),
    sf_from_lf(textblob_polarity, label=HAM, name="very_positive"),
]


def spam() -> dict[str, object]:
    from sklearn.metrics import f1_score

    splits = load_spam()
    lf_applier, sf_applier = PandasLFApplier(LFS), PandasSFApplier(SFS)
    L_train, L_test = (
        lf_applier.apply(df, progress_bar=False) for df in (splits.train, splits.test)
    )
    S_train, S_test = (
        sf_applier.apply(df, progress_bar=False) for df in (splits.train, splits.test)
    )
    golds = splits.test.label.to_numpy()
    ours = SliceAwareLabelModel(cardinality=2).fit(L_train, S_train, progress_bar=False)
    snorkel = snorkel_label_model(L_train, seed=123)
    ours_preds = ours.predict(L_test, S_test, tie_break_policy="random")
    snorkel_preds = snorkel.predict(L_test, tie_break_policy="random")
    summary = LFSliceAnalysis(L_train, S_train, lfs=LFS).lf_slice_summary(
        Y=splits.train.label.to_numpy(), label_model=ours
    )
    return {
        "ours_f1": float(f1_score(golds, ours_preds)),
        "snorkel_f1": float(f1_score(golds, snorkel_preds)),
        "summary": summary,
    }


def spam_table(summary: pd.DataFrame) -> str:
    """LF x slice: gold accuracy (votes) / our estimate without golds."""
    gold = summary["accuracy"].unstack("slice")
    model = summary["model_accuracy"].unstack("slice")
    votes = summary["votes"].unstack("slice")
    slices = list(dict.fromkeys(summary.index.get_level_values("slice")))
    lfs = list(dict.fromkeys(summary.index.get_level_values("lf")))
    rows = [
        [lf]
        + [
            "-"
            if votes.loc[lf, s] == 0
            else f"{gold.loc[lf, s]:.2f} / {model.loc[lf, s]:.2f} ({votes.loc[lf, s]})"
            for s in slices
        ]
        for lf in lfs
    ]
    return markdown_table(["LF", *slices], rows)


def fit_times(n_rows: int, repeats: int) -> dict[str, float]:
    data = make_sliced_votes(n_rows, 10, 5, seed=0)
    ours = best_of(
        repeats, lambda: SliceAwareLabelModel().fit(data.L, data.S, progress_bar=False)
    )
    snorkel = best_of(repeats, lambda: snorkel_label_model(data.L, seed=0))
    return {"ours": ours, "snorkel": snorkel}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="small sizes, to check the script"
    )
    parser.add_argument(
        "--no-write", action="store_true", help="do not write BENCHMARKS.md"
    )
    args = parser.parse_args()
    logging.getLogger().setLevel(logging.WARNING)
    n_rows, seeds = (4_000, range(2)) if args.quick else (20_000, range(5))
    timing_rows, repeats = (20_000, 1) if args.quick else (100_000, 3)

    started = time.perf_counter()
    runs = synthetic(n_rows, seeds)
    sliced, control = runs["sliced"].mean(), runs["control"].mean()
    spam_result = spam()
    times = fit_times(timing_rows, repeats)
    gain = 100 * (sliced["ours"] - sliced["snorkel"])
    control_gap = 100 * (control["ours"] - control["snorkel"])
    f1_gap = 100 * (spam_result["ours_f1"] - spam_result["snorkel_f1"])

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    headers = [
        "measure",
        "target",
        "ours (SliceAwareLabelModel)",
        "snorkel LabelModel",
        "verdict",
    ]
    rows = [
        [
            "synthetic: per-slice LF accuracy MAE (triplet MAE)",
            "<= 0.03",
            f"{sliced['mae']:.4f} ({sliced['triplet_mae']:.4f})",
            "n/a (one accuracy per LF)",
            verdict(sliced["mae"] <= 0.03),
        ],
        [
            "synthetic: label accuracy",
            ">= snorkel + 3 points",
            f"{sliced['ours']:.4f}",
            f"{sliced['snorkel']:.4f}",
            f"{gain:+.2f} points, {verdict(gain >= 3)}",
        ],
        [
            "control (accuracy ignores slices): label accuracy",
            "within 0.5 points",
            f"{control['ours']:.4f}",
            f"{control['snorkel']:.4f}",
            f"{control_gap:+.2f} points, {verdict(abs(control_gap) <= 0.5)}",
        ],
        [
            "YouTube spam: test F1",
            "within 1 point",
            f"{spam_result['ours_f1']:.4f}",
            f"{spam_result['snorkel_f1']:.4f}",
            f"{f1_gap:+.2f} points, {verdict(abs(f1_gap) <= 1)}",
        ],
        [
            f"fit time, {timing_rows:,} rows x 10 LFs x 5 slices",
            "<= 1 s",
            f"{times['ours']:.3f} s",
            f"{times['snorkel']:.3f} s ({LABEL_MODEL_EPOCHS} epochs)",
            f"{times['snorkel'] / times['ours']:.1f}x faster, {verdict(times['ours'] <= 1)}",
        ],
    ]
    table = markdown_table(headers, rows)
    per_seed = "\n\n".join(
        f"Per seed, {name}:\n\n"
        + markdown_table(
            ["seed", "MAE", "triplet MAE", "ours", "snorkel"],
            [
                [
                    seed,
                    f"{r.mae:.4f}",
                    f"{r.triplet_mae:.4f}",
                    f"{r.ours:.4f}",
                    f"{r.snorkel:.4f}",
                ]
                for seed, r in zip(seeds, frame.itertuples())
            ],
        )
        for name, frame in runs.items()
    )
    lf_table = spam_table(spam_result["summary"])
    print(
        table,
        "",
        per_seed,
        "",
        "YouTube spam, gold accuracy / our estimate (votes):",
        lf_table,
        sep="\n",
    )
    print(f"\n{time.perf_counter() - started:.0f} s in all")
    if args.quick:
        print("(--quick: small sizes; the verdicts refer to the full-size targets)")
    if args.no_write:
        return
    sizes = f"{n_rows:,} rows, {len(seeds)} seeds" + (
        " (--quick)" if args.quick else ""
    )
    body = "\n\n".join(
        [
            "## Weak supervision by slice (`bench/labeling.py`)",
            f"{machine_line()} Synthetic: {sizes}; label accuracy on all rows, ties broken "
            "by snorkel's deterministic `random` policy for both models. snorkel's "
            f"`LabelModel` fitted with {LABEL_MODEL_EPOCHS} epochs (tutorial 2's setting).",
            table,
            per_seed,
            "YouTube spam, tutorial 2's LFs and SFs on the 1,586 training comments: gold "
            "accuracy / `SliceAwareLabelModel` estimate without golds (votes). Every LF here "
            "votes one class only, so given the class it is right always or never, in every "
            "slice; by default the model conditions only that accuracy on the slices, and "
            "its labels are close to `LabelModel`'s. Its estimates (posterior means) catch the "
            "failures on `keyword_please` but not on `has_link`, where both label models "
            "take `keyword_link` for a poor LF.",
            lf_table,
        ]
    )
    write_section("labeling", body)


if __name__ == "__main__":
    main()
