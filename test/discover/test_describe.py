import numpy as np
import pandas as pd

from slicing.discover.describe import (
    describe_slice,
    distinctive_tokens,
    distinctive_values,
)


def test_tokens_rank_by_share_gap_and_skip_common_ones():
    texts = pd.Series(
        ["check my channel", "check it", "the song", "the video", "the check"],
        index=[9, 9, 3, 4, 5],  # repeated labels must not matter
    )
    inside = np.array([True, True, False, False, False])
    # "check": 2/2 inside vs 1/3 outside; "channel"/"my"/"it": 1/2 vs 0.
    assert distinctive_tokens(texts, inside, 3) == ["check", "channel", "it"]


def test_values_are_written_as_predicates():
    values = pd.Series(["a b", "a b", "c", None], name="who")
    inside = np.array([True, True, False, False])
    assert distinctive_values(values, inside) == ['who="a b"']


def test_description_is_empty_without_columns():
    frame = pd.DataFrame({"x": [1, 2]})
    assert describe_slice(frame, np.array([True, False])) == ""
