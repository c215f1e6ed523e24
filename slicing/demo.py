"""Demo: write slicing functions, apply them to the YouTube spam comments, print slice sizes.

Run with ``python -m slicing.demo``.
"""

import re

import pandas as pd

from slicing.apply.pandas import PandasSFApplier
from slicing.datasets.spam import load_spam
from slicing.matrix import slice_matrix_names, slice_matrix_to_dataframe
from slicing.sf.core import slicing_function


@slicing_function()
def short_comment(x) -> bool:
    """Ham comments are often short: 'nice song', 'love it'."""
    return len(x.text.split()) < 5


@slicing_function(resources=dict(words=("please", "plz")))
def keyword_please(x, words) -> bool:
    return any(word in x.text.lower() for word in words)


@slicing_function(resources=dict(pattern=re.compile(r"check.*out", re.IGNORECASE)))
def regex_check_out(x, pattern) -> bool:
    return pattern.search(x.text) is not None


@slicing_function(vectorized=True)
def has_link(df: pd.DataFrame) -> pd.Series:
    """Vectorized: one call for the whole DataFrame."""
    return df.text.str.contains(r"https?://|www\.|\.com\b", regex=True)


SFS = [short_comment, keyword_please, regex_check_out, has_link]


def main() -> None:
    train = load_spam().train
    S = PandasSFApplier(SFS).apply(train, progress_bar=False)
    slices = slice_matrix_to_dataframe(S, index=train.index)
    table = pd.DataFrame(
        {
            "rows": slices.sum(),
            "share": slices.mean().round(3),
            "spam rate in slice": [
                train.label[slices[name]].mean().round(3) for name in slices
            ],
        }
    )
    print(f"{len(train)} training comments, {len(SFS)} slicing functions")
    print(
        f"slice matrix: {S.dtype.itemsize} bytes a row, fields {slice_matrix_names(S)}\n"
    )
    print(table.to_string())
    print(f"\noverall spam rate: {train.label.mean():.3f}")


if __name__ == "__main__":
    main()
