"""The YouTube Spam Collection, shipped with the package.

Source: UCI Machine Learning Repository, "YouTube Spam Collection" (dataset 380),
CC BY 4.0. T. C. Alberto, J. V. Lochter, T. A. Almeida. TubeSpam: Comment Spam
Filtering on YouTube. ICMLA'15, 2015. See ``data/README.md`` beside this module.
"""

import html
import re
from importlib import resources
from typing import NamedTuple

import pandas as pd

__all__ = ["SpamSplits", "load_spam", "clean_comment"]

FILES = {
    1: "Youtube01-Psy.csv",
    2: "Youtube02-KatyPerry.csv",
    3: "Youtube03-LMFAO.csv",
    4: "Youtube04-Eminem.csv",
    5: "Youtube05-Shakira.csv",
}
SEED = 123
_ANCHOR = re.compile(
    r"<a\s[^>]*?href=\"([^\"]*)\"[^>]*>(.*?)</a>", re.IGNORECASE | re.DOTALL
)
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_SPACES = re.compile(r"[ \t]+")


class SpamSplits(NamedTuple):
    """The conventional splits: train (videos 1-4), dev (100 from train), valid, test."""

    train: pd.DataFrame
    dev: pd.DataFrame
    valid: pd.DataFrame
    test: pd.DataFrame


def _anchor_text(match: re.Match) -> str:
    url, text = match.group(1), match.group(2)
    return text if url in text or text in url else f"{text} {url}"


def clean_comment(raw: str) -> str:
    """Clean one comment: drop U+FEFF, unescape HTML, keep link URLs, drop markup.

    Examples
    --------
    >>> clean_comment('I&#39;m here<br />see <a href="http://x.co">my page</a>\\ufeff')
    "I'm here see my page http://x.co"
    """
    text = raw.replace("\ufeff", "")
    text = _ANCHOR.sub(_anchor_text, text)
    text = _BREAK.sub(" ", text)
    text = _TAG.sub("", text)
    text = html.unescape(text)
    return _SPACES.sub(" ", text).strip()


def _read_video(video: int) -> pd.DataFrame:
    with (
        resources.files("slicing.datasets")
        .joinpath("data", FILES[video])
        .open("r", encoding="utf-8") as handle
    ):
        raw = pd.read_csv(handle, dtype={"CONTENT": str, "AUTHOR": str, "DATE": str})
    return pd.DataFrame(
        {
            "author": raw["AUTHOR"],
            "date": pd.to_datetime(raw["DATE"], errors="coerce", format="ISO8601"),
            "text": raw["CONTENT"].fillna("").map(clean_comment),
            "label": raw["CLASS"].astype(int),
            "video": video,
        }
    )


def load_spam() -> SpamSplits:
    """Load the YouTube spam comments as train / dev / valid / test DataFrames.

    Columns: ``author``, ``date`` (datetime, NaT where missing), ``text`` (cleaned),
    ``label`` (1 = spam, 0 = ham), ``video`` (1-5). Train is videos 1-4 (1,586
    rows); video 5 is split stratified into 120 valid and 250 test rows (seed 123);
    dev is 100 rows sampled from train (seed 123).

    Examples
    --------
    >>> splits = load_spam()
    >>> [len(frame) for frame in splits]
    [1586, 100, 120, 250]
    >>> splits.train.columns.tolist()
    ['author', 'date', 'text', 'label', 'video']
    """
    from sklearn.model_selection import train_test_split

    train = pd.concat([_read_video(v) for v in (1, 2, 3, 4)], ignore_index=True)
    shakira = _read_video(5)
    valid, test = train_test_split(
        shakira, test_size=250, random_state=SEED, stratify=shakira.label
    )
    dev = train.sample(100, random_state=SEED)
    return SpamSplits(
        train, dev, valid.reset_index(drop=True), test.reset_index(drop=True)
    )
