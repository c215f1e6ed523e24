"""Shared fixtures: small DataFrames and the SFs used across the test suite."""

import pandas as pd
import pytest

from slicing.sf.core import SlicingFunction, slicing_function


@pytest.fixture
def comments() -> pd.DataFrame:
    """Five comments with a non-default index, to catch position/label mix-ups."""
    return pd.DataFrame(
        {
            "text": [
                "nice song",
                "check out my channel please",
                "I love this video so much",
                "subscribe http://bit.ly/x",
                "wow",
            ],
            "score": [0.1, 0.9, 0.5, 0.95, 0.3],
        },
        index=[10, 11, 12, 13, 14],
    )


@pytest.fixture
def short_comment():
    @slicing_function()
    def short_comment(x):
        return len(x.text.split()) < 3

    return short_comment


@pytest.fixture
def high_score():
    @slicing_function(vectorized=True)
    def high_score(df):
        return df.score > 0.8

    return high_score


@pytest.fixture
def fragile() -> SlicingFunction:
    """Raises ZeroDivisionError on rows whose ``score`` is exactly 0.5."""

    @slicing_function()
    def fragile(x):
        return 1 / (x.score - 0.5) > 0

    return fragile


@pytest.fixture
def is_big() -> SlicingFunction:
    """snorkel's example SF: ``x.num > 42``."""

    @slicing_function()
    def is_big(x):
        return x.num > 42

    return is_big
