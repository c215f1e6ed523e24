"""Describe a slice by what sets it apart: its over-represented tokens and values."""

from collections.abc import Sequence

import numpy as np
import pandas as pd

from slicing.discover.naming import format_value
from slicing.discover.predicates import tokenize

__all__ = ["describe_slice", "distinctive_tokens", "distinctive_values"]


def _share_gap(inside: np.ndarray, items: pd.Series, rows: np.ndarray) -> pd.Series:
    """Share of slice rows holding each item minus the share of other rows."""
    pairs = pd.DataFrame({"row": rows, "item": items.to_numpy()}).drop_duplicates()
    in_slice = inside[pairs["row"].to_numpy()]
    n_inside, n_outside = max(int(inside.sum()), 1), max(int((~inside).sum()), 1)
    share_inside = pairs["item"][in_slice].value_counts() / n_inside
    share_outside = pairs["item"][~in_slice].value_counts() / n_outside
    gap = share_inside.sub(share_outside, fill_value=0.0)
    # Ties broken by item so descriptions do not depend on hash order.
    ordered = (
        gap.rename("gap")
        .reset_index()
        .sort_values(["gap", gap.index.name or "item"], ascending=[False, True])
    )
    return ordered.set_index(ordered.columns[0])["gap"]


def distinctive_tokens(
    texts: pd.Series, inside: np.ndarray, n_terms: int = 5
) -> list[str]:
    """Tokens whose share of rows is most above outside the slice.

    Examples
    --------
    >>> texts = pd.Series(["check my channel", "check this", "nice song", "love it"])
    >>> distinctive_tokens(texts, np.array([True, True, False, False]), 2)
    ['check', 'channel']
    """
    tokens = tokenize(texts).reset_index(drop=True).explode().dropna()
    gap = _share_gap(np.asarray(inside), tokens, tokens.index.to_numpy())
    return [str(token) for token in gap[gap > 0].index[:n_terms]]


def distinctive_values(
    values: pd.Series, inside: np.ndarray, n_terms: int = 2
) -> list[str]:
    """Values whose share of rows is most above outside the slice, as ``column=value``.

    Examples
    --------
    >>> values = pd.Series([5, 5, 1, 2], name="video")
    >>> distinctive_values(values, np.array([True, True, False, False]), 1)
    ['video=5']
    """
    present = values.reset_index(drop=True).dropna()
    gap = _share_gap(np.asarray(inside), present, present.index.to_numpy())
    return [f"{values.name}={format_value(v)}" for v in gap[gap > 0].index[:n_terms]]


def describe_slice(
    frame: pd.DataFrame,
    inside: np.ndarray,
    text_column: str | None = None,
    columns: Sequence[str] = (),
    n_terms: int = 5,
) -> str:
    """Short description of a slice: distinctive tokens, then distinctive values.

    Examples
    --------
    >>> frame = pd.DataFrame({"text": ["check my channel", "check it", "nice"],
    ...                       "video": [5, 5, 1]})
    >>> describe_slice(frame, np.array([True, True, False]), "text", ["video"], 2)
    'check, channel; video=5'
    """
    parts = []
    if text_column is not None:
        parts.append(", ".join(distinctive_tokens(frame[text_column], inside, n_terms)))
    for column in columns:
        parts.append(", ".join(distinctive_values(frame[column], inside, 1)))
    return "; ".join(part for part in parts if part)
