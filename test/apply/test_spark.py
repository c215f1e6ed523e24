"""SparkSFApplier and slice_dataframe on Spark, on one local session (local[2]).

Spark jobs cost about a second each here, so each test runs few of them; the checks
that need no job (types, columns, pickling, the optional import) run without one.
"""

import subprocess
import sys
import threading
from contextlib import contextmanager

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from slicing.apply.core import SFApplier
from slicing.apply.dask import DaskSFApplier
from slicing.apply.dataframe import slice_dataframe
from slicing.apply.pandas import PandasSFApplier
from slicing.apply.spark_frame import BatchSlicer
from slicing.errors import MissingColumnError, SFApplicationError, SFOutputError
from slicing.points import MutableDataPoint
from slicing.sf.core import slicing_function
from test.spark_conftest import spark  # noqa: F401 - the session fixture

# PySpark warns about pandas >= 3 when it converts data itself; these tests pass
# Arrow tables, and the package converts Arrow batches with pyarrow.
pytestmark = pytest.mark.filterwarnings(
    "ignore:PySpark does not yet fully support pandas:FutureWarning"
)


def run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def to_spark(session, frame: pd.DataFrame, partitions: int = 2):
    """``frame`` in Spark, shuffled into ``partitions`` (so not in ``frame``'s order)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return session.createDataFrame(table).repartition(partitions)


@contextmanager
def batch_rows(session, rows: int):
    """Arrow batches of ``rows`` rows, so that a small frame spans several batches."""
    key = "spark.sql.execution.arrow.maxRecordsPerBatch"
    previous = session.conf.get(key)
    session.conf.set(key, str(rows))
    try:
        yield
    finally:
        session.conf.set(key, previous)


@slicing_function()
def short_comment(x):
    return len(x.text.split()) < 3


@slicing_function(vectorized=True)
def high_score(df):
    return df.score > 0.8


@slicing_function()
def fragile(x):
    return 1 / (x.score - 0.5) > 0


def comments(n: int = 40) -> pd.DataFrame:
    """Comments with an id that is not the row position, to catch order mix-ups."""
    rng = np.random.default_rng(0)
    words = np.array("nice song check out my channel please subscribe wow".split())
    return pd.DataFrame(
        {
            "comment_id": rng.permutation(n) * 7 + 3,
            "text": [" ".join(rng.choice(words, rng.integers(1, 6))) for _ in range(n)],
            "score": np.round(rng.random(n), 2),
        }
    )


# --- no Spark session needed -------------------------------------------------------


def test_importing_slicing_never_imports_pyspark():
    out = run(
        "import sys, slicing\n"
        "from slicing import SparkSFApplier, slice_dataframe, spark_slice_scores\n"
        "import slicing.apply.spark, slicing.monitor.spark_scores\n"
        "print('pyspark' in sys.modules, SparkSFApplier.__module__)"
    )
    assert out == "False slicing.apply.spark"


def test_without_pyspark_the_error_names_the_extra():
    out = run(
        "import sys\n"
        "sys.modules['pyspark'] = None\n"
        "from slicing import SparkSFApplier, slicing_function, spark_slice_scores\n"
        "sf = slicing_function()(lambda x: True)\n"
        "for call in (lambda: SparkSFApplier([sf]), "
        "lambda: spark_slice_scores(None, 'gold', 'pred')):\n"
        "    try:\n"
        "        call()\n"
        "    except ImportError as error:\n"
        "        print(error)\n"
    )
    lines = out.splitlines()
    assert len(lines) == 2
    assert all('pip install "slicing[spark]"' in line for line in lines)
    assert lines[0].startswith("SparkSFApplier needs PySpark")


def test_batch_slicer_counts_faults_on_the_first_row_of_each_batch():
    batch = pa.RecordBatch.from_pydict(
        {"comment_id": [1, 2, 3], "text": ["a", "b c", "d"], "score": [0.5, 0.9, 0.5]}
    )
    slicer = BatchSlicer(
        [short_comment, fragile], True, ["comment_id"], count_faults=True
    )
    [out] = list(slicer(iter([batch])))
    assert out.to_pydict() == {
        "comment_id": [1, 2, 3],
        "short_comment": [True, True, True],
        "fragile": [False, True, False],
        "__slicing_faults__": [[0, 2], None, None],
    }


def test_executor_errors_are_rebuilt_from_classic_and_connect_texts():
    from slicing.apply.spark_errors import spark_sf_errors

    class PythonException(Exception):  # stands in for PySpark's (classic / Connect)
        __module__ = "pyspark.errors.exceptions.connect"

    worker = (
        "An exception was thrown from the Python worker:\nTraceback (most recent call "
        'last):\n  File "x.py", line 1, in f\nslicing.errors.MissingColumnError: '
        "vectorized SF 'by_title' raised KeyError on the chunk starting at row 0: "
        "'title' (the DataFrame has no column 'title'; its columns are ['text'])"
    )
    for text in (worker, worker + "\n SQLSTATE: 38000\n\nJVM stacktrace:\nat org.x"):
        with pytest.raises(MissingColumnError) as caught, spark_sf_errors():
            raise PythonException(text)
        assert caught.value.column == "title"
        assert str(caught.value).endswith("its columns are ['text'])")
    with pytest.raises(PythonException), spark_sf_errors():  # not ours: untouched
        raise PythonException("ArithmeticException: / by zero")


def test_a_non_spark_argument_is_refused():
    pytest.importorskip("pyspark")
    from slicing.apply.spark import SparkSFApplier

    applier = SparkSFApplier([short_comment])
    with pytest.raises(TypeError, match="expected a Spark DataFrame.*PandasSFApplier"):
        applier.apply(comments())
    with pytest.raises(
        TypeError, match="expected a Spark DataFrame.*got builtins.list"
    ):
        applier.slice_columns([1, 2])


# --- on the local session ----------------------------------------------------------


@pytest.fixture(scope="module")
def sdf(spark):  # noqa: F811 - the imported fixture
    return to_spark(spark, comments(), partitions=3)


def test_slice_columns_is_lazy_and_keeps_columns(spark, sdf):  # noqa: F811
    from slicing.apply.spark import SparkSFApplier

    started = threading.active_count()
    sliced = SparkSFApplier([short_comment, high_score]).slice_columns(
        sdf, keep_columns=["comment_id"]
    )
    assert threading.active_count() == started  # no job ran yet
    assert [(f.name, f.dataType.simpleString(), f.nullable) for f in sliced.schema] == [
        ("comment_id", "bigint", True),
        ("short_comment", "boolean", False),
        ("high_score", "boolean", False),
    ]
    result = (
        sliced.toArrow().to_pandas().sort_values("comment_id").reset_index(drop=True)
    )
    expected = comments().sort_values("comment_id").reset_index(drop=True)
    assert result.short_comment.tolist() == [len(t.split()) < 3 for t in expected.text]
    assert result.high_score.tolist() == (expected.score > 0.8).tolist()


def test_apply_follows_the_dataframe_order_or_order_by(spark, sdf):  # noqa: F811
    from slicing.apply.spark import SparkSFApplier

    applier = SparkSFApplier([short_comment, high_score])
    frame = comments()
    # Default: the DataFrame's order (partitions in order, rows in order), which for
    # a DataFrame made from a table without a shuffle is the table's order.
    with batch_rows(spark, 4):
        S = applier.apply(spark.createDataFrame(pa.Table.from_pandas(frame)))
    np.testing.assert_array_equal(
        S, PandasSFApplier([short_comment, high_score]).apply(frame, progress_bar=False)
    )
    # order_by: the sorted order, whatever the partitioning.
    by_id = applier.apply(sdf, order_by="comment_id")
    sorted_frame = frame.sort_values("comment_id")
    expected = PandasSFApplier([short_comment, high_score]).apply(
        sorted_frame, progress_bar=False
    )
    assert by_id.dtype == expected.dtype and by_id.itemsize == 2  # 1 byte a cell
    np.testing.assert_array_equal(by_id, expected)


def test_list_pandas_dask_and_spark_appliers_agree(spark):  # noqa: F811
    from slicing.apply.spark import SparkSFApplier

    @slicing_function(pre=[])
    def has_please(x):
        return "please" in x["text"]

    @slicing_function()
    def with_resource(x, cutoff=0.3):
        return x.score < cutoff

    sfs = [short_comment, high_score, has_please, with_resource]
    frame = comments(60).sort_values("comment_id", ignore_index=True)
    frame.index = frame.index * 3 + 5  # labels that are not positions
    points = [MutableDataPoint(**record) for record in frame.to_dict("records")]
    from_list = SFApplier(sfs).apply(points, progress_bar=False)
    from_pandas = PandasSFApplier(sfs).apply(frame, progress_bar=False)
    from_dask = DaskSFApplier(sfs).apply(
        dd.from_pandas(frame, npartitions=3, sort=False),
        scheduler="synchronous",
        progress_bar=False,
    )
    with batch_rows(spark, 7):
        from_spark = SparkSFApplier(sfs).apply(
            to_spark(spark, frame, partitions=4), order_by="comment_id"
        )
    for S in (from_list, from_dask, from_spark):
        assert S.dtype == from_pandas.dtype
        np.testing.assert_array_equal(S, from_pandas)


def test_an_sf_raising_in_an_executor_names_the_sf_and_row(spark, sdf):  # noqa: F811
    from pyspark.errors import PythonException

    from slicing.apply.spark import SparkSFApplier

    frame = comments()
    data = frame.assign(score=np.where(frame.comment_id == 3, 0.5, frame.score))
    with pytest.raises(SFApplicationError) as caught:
        SparkSFApplier([short_comment, fragile]).apply(
            to_spark(spark, data), id_column="comment_id"
        )
    message = str(caught.value)
    assert message.startswith("SF 'fragile' raised ZeroDivisionError on row ")
    assert "of partition " in message and "(comment_id 3)" in message
    assert message.endswith("float division by zero")
    assert "org.apache" not in message and "Traceback" not in message
    assert isinstance(caught.value.__cause__, PythonException)


def test_fault_tolerant_counts_are_exact_over_batches(spark):  # noqa: F811
    from slicing.apply.spark import SparkSFApplier

    frame = comments(30).assign(score=[0.5, 0.9, 0.1] * 10)
    with batch_rows(spark, 4):  # 10 faults spread over many batches and partitions
        S, meta = SparkSFApplier([short_comment, fragile]).apply(
            to_spark(spark, frame, partitions=3),
            fault_tolerant=True,
            return_meta=True,
            order_by="comment_id",
        )
    assert meta.faults == {"short_comment": 0, "fragile": 10}
    expected = frame.sort_values("comment_id").score.to_numpy() > 0.5
    np.testing.assert_array_equal(S["fragile"], expected)


def test_non_bool_outputs_and_missing_columns_are_named(spark, sdf):  # noqa: F811
    from slicing.apply.spark import SparkSFApplier

    @slicing_function()
    def says_yes(x):
        return "yes"

    @slicing_function(vectorized=True)
    def by_title(df):
        return df["title"].str.len() > 3

    @slicing_function()
    def row_title(x):
        return x.title == "x"

    with pytest.raises(SFOutputError, match="SF 'says_yes' returned 'yes'.*row 0"):
        SparkSFApplier([says_yes]).apply(sdf)
    with pytest.raises(MissingColumnError) as caught:
        SparkSFApplier([by_title]).apply(sdf)
    assert caught.value.column == "title"
    assert "vectorized SF 'by_title' raised KeyError" in str(caught.value)
    with pytest.raises(
        SFApplicationError, match="SF 'row_title' raised AttributeError.*title"
    ):
        SparkSFApplier([row_title]).apply(sdf)


def test_bad_arguments_are_refused_before_any_job(spark, sdf):  # noqa: F811
    from slicing.apply.spark import SparkSFApplier

    applier = SparkSFApplier([short_comment])
    with pytest.raises(KeyError, match=r"keep_columns \['nope'\] are not columns"):
        applier.slice_columns(sdf, keep_columns=["nope"])
    with pytest.raises(KeyError, match=r"order_by \['nope'\]"):
        applier.apply(sdf, order_by="nope")
    with pytest.raises(ValueError, match="clash with SF names"):
        applier.slice_columns(
            sdf.withColumnRenamed("text", "short_comment"),
            keep_columns=["short_comment"],
        )
    with pytest.raises(ValueError, match=r"duplicate column names \['text'\]"):
        applier.apply(sdf.select("text", "text"))
    lock = threading.Lock()
    locked = slicing_function(name="locked")(lambda x: lock.locked())
    with pytest.raises(TypeError, match="SF 'locked' cannot be pickled"):
        SparkSFApplier([locked]).slice_columns(sdf)
    with pytest.raises(ValueError, match="empty"):
        applier.apply(sdf.limit(0))


def test_slice_dataframe_filters_a_spark_dataframe_lazily(spark, sdf):  # noqa: F811
    rows = slice_dataframe(sdf, short_comment)
    assert rows.schema == sdf.schema
    expected = slice_dataframe(comments(), sf=short_comment)
    assert sorted(rows.toArrow().to_pandas().comment_id) == sorted(expected.comment_id)
