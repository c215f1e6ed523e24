from types import SimpleNamespace

import pandas as pd
import pytest

spacy = pytest.importorskip("spacy")

from slicing.apply.pandas import PandasSFApplier  # noqa: E402
from slicing.sf.nlp import NLPSlicingFunction, nlp_slicing_function  # noqa: E402

# All NLP SFs of a process share one SpacyPreprocessor, so they share one config.
CONFIG = dict(language="blank:en")


def test_nlp_sf_sees_a_spacy_doc():
    @nlp_slicing_function(**CONFIG)
    def has_exclamation(x):
        return any(token.text == "!" for token in x.doc)

    assert isinstance(has_exclamation, NLPSlicingFunction)
    assert has_exclamation(SimpleNamespace(text="wow !")) is True
    assert has_exclamation(SimpleNamespace(text="wow")) is False


def test_nlp_sfs_apply_to_a_dataframe():
    @nlp_slicing_function(**CONFIG)
    def many_tokens(x):
        return len(x.doc) > 3

    df = pd.DataFrame({"text": ["check out my channel", "nice"]})
    assert PandasSFApplier([many_tokens]).apply(df, progress_bar=False)[
        "many_tokens"
    ].tolist() == [True, False]


def test_conflicting_spacy_config_is_refused():
    NLPSlicingFunction("first", lambda x: True, **CONFIG)
    with pytest.raises(ValueError, match="already configured"):
        NLPSlicingFunction("second", lambda x: True, language="blank:fr")
