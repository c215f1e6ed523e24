"""Select the rows of a DataFrame (pandas, Dask or Spark) that belong to a slice."""

from typing import Any

import pandas as pd

from slicing._spark import is_spark_dataframe
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
    block = slice_frame(frame, [sf], fault_tolerant=False, row_offset=row_offset)
    return frame[block.indicators[:, 0]]


def slice_dataframe(
    df: Any,
    slicing_function: SlicingFunction | None = None,
    *,
    sf: SlicingFunction | None = None,
) -> Any:
    """Return the rows of ``df`` that are in the slicing function's slice.

    Parameters
    ----------
    df
        A pandas DataFrame (filtered now), a Dask DataFrame (filtered lazily, with
        an explicit ``meta``: the SF never runs on placeholder rows) or a Spark
        DataFrame (filtered lazily with ``mapInArrow``, schema unchanged; needs
        ``slicing[spark]``).
    slicing_function
        The slicing function (snorkel's keyword name).
    sf
        The same, under a shorter keyword; give one of the two.

    Returns
    -------
    pandas, Dask or Spark DataFrame
        The rows in the slice, index and columns unchanged.

    Raises
    ------
    TypeError
        ``df`` is not a DataFrame, the SF is not a ``SlicingFunction``, or it is
        given twice or not at all.
    ValueError
        Duplicate column names, or a reserved slice name (``base``, ``overall``).
    SFApplicationError, SFOutputError
        The SF raised or returned a non-bool on a row (named in the message).

    Examples
    --------
    >>> import pandas as pd
    >>> from slicing.sf.core import slicing_function
    >>> @slicing_function()
    ... def short_comment(x):
    ...     return len(x.text.split()) < 3
    >>> df = pd.DataFrame({"text": ["nice song", "check out my channel"]})
    >>> slice_dataframe(df, slicing_function=short_comment)
            text
    0  nice song
    """
    if (slicing_function is None) == (sf is None):
        raise TypeError(
            "pass one slicing function: slice_dataframe(df, sf) or "
            "slice_dataframe(df, slicing_function=sf)"
        )
    sf = slicing_function if slicing_function is not None else sf
    check_sfs([sf])
    if isinstance(df, pd.DataFrame):
        check_frame_columns(df)
        if len(df) == 0:
            return df.copy()
        return _rows_in_slice(df, sf, row_offset=0)
    if is_spark_dataframe(df):
        from slicing.apply.spark import spark_rows_in_slice

        return spark_rows_in_slice(df, sf)
    import dask.dataframe as dd

    if isinstance(df, dd.DataFrame):
        check_frame_columns(df._meta)
        return df.map_partitions(_rows_in_slice, sf, meta=df._meta)
    raise TypeError(
        f"expected a pandas or Dask DataFrame (or a Spark DataFrame); got "
        f"{type(df).__name__}"
    )
