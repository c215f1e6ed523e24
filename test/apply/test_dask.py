import subprocess
import sys
import textwrap
import threading

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from slicing.apply.dask import DaskSFApplier, PandasParallelSFApplier
from slicing.apply.pandas import PandasSFApplier
from slicing.errors import SFApplicationError
from slicing.sf.core import slicing_function


@slicing_function()
def has_please(x):
    return "please" in x.text


def make_frame(rows: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    words = np.array(["please", "check", "song", "nice", "sub"])
    texts = [" ".join(rng.choice(words, size=3)) for _ in range(rows)]
    # A shuffled, non-unique index: row order must follow positions, not labels.
    index = rng.permutation(rows) % (rows // 2)
    return pd.DataFrame(
        {"text": texts, "score": rng.random(rows).round(2)}, index=index
    )


def expected(df: pd.DataFrame, sfs) -> np.ndarray:
    return PandasSFApplier(sfs).apply(df, progress_bar=False)


@pytest.mark.parametrize("npartitions", [1, 3, 7])
@pytest.mark.parametrize("scheduler", ["threads", "synchronous"])
def test_dask_matches_pandas_in_row_order(npartitions, scheduler, high_score):
    df = make_frame()
    ddf = dd.from_pandas(df, npartitions=npartitions, sort=False)
    S = DaskSFApplier([has_please, high_score]).apply(
        ddf, scheduler=scheduler, progress_bar=False
    )
    np.testing.assert_array_equal(S, expected(df, [has_please, high_score]))
    assert S.dtype == expected(df, [has_please, high_score]).dtype


def test_process_scheduler_matches_pandas(high_score):
    df = make_frame()
    ddf = dd.from_pandas(df, npartitions=4, sort=False)
    S = DaskSFApplier([has_please, high_score]).apply(
        ddf, scheduler="processes", progress_bar=False
    )
    np.testing.assert_array_equal(S, expected(df, [has_please, high_score]))


@pytest.fixture(scope="module")
def client():
    """One local cluster of two worker processes for the tests that need one."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def test_distributed_client_matches_pandas_and_counts_faults(client, fragile):
    df = make_frame()
    df.iloc[[3, 17], df.columns.get_loc("score")] = 0.5
    ddf = dd.from_pandas(df, npartitions=5, sort=False)
    S, meta = DaskSFApplier([has_please, fragile]).apply(
        ddf,
        scheduler=client,
        progress_bar=False,
        fault_tolerant=True,
        return_meta=True,
    )
    assert meta.faults == {"has_please": 0, "fragile": 2}
    assert not S["fragile"][[3, 17]].any()
    np.testing.assert_array_equal(
        S["has_please"], expected(df, [has_please])["has_please"]
    )
    with pytest.raises(
        SFApplicationError,
        match=r"'fragile' raised ZeroDivisionError on row \d+ of partition \d+ \(index label \d+\)",
    ):
        DaskSFApplier([fragile]).apply(ddf, scheduler=client, progress_bar=False)


def make_locked_sf():
    """An SF closing over a lock: it runs in threads but cannot be pickled."""
    lock = threading.Lock()

    @slicing_function()
    def locked_please(x):
        with lock:
            return "please" in x.text

    return locked_please


UNPICKLABLE = (
    r"SF 'locked_please' cannot be pickled \(TypeError: cannot pickle "
    r"'_thread.lock' object\), so it cannot be sent to the worker processes of "
    r"{where}; use scheduler=\"threads\""
)


def test_unpicklable_sf_is_named_before_anything_runs_on_processes():
    df = make_frame(12)
    ddf = dd.from_pandas(df, npartitions=2, sort=False)
    locked = make_locked_sf()
    where = "scheduler 'processes'"
    with pytest.raises(TypeError, match=UNPICKLABLE.format(where=where)) as info:
        DaskSFApplier([has_please, locked]).apply(ddf, progress_bar=False)
    assert isinstance(info.value.__cause__, TypeError)
    with pytest.raises(TypeError, match=UNPICKLABLE.format(where=where)):
        PandasParallelSFApplier([locked]).apply(df, progress_bar=False)
    for scheduler in ("threads", "synchronous"):
        S = DaskSFApplier([locked]).apply(ddf, scheduler, progress_bar=False)
        assert S["locked_please"].tolist() == df.text.str.contains("please").tolist()
        S = PandasParallelSFApplier([locked]).apply(
            df, 2, scheduler, progress_bar=False
        )
        assert S["locked_please"].tolist() == df.text.str.contains("please").tolist()


def test_unpicklable_sf_is_named_before_submitting_to_a_cluster(client):
    df = make_frame(12)
    ddf = dd.from_pandas(df, npartitions=2, sort=False)
    where = "a dask.distributed cluster"
    with pytest.raises(TypeError, match=UNPICKLABLE.format(where=where)):
        DaskSFApplier([make_locked_sf()]).apply(ddf, client, progress_bar=False)
    with pytest.raises(TypeError, match=UNPICKLABLE.format(where=where)):
        PandasParallelSFApplier([make_locked_sf()]).apply(
            df, scheduler=client, progress_bar=False
        )


def test_apply_keeps_snorkel_positional_order(fragile):
    """snorkel: ``DaskLFApplier.apply(df, scheduler, fault_tolerant)`` and
    ``PandasParallelLFApplier.apply(df, n_parallel, scheduler, fault_tolerant)``."""
    df = make_frame(20)
    df.iloc[[4, 11], df.columns.get_loc("score")] = 0.5
    ddf = dd.from_pandas(df, npartitions=3, sort=False)
    S = DaskSFApplier(lfs=[fragile]).apply(ddf, "threads", True)
    assert not S["fragile"][[4, 11]].any()
    S = PandasParallelSFApplier(lfs=[fragile]).apply(df, 2, "threads", True)
    assert not S["fragile"][[4, 11]].any()
    # Our own options are keyword-only: a fourth positional argument is an error,
    # not a silent change of meaning.
    with pytest.raises(TypeError, match="positional argument"):
        DaskSFApplier([fragile]).apply(ddf, "threads", True, False)
    with pytest.raises(TypeError, match="positional argument"):
        PandasParallelSFApplier([fragile]).apply(df, 2, "threads", True, False)


def test_parallel_applier_is_not_a_dask_applier():
    """The two share a base; the pandas one has no ``slice_columns`` for Dask frames."""
    assert not issubclass(PandasParallelSFApplier, DaskSFApplier)
    assert not hasattr(PandasParallelSFApplier, "slice_columns")


def test_sfs_never_run_on_placeholder_rows():
    seen = []
    lock = threading.Lock()

    @slicing_function()
    def strict_text(x):
        with lock:
            seen.append(x.text)
        if x.text == "foo":  # Dask's placeholder value for string columns
            raise AssertionError("ran on a placeholder row")
        return x.text.startswith("please")

    df = make_frame(12)
    ddf = dd.from_pandas(df, npartitions=3, sort=False)
    applier = DaskSFApplier([strict_text])
    S = applier.apply(ddf, scheduler="threads", progress_bar=False)
    lazy = applier.slice_columns(ddf)
    assert sorted(seen) == sorted(df.text.tolist())  # every real row once, nothing else
    assert lazy.dtypes.tolist() == [np.dtype(bool)]
    pd.testing.assert_frame_equal(
        lazy.compute(scheduler="threads"),
        pd.DataFrame({"strict_text": S["strict_text"]}, index=df.index),
    )


def test_fault_counts_are_reported_by_the_process_scheduler(fragile):
    df = make_frame()
    df.iloc[[1, 2, 30], df.columns.get_loc("score")] = 0.5
    ddf = dd.from_pandas(df, npartitions=3, sort=False)
    _, meta = DaskSFApplier([fragile]).apply(
        ddf,
        scheduler="processes",
        progress_bar=False,
        fault_tolerant=True,
        return_meta=True,
    )
    assert meta.faults == {"fragile": 3}


def test_empty_partitions_and_empty_frames():
    df = make_frame(6)
    ddf = dd.from_pandas(df, npartitions=3, sort=False)
    with_empty = ddf[ddf.score > 2.0]  # every partition empty
    with pytest.raises(ValueError, match="empty"):
        DaskSFApplier([has_please]).apply(
            with_empty, scheduler="threads", progress_bar=False
        )
    some_empty = ddf.map_partitions(
        lambda p: p.iloc[:0] if p.index[0] == df.index[0] else p
    )
    S = DaskSFApplier([has_please]).apply(
        some_empty, scheduler="threads", progress_bar=False
    )
    assert len(S) == len(some_empty.compute())


def test_rejects_pandas_input_and_bad_scheduler():
    with pytest.raises(TypeError, match="expected a Dask DataFrame"):
        DaskSFApplier([has_please]).apply(make_frame(), progress_bar=False)
    ddf = dd.from_pandas(make_frame(), npartitions=2)
    with pytest.raises(TypeError, match="scheduler must be"):
        DaskSFApplier([has_please]).apply(ddf, scheduler=42, progress_bar=False)


@pytest.mark.parametrize("n_parallel", [1, 2, 3])
def test_pandas_parallel_keeps_positional_order(n_parallel, high_score):
    df = make_frame(25)
    applier = PandasParallelSFApplier([has_please, high_score])
    S = applier.apply(
        df, n_parallel=n_parallel, scheduler="threads", progress_bar=False
    )
    np.testing.assert_array_equal(S, expected(df, [has_please, high_score]))


def test_pandas_parallel_errors_use_global_row_positions(fragile):
    df = make_frame(20)
    df.iloc[13, df.columns.get_loc("score")] = 0.5
    with pytest.raises(
        SFApplicationError, match=r"on row 13 of partition \d \(index label"
    ):
        PandasParallelSFApplier([fragile], n_parallel=2).apply(
            df, scheduler="threads", progress_bar=False
        )
    with pytest.raises(ValueError, match="positive int"):
        PandasParallelSFApplier([fragile], n_parallel=0)


def test_script_without_main_guard_runs_on_process_scheduler(tmp_path):
    script = tmp_path / "no_guard.py"
    script.write_text(
        textwrap.dedent(
            """
            import dask.dataframe as dd
            import pandas as pd
            from slicing import DaskSFApplier, PandasParallelSFApplier, slicing_function

            @slicing_function()
            def long_text(x):
                return len(x.text) > 3

            df = pd.DataFrame({"text": ["a", "abcd", "abcdef", "b"] * 5})
            S = DaskSFApplier([long_text]).apply(
                dd.from_pandas(df, npartitions=3), scheduler="processes", progress_bar=False
            )
            P = PandasParallelSFApplier([long_text]).apply(df, progress_bar=False)
            print(int(S["long_text"].sum()), int(P["long_text"].sum()))
            """
        )
    )
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["10", "10"]
