"""spark_slice_scores: the table of slice_scores / dask_slice_scores, from Spark counts."""

import warnings

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from slicing.monitor.dask_scores import dask_slice_scores
from slicing.monitor.scores import slice_scores
from test.monitor.test_dask_scores import SLICES, _prediction_log
from test.spark_conftest import spark  # noqa: F401 - the session fixture

# PySpark warns about pandas >= 3 when it converts data itself; these tests pass
# Arrow tables, and the package converts Arrow batches with pyarrow.
pytestmark = pytest.mark.filterwarnings(
    "ignore:PySpark does not yet fully support pandas:FutureWarning"
)


def _to_spark(session, log, partitions=3):
    return session.createDataFrame(
        pa.Table.from_pandas(log, preserve_index=False)
    ).repartition(partitions)


def test_spark_table_equals_the_pandas_and_dask_tables(spark):  # noqa: F811
    from slicing.monitor.spark_scores import spark_slice_scores

    log = _prediction_log()
    metrics = ["accuracy", "precision", "recall", "f1", "matthews_corrcoef"]
    table = spark_slice_scores(_to_spark(spark, log), "gold", "pred", metrics=metrics)
    expected = slice_scores(
        log["gold"].to_numpy(),
        log[SLICES],
        preds=log["pred"].to_numpy(),
        metrics=metrics,
    )
    pd.testing.assert_frame_equal(table, expected)
    pd.testing.assert_frame_equal(
        table,
        dask_slice_scores(
            dd.from_pandas(log, npartitions=4),
            "gold",
            "pred",
            metrics=metrics,
            scheduler="synchronous",
        ),
    )
    assert table.at["overall", "n"] == len(log)
    assert table.at["empty", "status"] == "empty"


def test_multiclass_probs_with_nan_and_abstain_rows_left_out(spark):  # noqa: F811
    from slicing.monitor.spark_scores import spark_slice_scores

    log = _prediction_log(n_rows=2000, n_classes=3, seed=1)
    rng = np.random.default_rng(2)
    probs = rng.dirichlet(np.ones(3), len(log))
    probs[5] = np.nan  # no prediction
    probs[7] = [0.4, 0.4, 0.2]  # a tie: the first class wins, as numpy's argmax
    log[["p0", "p1", "p2"]] = probs
    log.loc[[3, 11], "gold"] = -1  # unlabelled
    options = dict(metrics=["f1_macro", "accuracy"], ci=0.9, min_support=10)
    with pytest.warns(UserWarning, match="3 rows without a gold label or prediction"):
        table = spark_slice_scores(
            _to_spark(spark, log),
            "gold",
            prob_columns=["p0", "p1", "p2"],
            slice_columns=["common", "hard"],
            **options,
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = slice_scores(
            log["gold"].to_numpy(), log[["common", "hard"]], probs=probs, **options
        )
    pd.testing.assert_frame_equal(table, expected)


def test_bad_inputs_are_named(spark):  # noqa: F811
    from slicing.monitor.spark_scores import spark_slice_scores

    log = _prediction_log(n_rows=50).assign(
        label=lambda frame: frame.gold.astype(str), gold_float=0.5
    )
    log.loc[0, "pred"] = -1  # abstain
    sdf = _to_spark(spark, log, partitions=1)
    # Refused before any job: options, columns, types.
    with pytest.raises(ValueError, match=r"metrics \['roc_auc'\] need the rows"):
        spark_slice_scores(sdf, "gold", "pred", metrics=["roc_auc"])
    with pytest.raises(KeyError, match=r"columns \['nope'\] are not in the Spark"):
        spark_slice_scores(sdf, "nope", "pred")
    with pytest.raises(ValueError, match="column 'label' must hold integer class"):
        spark_slice_scores(sdf, "label", "pred")
    with pytest.raises(ValueError, match="slice columns must be boolean"):
        spark_slice_scores(sdf, "gold", "pred", slice_columns=["comment_id"])
    with pytest.raises(ValueError, match="pass pred_column, prob_columns or both"):
        spark_slice_scores(sdf, "gold")
    with pytest.raises(TypeError, match="expected a Spark DataFrame"):
        spark_slice_scores(log, "gold", "pred")
    # Found in the one pass: non-integer labels, left-out rows under "raise", nulls.
    with pytest.raises(ValueError, match=r"column 'gold_float' holds 0.5 \(50 such"):
        spark_slice_scores(sdf, "gold_float", "pred", slice_columns=["common"])
    with pytest.raises(ValueError, match="1 of 50 rows cannot be scored"):
        spark_slice_scores(
            sdf, "gold", "pred", slice_columns=["common"], nan_policy="raise"
        )
    with_null = sdf.selectExpr("gold", "pred", "IF(gold = 1, NULL, common) AS common")
    with pytest.raises(ValueError, match="slice column 'common' holds .* nulls"):
        spark_slice_scores(with_null, "gold", "pred")
