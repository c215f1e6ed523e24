from types import SimpleNamespace

import pandas as pd
import pytest
from snorkel.labeling import labeling_function
from snorkel.preprocess import preprocessor

from slicing.apply.pandas import PandasSFApplier
from slicing.sf.core import slicing_function
from slicing.sf.from_lf import sf_from_lf

SPAM, HAM, ABSTAIN = 1, 0, -1


@labeling_function()
def keyword_check(x):
    return SPAM if "check" in x.text else ABSTAIN


@labeling_function()
def short_is_ham(x):
    return HAM if len(x.text.split()) < 3 else SPAM


def test_slice_is_where_the_lf_votes():
    sf = sf_from_lf(keyword_check)
    assert sf.name == "keyword_check"
    assert sf(SimpleNamespace(text="check it")) is True
    assert sf(SimpleNamespace(text="nice")) is False


def test_slice_for_one_label_and_custom_name():
    ham = sf_from_lf(short_is_ham, label=HAM)
    spam = sf_from_lf(short_is_ham, label=SPAM, name="long_comment")
    assert ham.name == "short_is_ham_0" and spam.name == "long_comment"
    df = pd.DataFrame({"text": ["nice song", "check out my channel"]})
    S = PandasSFApplier([ham, spam]).apply(df, progress_bar=False)
    assert S["short_is_ham_0"].tolist() == [True, False]
    assert S["long_comment"].tolist() == [False, True]


def test_lf_preprocessors_and_resources_carry_over():
    @preprocessor()
    def add_lower(x):
        x.lower = x.text.lower()
        return x

    @labeling_function(pre=[add_lower], resources=dict(word="please"))
    def polite(x, word):
        return SPAM if word in x.lower else ABSTAIN

    sf = sf_from_lf(polite)
    df = pd.DataFrame({"text": ["PLEASE sub", "hi"]})
    assert PandasSFApplier([sf]).apply(df, progress_bar=False)["polite"].tolist() == [
        True,
        False,
    ]


def test_rejects_non_lfs_and_bad_labels():
    @slicing_function()
    def already_sf(x):
        return True

    with pytest.raises(TypeError, match="expects a snorkel LabelingFunction"):
        sf_from_lf(already_sf)
    with pytest.raises(TypeError, match="expects a snorkel LabelingFunction"):
        sf_from_lf(lambda x: 1)
    with pytest.raises(ValueError, match="non-negative int"):
        sf_from_lf(keyword_check, label=-1)
