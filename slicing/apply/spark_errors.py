"""Executor failures on Spark, re-raised on the driver as the exception the SF raised.

Spark hands a Python worker's exception to the driver as a ``PythonException`` whose
text holds the worker's traceback; :func:`spark_sf_errors` turns it back into our
``SFApplicationError``, ``SFOutputError`` or ``MissingColumnError`` with the message
unchanged, so a Spark user sees the same one clean error as a pandas or Dask user.
"""

import ast
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from slicing.errors import MissingColumnError, SFApplicationError, SFOutputError

__all__ = ["SF_ERRORS", "spark_sf_errors"]

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


def _error_from(
    error: BaseException, classes: Sequence[type[Exception]]
) -> Exception | None:
    """Our exception raised in a Python worker, rebuilt from the Spark error's text.

    The last line naming one of ``classes`` (module and class) wins; an ``OSError``
    with an errno comes back as an ``OSError`` (full disk, read-only output).
    """
    # Spark Connect may append the JVM stack trace and the SQL state; neither says
    # anything about the SF.
    text = str(error).split("\n\nJVM stacktrace:", 1)[0]
    text = re.sub(r"\s*SQLSTATE: \w+\s*$", "", text)
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
