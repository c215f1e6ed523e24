"""Shared fixtures: small DataFrames and SFs used across the test suite."""

import pandas as pd
import pytest

from slicing.sf.core import slicing_function


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
