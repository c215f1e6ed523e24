"""Exceptions raised when slicing functions are applied to data.

Both carry a message naming the SF, the row (position and, for DataFrames, index
label) and what went wrong; they pickle cleanly so that Dask process and
``distributed`` workers can send them back to the client unchanged.
"""


class SFApplicationError(RuntimeError):
    """A slicing function raised an exception on a data point.

    The original exception is chained as ``__cause__`` where the error is raised in
    the calling process, and its type and message are part of the text everywhere
    (chaining does not survive pickling between Dask processes).
    """


class SFOutputError(ValueError):
    """A slicing function returned something other than a boolean slice indicator."""


def format_label(label: object) -> str:
    """``repr`` of an index label, without numpy's ``np.int64(...)`` wrapper."""
    item = getattr(label, "item", None)
    if callable(item) and type(label).__module__ == "numpy":
        label = item()
    return repr(label)
