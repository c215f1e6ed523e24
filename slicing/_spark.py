"""The package's Spark plumbing, in one place: the optional import, DataFrame checks
and column references (executor errors are translated in ``slicing.apply.spark_errors``).

Nothing here imports PySpark at module import: ``import slicing`` must stay light, and
PySpark is an optional extra (``pip install "slicing[spark]"``). Only the DataFrame
API is used (no RDDs, no ``SparkContext``), so every path also runs under Spark
Connect (Databricks serverless and shared clusters).
"""

import warnings
from types import ModuleType
from typing import Any

__all__ = [
    "check_spark_dataframe",
    "is_spark_dataframe",
    "map_in_arrow",
    "quote",
    "require_pyspark",
]


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
