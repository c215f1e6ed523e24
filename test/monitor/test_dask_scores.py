import warnings

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slicing import _dask
from slicing.matrix import make_slice_matrix
from slicing.monitor.counts import confusion_counts
from slicing.monitor.dask_scores import dask_slice_scores
from slicing.monitor.options import ScoreOptions
from slicing.monitor.scores import slice_scores
from slicing.monitor.table import table_from_counts

SLICES = ["common", "hard", "tiny", "empty"]


def _prediction_log(n_rows=3000, n_classes=2, seed=0):
    rng = np.random.default_rng(seed)
    golds = rng.integers(0, n_classes, n_rows)
    preds = np.where(
        rng.random(n_rows) < 0.8, golds, rng.integers(0, n_classes, n_rows)
    )
    log = pd.DataFrame({"gold": golds, "pred": preds})
    membership = rng.random((n_rows, 4)) < [0.4, 0.2, 0.005, 0.0]
    for column, name in enumerate(SLICES):
        log[name] = membership[:, column]
    log["comment_id"] = np.arange(n_rows)  # an unrelated column
    return log


def _pandas_path(log, **kwargs):
    return slice_scores(
        log["gold"].to_numpy(), log[SLICES], preds=log["pred"].to_numpy(), **kwargs
    )


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_dask_table_equals_the_pandas_table(scheduler):
    log = _prediction_log()
    metrics = ["accuracy", "precision", "recall", "f1", "matthews_corrcoef"]
    with dask.config.set(scheduler=scheduler):
        table = dask_slice_scores(
            dd.from_pandas(log, npartitions=7),
            "gold",
            "pred",
            metrics=metrics,
            split_every=3,
        )
    pd.testing.assert_frame_equal(table, _pandas_path(log, metrics=metrics))
    assert table.at["overall", "n"] == len(log)
    assert table.at["empty", "status"] == "empty"


def test_multiclass_with_nan_predictions_and_classes_missing_from_some_partitions():
    log = _prediction_log(n_rows=2000, n_classes=3, seed=1)
    log = log.sort_values("gold", kind="stable").reset_index(
        drop=True
    )  # partitions see few classes
    log["pred"] = log["pred"].astype(float)
    log.loc[[5, 700, 1999], "pred"] = np.nan
    metrics = ["accuracy", "f1_macro", "matthews_corrcoef"]
    with dask.config.set(scheduler="sync"):
        with pytest.warns(
            UserWarning, match="3 rows without a gold label or prediction"
        ):
            table = dask_slice_scores(
                dd.from_pandas(log, npartitions=5),
                "gold",
                "pred",
                slice_columns=SLICES,
                metrics=metrics,
            )
    with pytest.warns(UserWarning, match="3 without a prediction"):
        expected = _pandas_path(log, metrics=metrics)
    pd.testing.assert_frame_equal(table, expected)


def test_nullable_integer_predictions_with_missing_values():
    log = _prediction_log(n_rows=600, seed=4)
    log["pred"] = log["pred"].astype("Int64")
    log.loc[[10, 400], "pred"] = pd.NA
    with dask.config.set(scheduler="sync"):
        with pytest.warns(
            UserWarning, match="2 rows without a gold label or prediction"
        ):
            table = dask_slice_scores(
                dd.from_pandas(log, npartitions=3), "gold", "pred"
            )
    as_float = log.assign(pred=log["pred"].astype("float64"))
    with pytest.warns(UserWarning, match="2 without a prediction"):
        pd.testing.assert_frame_equal(table, _pandas_path(as_float))


def test_probability_columns_replace_the_prediction_column():
    log = _prediction_log(n_rows=1000, seed=2)
    positive = np.where(log["pred"] == 1, 0.8, 0.3)
    log["p0"], log["p1"] = 1 - positive, positive
    with dask.config.set(scheduler="sync"):
        table = dask_slice_scores(
            dd.from_pandas(log.drop(columns="pred"), npartitions=3),
            "gold",
            prob_columns=["p0", "p1"],
            slice_columns=SLICES,
        )
    pd.testing.assert_frame_equal(table, _pandas_path(log))


def test_slice_columns_default_to_every_bool_column():
    log = _prediction_log(n_rows=500)
    with dask.config.set(scheduler="sync"):
        table = dask_slice_scores(
            dd.from_pandas(log, npartitions=2), "gold", "pred", sort=False
        )
    assert table.index.tolist() == ["overall", *SLICES]


def test_errors_name_columns_and_unsupported_metrics():
    log = _prediction_log(n_rows=100)
    ddf = dd.from_pandas(log, npartitions=2)
    with pytest.raises(
        ValueError, match=r"metrics \['roc_auc'\] need the rows, but dask_slice_scores"
    ):
        dask_slice_scores(ddf, "gold", "pred", metrics=["accuracy", "roc_auc"])
    with pytest.raises(
        KeyError, match=r"columns \['label'\] are not in the Dask DataFrame"
    ):
        dask_slice_scores(ddf, "label", "pred")
    with pytest.raises(KeyError, match=r"slice columns \['short'\] are not in"):
        dask_slice_scores(ddf, "gold", "pred", slice_columns=["short"])
    with pytest.raises(
        ValueError,
        match=r"slice columns must be bool; got dtypes \{'comment_id': 'int64'\}",
    ):
        dask_slice_scores(ddf, "gold", "pred", slice_columns=["common", "comment_id"])
    with pytest.raises(ValueError, match="got neither"):
        dask_slice_scores(ddf, "gold")
    with pytest.raises(ValueError, match="found no bool slice columns"):
        dask_slice_scores(ddf[["gold", "pred"]], "gold", "pred")
    with pytest.raises(TypeError, match="unknown option 'cii'"):
        dask_slice_scores(ddf, "gold", "pred", cii=0.9)


