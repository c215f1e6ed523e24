"""SF applier for a pandas DataFrame."""

from typing import Literal, overload

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from slicing.apply.base import ApplierMetadata, ApplyResult, BaseSFApplier
from slicing.apply.frame import check_frame_columns, slice_frame

__all__ = ["PandasSFApplier"]


class PandasSFApplier(BaseSFApplier):
    """SF applier for a pandas DataFrame, one row per data point.

    Per-point SFs receive light row objects that behave like a pandas row
    (``x.text``, ``x["text"]``, ``x.get("text")``); SFs with snorkel preprocessors
    receive mutable rows the preprocessors can add fields to. Vectorized SFs are
    called on whole chunks of the frame. No global pandas state is changed (no
    ``tqdm.pandas()``).

    Parameters
    ----------
    sfs
        Slicing functions to apply; names must be unique. snorkel's keyword ``lfs=``
        is accepted too.

    Examples
    --------
    >>> import pandas as pd
    >>> from slicing.sf.core import slicing_function
    >>> @slicing_function()
    ... def short_comment(x):
    ...     return len(x.text.split()) < 3
    >>> @slicing_function(vectorized=True)
    ... def has_link(df):
    ...     return df.text.str.contains("http", regex=False)
    >>> df = pd.DataFrame({"text": ["nice song", "see http://x.co now please"]})
    >>> S = PandasSFApplier([short_comment, has_link]).apply(df, progress_bar=False)
    >>> S["short_comment"], S["has_link"]
    (array([ True, False]), array([False,  True]))
    """

    @overload
    def apply(
        self,
        df: pd.DataFrame,
        progress_bar: bool = ...,
        fault_tolerant: bool = ...,
        return_meta: Literal[False] = ...,
    ) -> np.recarray: ...

    @overload
    def apply(
        self,
        df: pd.DataFrame,
        progress_bar: bool = ...,
        fault_tolerant: bool = ...,
        *,
        return_meta: Literal[True],
    ) -> tuple[np.recarray, ApplierMetadata]: ...

    def apply(
        self,
        df: pd.DataFrame,
        progress_bar: bool = True,
        fault_tolerant: bool = False,
        return_meta: bool = False,
    ) -> ApplyResult:
        """Apply the SFs to every row of ``df``; return the slice matrix.

        Parameters
        ----------
        df
            The data points, one per row. Row ``i`` of the result is ``df.iloc[i]``.
        progress_bar
            Show a tqdm progress bar.
        fault_tolerant
            Count an SF that raises as "not in slice" for that row (and count the
            fault) instead of stopping with :class:`SFApplicationError`.
        return_meta
            Also return :class:`ApplierMetadata` with per-SF fault counts.

        Returns
        -------
        np.recarray or (np.recarray, ApplierMetadata)
            Slice matrix with one bool field per SF.

        Raises
        ------
        ValueError
            An empty frame, or duplicate column names.
        SFApplicationError
            An SF raised: names the SF, the row position and index label.
        SFOutputError
            An SF returned something other than a bool.
        """
        check_frame_columns(df)
        if len(df) == 0:
            raise ValueError("the DataFrame is empty: there are no rows to slice")
        with tqdm(total=len(df), unit="rows", disable=not progress_bar) as progress:
            block = slice_frame(
                df, self._sfs, fault_tolerant=fault_tolerant, on_chunk=progress.update
            )
        return self._finish(block, return_meta)
