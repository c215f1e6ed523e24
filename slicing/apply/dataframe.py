"""Select the rows of a DataFrame (pandas or Dask) that belong to a slice."""

from typing import Any

import pandas as pd

from slicing.apply.base import check_sfs
from slicing.apply.frame import check_frame_columns, slice_frame
from slicing.sf.core import SlicingFunction

__all__ = ["slice_dataframe"]


def _rows_in_slice(
    frame: pd.DataFrame, sf: SlicingFunction, row_offset: int | None = None
) -> pd.DataFrame:
    """Filter one frame; ``row_offset=None`` for Dask partitions (position unknown)."""
    if len(frame) == 0:
        return frame
    indicators, _ = slice_frame(
        frame, [sf], fault_tolerant=False, row_offset=row_offset
    )
    return frame[indicators[:, 0]]


def slice_dataframe(df: Any, sf: SlicingFunction) -> Any:
    """Return the rows of ``df`` that are in ``sf``'s slice.

    Parameters
    ----------
    df
        A pandas DataFrame (filtered now) or a Dask DataFrame (filtered lazily, with
        an explicit ``meta``: the SF never runs on placeholder rows).
    sf
        The slicing function.

    Returns
    -------
    pandas or Dask DataFrame
        The rows in the slice, index and columns unchanged.

    Examples
    --------
    >>> import pandas as pd
    >>> from slicing.sf.core import slicing_function
    >>> @slicing_function()
    ... def short_comment(x):
    ...     return len(x.text.split()) < 3
    >>> df = pd.DataFrame({"text": ["nice song", "check out my channel"]})
    >>> slice_dataframe(df, short_comment)
            text
    0  nice song
    """
    check_sfs([sf])
    if isinstance(df, pd.DataFrame):
        check_frame_columns(df)
        if len(df) == 0:
            return df.copy()
        return _rows_in_slice(df, sf, row_offset=0)
    import dask.dataframe as dd

    if isinstance(df, dd.DataFrame):
        check_frame_columns(df._meta)
        return df.map_partitions(_rows_in_slice, sf, meta=df._meta)
    raise TypeError(f"expected a pandas or Dask DataFrame; got {type(df).__name__}")
