"""The package's Spark plumbing, in one place: the optional import, DataFrame checks,
column references and the translation of executor errors.

Nothing here imports PySpark at module import: ``import slicing`` must stay light, and
PySpark is an optional extra (``pip install "slicing[spark]"``). Only the DataFrame
API is used (no RDDs, no ``SparkContext``), so every path also runs under Spark
Connect (Databricks serverless and shared clusters).
"""

import ast
import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from slicing.errors import MissingColumnError, SFApplicationError, SFOutputError

__all__ = [
    "SF_ERRORS",
    "check_spark_dataframe",
    "is_spark_dataframe",
    "map_in_arrow",
    "quote",
    "require_pyspark",
    "spark_sf_errors",
]

#: Our exceptions that an executor may raise, as their class appears in the Python
#: worker's traceback text (``slicing.errors.SFOutputError: ...``).
SF_ERRORS: tuple[type[Exception], ...] = (
    SFApplicationError,
    SFOutputError,
    MissingColumnError,
)
#: The last line of a traceback for an ``OSError`` with an errno.
_OS_ERROR_LINE = re.compile(
    r"^(?:\w+\.)*(?:OSError|PermissionError|FileNotFoundError|IsADirectoryError): "
    r"\[Errno (\d+)\] ",
    re.MULTILINE,
)


def require_pyspark(feature: str) -> ModuleType:
    """Import PySpark or explain how to install it.

    Raises
    ------
    ImportError
        Naming ``feature`` and the ``slicing[spark]`` extra.

    Examples
    --------
    >>> import sys
    >>> saved = sys.modules.get("pyspark")
    >>> sys.modules["pyspark"] = None  # as if PySpark were not installed
    >>> try:
    ...     require_pyspark("SparkSFApplier")
    ... finally:
    ...     del sys.modules["pyspark"]
    ...     if saved is not None:
    ...         sys.modules["pyspark"] = saved
    Traceback (most recent call last):
    ...
    ImportError: SparkSFApplier needs PySpark 4 or later, which is not installed: pip install "slicing[spark]" (and Java 17 or 21 for a local session)
    """
    try:
        import pyspark
    except ImportError as error:
        raise ImportError(
            f"{feature} needs PySpark 4 or later, which is not installed: "
            'pip install "slicing[spark]" (and Java 17 or 21 for a local session)'
        ) from error
    return pyspark


def is_spark_dataframe(value: Any) -> bool:
    """Whether ``value`` is a Spark DataFrame, classic or Spark Connect (no import).

    Examples
    --------
    >>> import pandas as pd
    >>> is_spark_dataframe(pd.DataFrame())
    False
    """
    return any(
        cls.__name__ == "DataFrame" and cls.__module__.startswith("pyspark.sql")
        for cls in type(value).__mro__
    )


def check_spark_dataframe(value: Any, feature: str) -> Any:
    """Return ``value`` if it is a Spark DataFrame with unique column names.

    Raises
    ------
    TypeError
        ``value`` is not a Spark DataFrame (says what it is).
    ValueError
        Two columns share a name (SFs could not tell them apart).
    """
    if not is_spark_dataframe(value):
        hint = (
            "; for a pandas DataFrame use PandasSFApplier, for Dask DaskSFApplier"
            if type(value).__name__ == "DataFrame"
            else ""
        )
        raise TypeError(
            f"{feature} expected a Spark DataFrame (pyspark.sql.DataFrame); got "
            f"{type(value).__module__}.{type(value).__name__}{hint}"
        )
    columns = list(value.columns)
    repeated = sorted({column for column in columns if columns.count(column) > 1})
    if repeated:
        raise ValueError(
            f"the Spark DataFrame has duplicate column names {repeated}: SFs could not "
            "tell them apart (rename them, e.g. after a join)"
        )
    return value


def map_in_arrow(sdf: Any, function: Any, schema: Any) -> Any:
    """``sdf.mapInArrow(function, schema)``, without PySpark's warning about pandas.

    PySpark warns that it does not fully support pandas >= 3 whenever a Python UDF
    is created; these UDFs receive Arrow batches and convert them with pyarrow, not
    through PySpark's pandas support, so the warning does not apply.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "PySpark does not yet fully support pandas", FutureWarning
        )
        return sdf.mapInArrow(function, schema)


def quote(name: str) -> str:
    """A column name as a Spark SQL identifier (dots and spaces taken literally).

    Examples
    --------
    >>> quote("a.b"), quote("odd`name")
    ('`a.b`', '`odd``name`')
    """
    return "`" + name.replace("`", "``") + "`"


def _error_from(
    error: BaseException, classes: Sequence[type[Exception]]
) -> Exception | None:
    """Our exception raised in a Python worker, rebuilt from the Spark error's text.

    The last line naming one of ``classes`` (module and class) wins; an ``OSError``
    with an errno comes back as an ``OSError`` (full disk, read-only output).
    """
    # Spark Connect may append the JVM stack trace; it says nothing about the SF.
    text = str(error).split("\n\nJVM stacktrace:", 1)[0]
    by_name = {f"{cls.__module__}.{cls.__qualname__}": cls for cls in classes}
    pattern = re.compile(
        "^(" + "|".join(re.escape(name) for name in by_name) + "): ", re.MULTILINE
    )
    matches = list(pattern.finditer(text))
    if not matches:
        os_error = list(_OS_ERROR_LINE.finditer(text))
        if not os_error:
            return None
        errno = int(os_error[-1].group(1))
        return OSError(errno, text[os_error[-1].end() :].rstrip())
    last = matches[-1]
    message = text[last.end() :].rstrip()
    cls = by_name[last.group(1)]
    if cls is MissingColumnError:
        column = re.search(r"has no column (.+?); its columns", message)
        try:
            name = ast.literal_eval(column.group(1)) if column else None
        except (ValueError, SyntaxError):
            name = column.group(1) if column else None
        return MissingColumnError(message, column=name)
    return cls(message)


@contextmanager
def spark_sf_errors(
    classes: Sequence[type[Exception]] = SF_ERRORS,
) -> Iterator[None]:
    """Re-raise a failure inside a Spark job as the exception the executor raised.

    An SF that raises in an executor reaches the driver as a Spark
    ``PythonException`` whose text holds the worker's Python traceback; its last
    line naming one of ``classes`` (by default
    :class:`~slicing.errors.SFApplicationError`, ``SFOutputError`` and
    ``MissingColumnError``) is turned back into that exception, with the message
    unchanged and the Spark exception chained. Other errors pass through untouched.

    Examples
    --------
    >>> class PythonException(Exception):  # stands in for PySpark's
    ...     __module__ = "pyspark.errors"
    >>> text = "Traceback ...\\nslicing.errors.SFApplicationError: SF 'a' raised KeyError"
    >>> with spark_sf_errors():
    ...     raise PythonException(text)
    Traceback (most recent call last):
    ...
    slicing.errors.SFApplicationError: SF 'a' raised KeyError
    """
    try:
        yield
    except Exception as error:
        if not any(cls.__module__.startswith("pyspark") for cls in type(error).__mro__):
            raise
        translated = _error_from(error, classes)
        if translated is None:
            raise
        raise translated from error