@pytest.mark.parametrize("name", ["overall", "base", "a/b"])
def test_slice_column_names_follow_the_package_rules_before_any_compute(
    name, monkeypatch
):
    log = _prediction_log(n_rows=50).rename(columns={"hard": name})
    ddf = dd.from_pandas(log, npartitions=2)
    monkeypatch.setattr(_dask.dask, "compute", None)  # any compute would fail
    with pytest.raises(ValueError, match=f"slice column name '{name}'"):
        dask_slice_scores(ddf, "gold", "pred")
    with pytest.raises(ValueError, match=f"slice column name '{name}'"):
        dask_slice_scores(ddf, "gold", "pred", slice_columns=["common", name])


def test_scheduler_keyword_and_options_object():
    log = _prediction_log(n_rows=800)
    options = ScoreOptions(metrics=["accuracy", "f1"], min_support=5, seed=3)
    expected = _pandas_path(log, options=options)
    ddf = dd.from_pandas(log, npartitions=3)
    for scheduler in ("synchronous", "threads"):
        table = dask_slice_scores(
            ddf, "gold", "pred", scheduler=scheduler, options=options
        )
        pd.testing.assert_frame_equal(table, expected)
    with pytest.raises(TypeError, match="scheduler must be 'threads'"):
        dask_slice_scores(ddf, "gold", "pred", scheduler=2)


def test_both_paths_end_in_the_same_kernel_on_the_same_counts(monkeypatch):
    """The Dask path sums partition counts and calls table_from_counts, as slice_scores
    does: the counts handed to the kernel are identical, and so are the tables."""
    log = _prediction_log(n_rows=1500, n_classes=3, seed=5)
    options = ScoreOptions(metrics=["accuracy", "f1_macro"], n_resamples=100)
    seen = []

    def recording_kernel(counts, slice_names, options, row_estimates=None):
        seen.append(counts)
        return table_from_counts(counts, slice_names, options, row_estimates)

    from slicing.monitor import dask_scores, scores

    monkeypatch.setattr(dask_scores, "table_from_counts", recording_kernel)
    monkeypatch.setattr(scores, "table_from_counts", recording_kernel)
    from_dask = dask_slice_scores(
        dd.from_pandas(log, npartitions=6),
        "gold",
        "pred",
        slice_columns=SLICES,
        scheduler="synchronous",
        options=options,
    )
    from_memory = _pandas_path(log, options=options)
    dask_counts, memory_counts = seen
    np.testing.assert_array_equal(dask_counts, memory_counts)
    indicators = log[SLICES].to_numpy()
    np.testing.assert_array_equal(
        memory_counts,
        confusion_counts(indicators, log["gold"].to_numpy(), log["pred"].to_numpy(), 3),
    )
    pd.testing.assert_frame_equal(from_dask, from_memory)
    S = make_slice_matrix(indicators, SLICES)
    pd.testing.assert_frame_equal(
        from_dask, slice_scores(log["gold"], S, log["pred"], options=options)
    )


def test_nan_policy_raise_names_the_partition():
    log = _prediction_log(n_rows=100)
    log["pred"] = log["pred"].astype(float)
    log.loc[60, "pred"] = np.nan
    with dask.config.set(scheduler="sync"):
        with pytest.raises(ValueError, match="in partition 1: 1 without a prediction"):
            dask_slice_scores(
                dd.from_pandas(log, npartitions=2), "gold", "pred", nan_policy="raise"
            )


def test_runs_on_a_distributed_cluster():
    distributed = pytest.importorskip("distributed")
    log = _prediction_log(n_rows=1000)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        with distributed.Client(cluster):
            table = dask_slice_scores(
                dd.from_pandas(log, npartitions=4),
                "gold",
                "pred",
                metrics=["accuracy", "f1"],
            )
    pd.testing.assert_frame_equal(table, _pandas_path(log, metrics=["accuracy", "f1"]))


def test_only_counts_reach_the_client(monkeypatch):
    computed = []
    real_compute = dask.compute

    def recording_compute(*args, **kwargs):
        results = real_compute(*args, **kwargs)
        computed.extend(results)
        return results

    monkeypatch.setattr(_dask.dask, "compute", recording_compute)
    log = _prediction_log(n_rows=2000)
    with dask.config.set(scheduler="sync"):
        dask_slice_scores(dd.from_pandas(log, npartitions=4), "gold", "pred")
    ((counts, n_left_out),) = computed
    assert counts.shape == (1 + len(SLICES), 2, 2) and n_left_out == 0
    assert counts[0].sum() == len(log)


@settings(max_examples=15, deadline=None)
@given(
    n_rows=st.integers(1, 120),
    npartitions=st.integers(1, 6),
    n_classes=st.integers(2, 3),
    missing_share=st.sampled_from([0.0, 0.1]),
    seed=st.integers(0, 2**16),
)
def test_dask_equals_pandas_on_random_logs(
    n_rows, npartitions, n_classes, missing_share, seed
):
    log = _prediction_log(n_rows=n_rows, n_classes=n_classes, seed=seed)
    rng = np.random.default_rng(seed)
    log["pred"] = log["pred"].astype(float).mask(rng.random(n_rows) < missing_share)
    metrics = ["accuracy", "f1_macro", "matthews_corrcoef"]
    with dask.config.set(scheduler="sync"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ddf = dd.from_pandas(log, npartitions=min(npartitions, n_rows))
        table = dask_slice_scores(
            ddf,
            "gold",
            "pred",
            slice_columns=SLICES,
            metrics=metrics,
            n_resamples=50,
            min_support=5,
        )
        expected = _pandas_path(log, metrics=metrics, n_resamples=50, min_support=5)
    pd.testing.assert_frame_equal(table, expected)
