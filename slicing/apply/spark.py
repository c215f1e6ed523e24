"""SF applier for Spark DataFrames, built on the DataFrame API only (Spark Connect-safe).

``slice_columns`` is lazy: one ``mapInArrow`` over the input, which runs the one frame
kernel (:func:`slicing.apply.frame.slice_frame`) on each Arrow record batch and
returns one boolean column per SF (plus columns you keep, such as an id). ``apply``
collects those bool columns with ``toArrow()`` into the 1-byte slice matrix. No RDD,
``SparkContext`` or accumulator is used, so the same code runs on a local session, a
cluster and Spark Connect (Databricks serverless and shared clusters).

Row order of ``apply``: without ``order_by``, row ``i`` of the slice matrix is row
``i`` of ``sdf.collect()`` (or ``sdf.toPandas()``): partition order, then row order
within each partition, as Spark returns rows. That order is only reproducible if the
DataFrame's is (files read without a shuffle are; the result of a join or
``repartition`` may not be). With ``order_by`` (a column name or a list, ideally a
unique key) the input is sorted by it first, ascending with nulls first, and row ``i``
is the ``i``-th row in that order. The sort runs before the SFs, so they run once per
row.

PySpark is an optional extra (``pip install "slicing[spark]"``): importing this module
does not import it; creating an applier does, or explains how to install it. Executors
need this package installed, as Dask workers do.
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np

from slicing._spark import (
    check_spark_dataframe,
    map_in_arrow,
    quote,
    require_pyspark,
)
from slicing.apply.base import ApplierMetadata, ApplyResult, BaseSFApplier, SliceBlock
from slicing.apply.spark_errors import spark_sf_errors
from slicing.apply.spark_frame import (
    FAULTS_COLUMN,
    BatchSlicer,
    SliceFilter,
    fault_totals,
)
from slicing.sf.core import SlicingFunction

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["SparkSFApplier", "spark_rows_in_slice"]


class SparkSFApplier(BaseSFApplier):
    """SF applier for a Spark DataFrame (classic or Spark Connect session).

    The same per-row, vectorized and preprocessor SFs as every other applier: each
    Arrow record batch of a partition becomes a pandas frame for the shared frame
    kernel, so per-row SFs see light rows (``x.text``, ``x["text"]``) and vectorized
    SFs see a batch (``spark.sql.execution.arrow.maxRecordsPerBatch`` rows, 10,000 by
    default).

    Parameters
    ----------
    sfs
        Slicing functions to apply; names must be unique. snorkel's keyword ``lfs=``
        is accepted too.

    Raises
    ------
    ImportError
        PySpark is not installed (names the ``slicing[spark]`` extra).
    TypeError, ValueError
        See :func:`slicing.apply.base.check_sfs`.

    Examples
    --------
    >>> from slicing.sf.core import slicing_function
    >>> @slicing_function()
    ... def is_big(x):
    ...     return x.num > 42
    >>> sdf = spark.createDataFrame([(1, 5), (2, 50)], "id long, num long")  # doctest: +SKIP
    >>> applier = SparkSFApplier([is_big])  # doctest: +SKIP
    >>> applier.slice_columns(sdf, keep_columns=["id"]).show()  # doctest: +SKIP
    +---+------+
    | id|is_big|
    +---+------+
    |  1| false|
    |  2|  true|
    +---+------+
    >>> applier.apply(sdf, order_by="id")["is_big"]  # doctest: +SKIP
    array([False,  True])
    """

    def __init__(
        self,
        sfs: Sequence[SlicingFunction] | None = None,
        *,
        lfs: Sequence[SlicingFunction] | None = None,
    ) -> None:
        super().__init__(sfs, lfs=lfs)
        require_pyspark(type(self).__name__)

    def slice_columns(
        self,
        sdf: "DataFrame",
        *,
        keep_columns: Sequence[str] = (),
        fault_tolerant: bool = False,
        id_column: str | None = None,
    ) -> "DataFrame":
        """Lazily slice a Spark DataFrame: kept columns, then one bool column per SF.

        Nothing runs until the result is computed or written (e.g.
        ``.write.parquet(path)``); it has the input's partitioning, and its rows are
        the input's rows in the same order. An SF failure surfaces then, as Spark's
        ``PythonException`` whose message ends with this package's error (naming the
        SF, the row and the column); :meth:`apply` raises that error itself.

        Parameters
        ----------
        sdf
            The Spark DataFrame; SFs see all its columns.
        keep_columns
            Input columns carried into the result unchanged (an id, the label, a
            prediction), from the same rows.
        fault_tolerant
            Count exceptions as "not in slice" instead of failing the job. Fault
            counts are reported by :meth:`apply` (``return_meta=True``).
        id_column
            Column whose value names a failing row in error messages (instead of
            its position in its partition).

        Returns
        -------
        pyspark.sql.DataFrame
            ``keep_columns`` (types unchanged) and one non-null boolean column per SF.

        Raises
        ------
        TypeError
            ``sdf`` is not a Spark DataFrame, or an SF cannot be pickled.
        KeyError
            A kept or id column is not in ``sdf``.
        ValueError
            Duplicate column names, or a kept column named like an SF.
        """
        return self._sliced(
            sdf, list(keep_columns), fault_tolerant, id_column, count_faults=False
        )

    @overload
    def apply(
        self,
        sdf: "DataFrame",
        *,
        fault_tolerant: bool = ...,
        return_meta: Literal[False] = ...,
        order_by: str | Sequence[str] | None = ...,
        id_column: str | None = ...,
        progress_bar: bool = ...,
    ) -> np.recarray: ...

    @overload
    def apply(
        self,
        sdf: "DataFrame",
        *,
        fault_tolerant: bool = ...,
        return_meta: Literal[True],
        order_by: str | Sequence[str] | None = ...,
        id_column: str | None = ...,
        progress_bar: bool = ...,
    ) -> tuple[np.recarray, ApplierMetadata]: ...

    def apply(
        self,
        sdf: "DataFrame",
        *,
        fault_tolerant: bool = False,
        return_meta: bool = False,
        order_by: str | Sequence[str] | None = None,
        id_column: str | None = None,
        progress_bar: bool = True,
    ) -> ApplyResult:
        """Apply the SFs to every row and collect the slice matrix to the driver.

        Only the bool columns are collected, as Arrow (one bit a cell on the wire),
        then stored 1 byte a cell: for data whose slice matrix fits on the driver.
        For more, write :meth:`slice_columns` instead.

        Parameters
        ----------
        sdf
            The Spark DataFrame.
        fault_tolerant
            Count an SF that raises as "not in slice" for that row, and count the
            fault, instead of raising :class:`~slicing.errors.SFApplicationError`.
        return_meta
            Also return :class:`ApplierMetadata` with per-SF fault counts (summed
            from per-batch count columns: exact under task retries).
        order_by
            Column(s) to sort the rows by before slicing; ``None`` keeps the
            DataFrame's order (see the module docstring for both).
        id_column
            Column whose value names a failing row in error messages.
        progress_bar
            Accepted for the other appliers' signature; Spark reports progress
            itself (its console progress bar and UI).

        Returns
        -------
        np.recarray or (np.recarray, ApplierMetadata)
            Slice matrix with one bool field per SF.

        Raises
        ------
        TypeError
            ``sdf`` is not a Spark DataFrame, or an SF cannot be pickled.
        KeyError
            An ``order_by`` or ``id_column`` column is not in ``sdf``.
        ValueError
            The DataFrame has no rows, or duplicate column names.
        SFApplicationError
            An SF raised in an executor: names the SF, the row (position in its
            partition, or ``id_column`` value) and the original error.
        SFOutputError
            An SF returned something other than a bool.
        """
        del progress_bar  # Spark shows its own progress
        check_spark_dataframe(sdf, "SparkSFApplier.apply")
        order = [order_by] if isinstance(order_by, str) else list(order_by or [])
        _check_columns(sdf, order, "order_by")
        if order:
            sdf = sdf.orderBy(*[quote(column) for column in order])
        sliced = self._sliced(sdf, [], fault_tolerant, id_column, fault_tolerant)
        with spark_sf_errors():
            table = sliced.toArrow()
        if table.num_rows == 0:
            raise ValueError("the DataFrame is empty: there are no rows to slice")
        indicators = np.empty((table.num_rows, len(self._sfs)), dtype=np.bool_)
        for position, name in enumerate(self._sf_names):
            indicators[:, position] = table.column(name).to_numpy()
        faults = (
            fault_totals(table.column(FAULTS_COLUMN), self._sf_names)
            if fault_tolerant
            else dict.fromkeys(self._sf_names, 0)
        )
        return self._finish(SliceBlock(indicators, faults), return_meta)

    def _sliced(
        self,
        sdf: "DataFrame",
        keep_columns: list[str],
        fault_tolerant: bool,
        id_column: str | None,
        count_faults: bool,
    ) -> "DataFrame":
        from pyspark.sql.types import (
            ArrayType,
            BooleanType,
            LongType,
            StructField,
            StructType,
        )

        check_spark_dataframe(sdf, f"{type(self).__name__}.slice_columns")
        _check_columns(sdf, keep_columns, "keep_columns")
        _check_columns(sdf, [] if id_column is None else [id_column], "id_column")
        clashing = [column for column in keep_columns if column in self._sf_names]
        if clashing:
            raise ValueError(f"keep_columns {clashing} clash with SF names")
        _check_picklable(self._sfs)
        fields = {field.name: field for field in sdf.schema.fields}
        schema = StructType(
            [fields[column] for column in keep_columns]
            + [StructField(name, BooleanType(), False) for name in self._sf_names]
            + (
                [StructField(FAULTS_COLUMN, ArrayType(LongType(), False), True)]
                if count_faults
                else []
            )
        )
        slicer = BatchSlicer(
            self._sfs,
            fault_tolerant,
            keep_columns,
            count_faults=count_faults,
            id_column=id_column,
        )
        return map_in_arrow(sdf, slicer, schema)


def _check_columns(sdf: Any, columns: Sequence[str], option: str) -> None:
    missing = [column for column in columns if column not in sdf.columns]
    if missing:
        raise KeyError(
            f"{option} {missing} are not columns of the Spark DataFrame; it has "
            f"{list(sdf.columns)}"
        )


def _check_picklable(sfs: Sequence[SlicingFunction]) -> None:
    """Name an SF that cannot be sent to the executors, before Spark fails on it."""
    from pyspark import cloudpickle

    for sf in sfs:
        try:
            cloudpickle.dumps(sf)
        except Exception as exc:  # noqa: BLE001 - any pickling failure is reported
            raise TypeError(
                f"SF '{sf.name}' cannot be pickled ({type(exc).__name__}: {exc}), so it "
                "cannot be sent to the Spark executors; create the unpicklable object "
                "(lock, connection, open file, ...) inside the SF instead of closing "
                "over it"
            ) from exc


def spark_rows_in_slice(sdf: "DataFrame", sf: SlicingFunction) -> "DataFrame":
    """The rows of a Spark DataFrame in ``sf``'s slice, lazily (``slice_dataframe``).

    The schema is unchanged; an SF failure surfaces when the result is computed, as
    Spark's ``PythonException`` ending with this package's error.
    """
    require_pyspark("slice_dataframe on a Spark DataFrame")
    check_spark_dataframe(sdf, "slice_dataframe")
    _check_picklable([sf])
    return map_in_arrow(sdf, SliceFilter(sf), sdf.schema)
