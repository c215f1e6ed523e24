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


class MissingColumnError(SFApplicationError):
    """An SF read a column the data does not have.

    Raised instead of a plain :class:`SFApplicationError` where the missing column is
    known, so that callers (the batch jobs) can tell bad input from a failing SF
    without parsing the message.

    Parameters
    ----------
    message
        The full error text.
    column
        The column the SF asked for.
    sf_name
        The SF that asked for it, where known.

    Examples
    --------
    >>> import pickle
    >>> error = MissingColumnError("SF 'x' needs 'title'", column="title")
    >>> pickle.loads(pickle.dumps(error)).column
    'title'
    """

    def __init__(
        self, message: str, column: object, sf_name: str | None = None
    ) -> None:
        super().__init__(message)
        self.column = column
        self.sf_name = sf_name

    def __reduce__(self) -> tuple:
        # Survives the pickle round trip between Dask processes with its column.
        return type(self), (str(self), self.column, self.sf_name)
