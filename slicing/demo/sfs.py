"""The demo's four slicing functions on the YouTube spam comments.

Also used by the tutorials and the README (``from slicing.demo import SFS``) and by
``slicing apply --sfs slicing.demo:SFS``.
"""

import re

import pandas as pd

from slicing.sf.core import slicing_function

__all__ = ["SFS", "has_link", "keyword_please", "regex_check_out", "short_comment"]


@slicing_function()
def short_comment(x) -> bool:
    """Ham comments are often short: 'nice song', 'love it'."""
    return len(x.text.split()) < 5


@slicing_function(resources=dict(words=("please", "plz")))
def keyword_please(x, words) -> bool:
    """Comments that beg: 'please subscribe', 'plz check my channel'."""
    return any(word in x.text.lower() for word in words)


@slicing_function(resources=dict(pattern=re.compile(r"check.*out", re.IGNORECASE)))
def regex_check_out(x, pattern) -> bool:
    """'Check out my channel' and its variants."""
    return pattern.search(x.text) is not None


@slicing_function(vectorized=True)
def has_link(df: pd.DataFrame) -> pd.Series:
    """Vectorized: one call for the whole DataFrame."""
    return df.text.str.contains(r"https?://|www\.|\.com\b", regex=True)


#: The four SFs, in slice-matrix column order.
SFS = [short_comment, keyword_please, regex_check_out, has_link]
