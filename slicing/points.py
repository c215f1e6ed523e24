"""Data points handed to per-row SFs when applying them to a DataFrame.

Building a ``pd.Series`` per row (what ``DataFrame.apply(axis=1)`` does) dominates
the cost of applying cheap SFs; these lightweight rows are built column-wise from
Python lists and still behave like a pandas row for SF code: ``x.text``,
``x["text"]``, ``x.get("text")``, ``x.to_dict()``. Measured costs are in the
"Applying SFs" section of ``BENCHMARKS.md`` (``bench/apply.py``).

- :func:`row_type` gives an immutable, namedtuple-based row (fastest), used for SFs
  without preprocessors.
- :class:`MutableDataPoint` is a ``SimpleNamespace`` with item access, used for SFs
  with snorkel preprocessors, which copy the point (pickle round trip), memoize it and
  set new attributes on it.
"""

import collections
import functools
from collections.abc import Hashable, Iterator, Sequence
from types import SimpleNamespace
from typing import Any

__all__ = [
    "ColumnAttributeError",
    "ColumnKeyError",
    "MutableDataPoint",
    "point_to_dict",
    "row_type",
]


class ColumnKeyError(KeyError):
    """``x["col"]`` on a data point without that column; carries ``column``.

    A :class:`KeyError`, so SF code that catches ``KeyError`` keeps working; the
    appliers turn it into a :class:`~slicing.errors.MissingColumnError` without parsing messages.

    Examples
    --------
    >>> import pickle
    >>> error = ColumnKeyError("no column 'title'", column="title")
    >>> isinstance(error, KeyError), pickle.loads(pickle.dumps(error)).column
    (True, 'title')
    """

    def __init__(self, message: str, column: object) -> None:
        super().__init__(message)
        self.column = column

    def __reduce__(self) -> tuple:
        return type(self), (self.args[0], self.column)


class ColumnAttributeError(AttributeError):
    """``x.col`` on a data point without that column; carries ``column``.

    An :class:`AttributeError`, so ``hasattr(x, "col")`` and ``getattr(x, "col",
    default)`` keep working.

    Examples
    --------
    >>> hasattr(ColumnAttributeError("no column 'title'", column="title"), "column")
    True
    """

    def __init__(self, message: str, column: str) -> None:
        super().__init__(message)
        self.column = column

    def __reduce__(self) -> tuple:
        return type(self), (self.args[0], self.column)


class MutableDataPoint(SimpleNamespace):
    """A data point whose columns are attributes and items; preprocessors may add more.

    Examples
    --------
    >>> x = MutableDataPoint(text="hi", n=2)
    >>> x.text, x["n"], x.get("missing", 0)
    ('hi', 2, 0)
    >>> x.doc = "parsed"
    >>> sorted(x.to_dict())
    ['doc', 'n', 'text']
    """

    def __getitem__(self, key: str) -> Any:
        try:
            return self.__dict__[key]
        except KeyError:
            raise ColumnKeyError(
                _missing_column_message(key, list(self.__dict__)), column=key
            ) from None

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: say which columns exist.
        if name.startswith("__"):
            raise AttributeError(name)
        raise ColumnAttributeError(
            _missing_column_message(name, list(self.__dict__)), column=name
        )

    def get(self, key: str, default: Any = None) -> Any:
        return self.__dict__.get(key, default)

    def keys(self) -> list[str]:
        return list(self.__dict__)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@functools.lru_cache(maxsize=128)
def row_type(columns: tuple[Hashable, ...]) -> Any:
    """Return an immutable row class for these column labels (cached per column set).

    Rows are namedtuples (attribute access at C speed) that also take column labels
    as items, including labels that are not Python identifiers. They pickle by value.

    Examples
    --------
    >>> Row = row_type(("text", "my col"))
    >>> x = Row("hello", 3)
    >>> x.text, x["text"], x["my col"], x.get("nope", -1)
    ('hello', 'hello', 3, -1)
    >>> x.missing
    Traceback (most recent call last):
    ...
    slicing.points.ColumnAttributeError: data point has no column 'missing'; its columns are ['text', 'my col']
    """
    field_names = [str(column) for column in columns]
    base = collections.namedtuple("DataPoint", field_names, rename=True)  # type: ignore[misc]
    positions = {column: position for position, column in enumerate(columns)}
    column_list = list(columns)

    def __getitem__(self: tuple, key: Any) -> Any:
        position = positions.get(key) if isinstance(key, Hashable) else None
        if position is not None:
            return tuple.__getitem__(self, position)
        if isinstance(key, (int, slice)):
            return tuple.__getitem__(self, key)
        raise ColumnKeyError(_missing_column_message(key, column_list), column=key)

    def __getattr__(self: tuple, name: str) -> Any:
        # Only called when normal lookup fails (e.g. renamed non-identifier columns).
        position = positions.get(name)
        if position is not None:
            return tuple.__getitem__(self, position)
        raise ColumnAttributeError(
            _missing_column_message(name, column_list), column=name
        )

    def get(self: tuple, key: Hashable, default: Any = None) -> Any:
        position = positions.get(key)
        return default if position is None else tuple.__getitem__(self, position)

    def keys(self: tuple) -> list[Hashable]:
        return list(column_list)

    def to_dict(self: tuple) -> dict[Hashable, Any]:
        return dict(zip(column_list, self))

    def items(self: tuple) -> Iterator[tuple[Hashable, Any]]:
        return iter(zip(column_list, self))

    def __reduce__(self: tuple) -> tuple:
        return (_rebuild_row, (columns, tuple(self)))

    namespace = {
        "__slots__": (),
        "__getitem__": __getitem__,
        "__getattr__": __getattr__,
        "get": get,
        "keys": keys,
        "to_dict": to_dict,
        "items": items,
        "__reduce__": __reduce__,
    }
    return type("DataPoint", (base,), namespace)


def _rebuild_row(columns: tuple[Hashable, ...], values: tuple) -> Any:
    return row_type(columns)._make(values)


def point_to_dict(point: Any) -> dict:
    """Column -> value mapping of a data point of any supported kind.

    Supports pandas Series, mappings, ``SimpleNamespace``-like objects, namedtuples
    and the row types of this module.

    Raises
    ------
    TypeError
        For points with no named fields (e.g. a plain tuple or a number).
    """
    if hasattr(point, "to_dict"):
        return dict(point.to_dict())
    if isinstance(point, collections.abc.Mapping):
        return dict(point)
    if hasattr(point, "_asdict"):
        return dict(point._asdict())
    if hasattr(point, "__dict__"):
        return dict(vars(point))
    raise TypeError(
        f"cannot read named fields from a data point of type {type(point).__name__}; "
        "use a pandas Series, dict, SimpleNamespace or namedtuple"
    )


def _missing_column_message(key: Any, columns: Sequence[Hashable]) -> str:
    shown = list(columns) if len(columns) <= 20 else [*columns[:20], "..."]
    return f"data point has no column {key!r}; its columns are {shown}"
