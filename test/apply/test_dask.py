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


@slicing_function(vectorized=True)
def high_score(df):
    return df.score > 0.5


@slicing_function()
def fragile(x):
    return 1 / (x.score - 0.5) > 0


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
def test_dask_matches_pandas_in_row_order(npartitions, scheduler):
    df = make_frame()
    ddf = dd.from_pandas(df, npartitions=npartitions, sort=False)
    S = DaskSFApplier([has_please, high_score]).apply(
        ddf, scheduler=scheduler, progress_bar=False
    )
    np.testing.assert_array_equal(S, expected(df, [has_please, high_score]))
    assert S.dtype == expected(df, [has_please, high_score]).dtype


def test_process_scheduler_matches_pandas():
    df = make_frame()
    ddf = dd.from_pandas(df, npartitions=4, sort=False)
    S = DaskSFApplier([has_please, high_score]).apply(
        ddf, scheduler="processes", progress_bar=False
    )
    np.testing.assert_array_equal(S, expected(df, [has_please, high_score]))


def test_distributed_client_matches_pandas_and_counts_faults():
    from distributed import Client, LocalCluster

    df = make_frame()
    df.iloc[[3, 17], df.columns.get_loc("score")] = 0.5
    ddf = dd.from_pandas(df, npartitions=5, sort=False)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
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


def test_fault_counts_are_reported_by_the_process_scheduler():
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
def test_pandas_parallel_keeps_positional_order(n_parallel):
    df = make_frame(25)
    applier = PandasParallelSFApplier([has_please, high_score])
    S = applier.apply(
        df, n_parallel=n_parallel, scheduler="threads", progress_bar=False
    )
    np.testing.assert_array_equal(S, expected(df, [has_please, high_score]))


def test_pandas_parallel_errors_use_global_row_positions():
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
