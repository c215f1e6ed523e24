"""The YouTube spam comments for ``bench/real_data.py``, set up as tutorial 1 does.

Data: ``slicing.datasets.load_spam()`` (shipped with the package): train is videos 1-4
(1,586 comments), test 250 comments of video 5 (fixed split, seed 123). Features: a
``CountVectorizer(ngram_range=(1, 2))`` bag of words fitted on the training text, as
dense float tensors. SFs: the tutorial's five (``SFS``), applied with
``PandasSFApplier``; slices are scored on the test rows each SF selects.

Backbone: ``Linear(vocabulary, 32)`` and a ReLU; 10 epochs, lr 1e-3, batch 32 (the
tutorial's nets). Seeds vary the model init and the batch order only.
"""

import functools
import re
from typing import Any

import numpy as np
import pandas as pd
import torch
from snorkel.preprocess import preprocessor
from torch import nn

from bench.report import markdown_table
from bench.synthetic import Data
from slicing import PandasSFApplier, slicing_function
from slicing.matrix import slice_matrix_to_array

HIDDEN, EPOCHS, LR, BATCH_SIZE = 32, 10, 1e-3, 32


# ------------------------------------------------------------- tutorial 1's SFs
@slicing_function()
def short_comment(x: Any) -> bool:
    """Ham comments are often short: 'nice song', 'love it'."""
    return len(x.text.split()) < 5


@slicing_function(resources=dict(words=("please", "plz")))
def keyword_please(x: Any, words: tuple[str, ...]) -> bool:
    text = x.text.lower()
    return any(word in text for word in words)


@slicing_function(resources=dict(pattern=re.compile(r"check.*out", re.IGNORECASE)))
def regex_check_out(x: Any, pattern: re.Pattern) -> bool:
    return pattern.search(x.text) is not None


@slicing_function(vectorized=True)
def short_link(df: pd.DataFrame) -> pd.Series:
    """Link shorteners hide where spam links go."""
    return df.text.str.contains(
        r"\b(?:bit\.ly|goo\.gl|tinyurl|t\.co|ow\.ly)\b", case=False, regex=True
    )


@preprocessor(memoize=True)
def textblob_sentiment(x: Any) -> Any:
    from textblob import TextBlob

    x.polarity = TextBlob(x.text).sentiment.polarity
    return x


@slicing_function(pre=[textblob_sentiment])
def textblob_polarity(x: Any) -> bool:
    """Very positive comments."""
    return x.polarity > 0.9


SFS = [short_comment, keyword_please, regex_check_out, short_link, textblob_polarity]
RULES = {  # for the report
    "short_comment": "fewer than 5 words",
    "keyword_please": '"please" or "plz"',
    "regex_check_out": "`check.*out`",
    "short_link": "bit.ly, goo.gl, tinyurl, t.co, ow.ly",
    "textblob_polarity": "TextBlob polarity > 0.9",
}


# -------------------------------------------------------------------------- data
@functools.cache
def load() -> tuple[Data, Data]:
    """Train and test ``Data`` (bag of words, labels, SF matrix as truth)."""
    from sklearn.feature_extraction.text import CountVectorizer

    from slicing.datasets import load_spam

    splits = load_spam()
    vectorizer = CountVectorizer(ngram_range=(1, 2))
    vectorizer.fit(splits.train.text)
    applier = PandasSFApplier(SFS)

    def part(frame: pd.DataFrame) -> Data:
        S = applier.apply(frame, progress_bar=False)
        slices = slice_matrix_to_array(S, copy=True).astype(bool)
        X = vectorizer.transform(frame.text).toarray()
        return Data(
            torch.tensor(X, dtype=torch.float32),
            torch.from_numpy(frame.label.to_numpy().astype(np.int64)),
            slices,
            slices,
        )

    return part(splits.train), part(splits.test)


def make_split(seed: int) -> tuple[Data, Data]:
    """The fixed split (``seed`` is unused: it varies the model only)."""
    return load()


def backbone(n_features: int) -> nn.Module:
    return nn.Sequential(nn.Linear(n_features, HIDDEN), nn.ReLU())


def slices_table(slice_names: list[str]) -> str:
    """Each SF's column, name, rule, train and test rows and share of spam (test)."""
    train, test = load()
    spam = test.Y.numpy() == 1
    rows = [
        [
            column,
            f"`{sf.name}`",
            RULES[sf.name],
            int(train.sf_slices[:, j].sum()),
            int(test.sf_slices[:, j].sum()),
            f"{spam[test.sf_slices[:, j]].mean():.0%}",
        ]
        for j, (column, sf) in enumerate(zip(slice_names, SFS, strict=True))
    ]
    rows.append(["all", "", "", len(train.Y), len(test.Y), f"{spam.mean():.0%}"])
    return markdown_table(
        ["slice", "SF", "rule", "train rows", "test rows", "spam (test)"], rows
    )
