"""A hashed bag of words in numpy: features for the demo without scikit-learn."""

import re
import zlib
from collections.abc import Iterable

import numpy as np

__all__ = ["hashed_bag_of_words"]

#: Words of two or more letters or digits, as scikit-learn's ``CountVectorizer``.
WORD = re.compile(r"\b\w\w+\b")


def hashed_bag_of_words(texts: Iterable[str], n_buckets: int = 4096) -> np.ndarray:
    """Count each text's words and word pairs into ``n_buckets`` hashed columns.

    Words are lower-cased; every word and every pair of neighbouring words is
    hashed with CRC-32 (the same bucket in every process, unlike Python's
    ``hash``) and counted in its bucket. Different words may share a bucket.

    Parameters
    ----------
    texts
        The documents.
    n_buckets
        Number of columns.

    Returns
    -------
    np.ndarray
        ``(len(texts), n_buckets)`` float32 counts.

    Examples
    --------
    >>> X = hashed_bag_of_words(["Check out my channel", "check it"], n_buckets=64)
    >>> X.shape, X.dtype
    ((2, 64), dtype('float32'))
    >>> X.sum(axis=1).tolist()  # 4 words + 3 pairs; 2 words + 1 pair
    [7.0, 3.0]
    """
    rows: list[int] = []
    buckets: list[int] = []
    texts = list(texts)
    for row, text in enumerate(texts):
        words = WORD.findall(text.lower())
        terms = words + [f"{first} {second}" for first, second in zip(words, words[1:])]
        rows.extend([row] * len(terms))
        buckets.extend(zlib.crc32(term.encode()) % n_buckets for term in terms)
    counts = np.zeros((len(texts), n_buckets), dtype=np.float32)
    np.add.at(
        counts, (np.array(rows, dtype=np.intp), np.array(buckets, dtype=np.intp)), 1
    )
    return counts
