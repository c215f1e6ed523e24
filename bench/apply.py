"""Benchmark: applying SFs to a DataFrame, ours against snorkel.slicing, side by side.

Workload (from the foundation issue): N rows (1,000,000 by default) x 10 SFs, five
substring checks on a short-text column and five thresholds on a float column.
Contenders, all in this one process run:

- snorkel.slicing 0.10.0 ``PandasSFApplier`` (the baseline; ``df.apply(axis=1)``);
- a bare Python loop over ``df.itertuples()`` calling the same ten functions;
- our ``PandasSFApplier`` with the same per-row SFs;
- our ``PandasSFApplier`` with the SFs written vectorized;
- the same predicates as plain pandas column operations (a lower bound);
- our ``PandasSFApplier`` on SFs with a snorkel preprocessor (the slower path);
- our ``DaskSFApplier`` on per-row SFs with 1 and 2 worker processes
  (``distributed.LocalCluster``, partitions generated on the workers).

Prints a table with seconds, rows/s, peak memory growth and ratios, and writes the
``apply`` section of BENCHMARKS.md. Run: ``python bench/apply.py [--rows N]``.
"""

import argparse
import gc
import hashlib
import multiprocessing
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import PeakMemory, machine_line, markdown_table, write_section  # noqa: E402
from slicing.apply.pandas import PandasSFApplier  # noqa: E402
from slicing.matrix import slice_matrix_to_array  # noqa: E402
from slicing.sf.core import slicing_function  # noqa: E402

KEYWORDS = ["check", "please", "subscribe", "song", "http"]
THRESHOLDS = [0.1, 0.3, 0.5, 0.7, 0.9]
WORDS = np.array(
    "check out my channel please subscribe love this song so much http free views "
    "great video best music ever watch now".split()
)


def make_partition(partition: int, rows: int) -> pd.DataFrame:
    """Deterministic rows: a short text (3-8 words) and a uniform float."""
    rng = np.random.default_rng(partition)
    n_words = rng.integers(3, 9, size=rows)
    word_ids = rng.integers(0, len(WORDS), size=(rows, 8))
    texts = [" ".join(WORDS[ids[:k]]) for ids, k in zip(word_ids, n_words)]
    return pd.DataFrame({"text": texts, "score": rng.random(rows)})


def make_frame(rows: int, partitions: int) -> pd.DataFrame:
    sizes = np.diff(np.linspace(0, rows, partitions + 1).astype(int))
    frame = pd.concat([make_partition(p, int(n)) for p, n in enumerate(sizes)])
    return frame.reset_index(drop=True)


def plain_functions() -> list:
    """The ten predicates as plain functions of a row."""
    funcs = []
    for word in KEYWORDS:
        funcs.append(lambda x, word=word: word in x.text)
    for threshold in THRESHOLDS:
        funcs.append(lambda x, threshold=threshold: x.score > threshold)
    return funcs


def names() -> list:
    return [f"has_{w}" for w in KEYWORDS] + [f"score_gt_{t}" for t in THRESHOLDS]


def our_row_sfs() -> list:
    return [
        slicing_function(name=name)(func)
        for name, func in zip(names(), plain_functions())
    ]


def our_vectorized_sfs() -> list:
    sfs = []
    for word in KEYWORDS:
        sfs.append(
            slicing_function(name=f"has_{word}", vectorized=True)(
                lambda df, word=word: df.text.str.contains(word, regex=False)
            )
        )
    for threshold in THRESHOLDS:
        sfs.append(
            slicing_function(name=f"score_gt_{threshold}", vectorized=True)(
                lambda df, threshold=threshold: df.score > threshold
            )
        )
    return sfs


def our_preprocessed_sfs() -> list:
    from snorkel.preprocess import preprocessor

    @preprocessor(memoize=False)
    def add_lower(x):
        x.lower = x.text.lower()
        return x

    sfs = []
    for word in KEYWORDS:
        sfs.append(
            slicing_function(name=f"has_{word}", pre=[add_lower])(
                lambda x, word=word: word in x.lower
            )
        )
    for threshold in THRESHOLDS:
        sfs.append(
            slicing_function(name=f"score_gt_{threshold}", pre=[add_lower])(
                lambda x, threshold=threshold: x.score > threshold
            )
        )
    return sfs


def bare_loop(df: pd.DataFrame) -> np.ndarray:
    funcs = plain_functions()
    columns = [[] for _ in funcs]
    for x in df.itertuples():
        for f, column in zip(funcs, columns):
            column.append(f(x))
    return np.array(columns).T


def vectorized_pandas(df: pd.DataFrame) -> np.ndarray:
    columns = [df.text.str.contains(w, regex=False).to_numpy() for w in KEYWORDS]
    columns += [(df.score > t).to_numpy() for t in THRESHOLDS]
    return np.column_stack(columns)


def snorkel_sfs() -> list:
    from snorkel.slicing import slicing_function as snorkel_slicing_function

    return [
        snorkel_slicing_function(name=name)(func)
        for name, func in zip(names(), plain_functions())
    ]


def as_matrix(S: np.ndarray) -> np.ndarray:
    return slice_matrix_to_array(S).astype(bool)


def _measure_in_child(run, connection) -> None:
    gc.collect()
    with PeakMemory() as memory:
        started = time.perf_counter()
        output = run()
        seconds = time.perf_counter() - started
    digest = hashlib.sha1(
        np.ascontiguousarray(output, dtype=bool).tobytes()
    ).hexdigest()
    connection.send(dict(seconds=seconds, memory=memory.growth, digest=digest))
    connection.close()


def measure(label: str, run, results: dict) -> str:
    """Run one contender in a forked child: its own clean heap for peak memory.

    Returns a digest of the (n, 10) bool output, to check contenders agree.
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_measure_in_child, args=(run, sender))
    child.start()
    result = receiver.recv()
    child.join()
    results[label] = result
    print(
        f"  {label}: {result['seconds']:.2f} s, peak memory +{result['memory'] / 2**20:.0f} MB",
        flush=True,
    )
    return result["digest"]


def dask_times(rows: int, partitions: int, worker_counts: list) -> dict:
    """Seconds for our DaskSFApplier on per-row SFs with N worker processes."""
    import dask.dataframe as dd
    from distributed import Client, LocalCluster, wait

    from slicing.apply.dask import DaskSFApplier

    sizes = [int(n) for n in np.diff(np.linspace(0, rows, partitions + 1).astype(int))]
    meta = make_partition(0, 2).iloc[:0]
    times = {}
    for workers in worker_counts:
        with (
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            ) as cluster,
            Client(cluster) as client,
        ):
            ddf = dd.from_map(make_partition, range(partitions), sizes, meta=meta)
            # Load the data on the workers first: time slicing, not data generation.
            ddf = client.persist(ddf)
            wait(ddf)
            applier = DaskSFApplier(our_row_sfs())
            applier.apply(
                ddf.head(100, compute=False), scheduler=client, progress_bar=False
            )
            started = time.perf_counter()
            S = applier.apply(ddf, scheduler=client, progress_bar=False)
            times[workers] = time.perf_counter() - started
            assert len(S) == rows
            print(
                f"  dask, {workers} worker process(es): {times[workers]:.2f} s",
                flush=True,
            )
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=16)
    parser.add_argument("--skip-snorkel", action="store_true")
    parser.add_argument(
        "--no-write", action="store_true", help="do not touch BENCHMARKS.md"
    )
    args = parser.parse_args()

    print(f"building {args.rows:,} rows x 10 SFs ...", flush=True)
    df = make_frame(args.rows, args.partitions)
    results: dict = {}
    reference = measure("bare itertuples loop", lambda: bare_loop(df), results)
    ours_row = measure(
        "ours, per-row SFs",
        lambda: as_matrix(PandasSFApplier(our_row_sfs()).apply(df, progress_bar=False)),
        results,
    )
    S_ours = PandasSFApplier(our_row_sfs()).apply(df.head(10), progress_bar=False)
    ours_vec = measure(
        "ours, vectorized SFs",
        lambda: as_matrix(
            PandasSFApplier(our_vectorized_sfs()).apply(df, progress_bar=False)
        ),
        results,
    )
    lower = measure("pandas column ops", lambda: vectorized_pandas(df), results)
    ours_pre = measure(
        "ours, SFs with a preprocessor",
        lambda: as_matrix(
            PandasSFApplier(our_preprocessed_sfs()).apply(df, progress_bar=False)
        ),
        results,
    )
    for name, output in [
        ("per-row", ours_row),
        ("vectorized", ours_vec),
        ("preprocessed", ours_pre),
        ("column ops", lower),
    ]:
        assert output == reference, f"{name} disagrees with the bare loop"
    snorkel_S = None
    if not args.skip_snorkel:
        from snorkel.slicing import PandasSFApplier as SnorkelPandasSFApplier

        def run_snorkel():
            S = SnorkelPandasSFApplier(snorkel_sfs()).apply(df, progress_bar=False)
            return np.column_stack([S[name] for name in names()])

        snorkel_digest = measure(
            "snorkel.slicing PandasSFApplier", run_snorkel, results
        )
        assert snorkel_digest == reference, "snorkel disagrees with the bare loop"
        snorkel_S = SnorkelPandasSFApplier(snorkel_sfs()).apply(
            df.head(10), progress_bar=False
        )
    dask_seconds = dask_times(args.rows, args.partitions, [1, 2])

    baseline = results.get("snorkel.slicing PandasSFApplier", {}).get("seconds")
    loop_seconds = results["bare itertuples loop"]["seconds"]
    rows = []
    for label, result in results.items():
        seconds = result["seconds"]
        rows.append(
            [
                label,
                f"{seconds:.2f}",
                f"{args.rows / seconds:,.0f}",
                f"{result['memory'] / 2**20:.0f}",
                f"{baseline / seconds:.1f}x" if baseline else "n/a",
                f"{seconds / loop_seconds:.2f}",
            ]
        )
    table = markdown_table(
        [
            "contender",
            "seconds",
            "rows/s",
            "peak memory growth (MB)",
            "speed-up vs snorkel",
            "time / bare loop",
        ],
        rows,
    )
    speedup = dask_seconds[1] / dask_seconds[2]
    dask_table = markdown_table(
        ["DaskSFApplier, per-row SFs", "seconds", "rows/s"],
        [
            [f"{w} worker process(es)", f"{s:.2f}", f"{args.rows / s:,.0f}"]
            for w, s in dask_seconds.items()
        ],
    )
    s_bytes = S_ours.itemsize
    snorkel_bytes = snorkel_S.itemsize if snorkel_S is not None else 80
    targets = [
        [
            "per-row: >= 10x snorkel",
            f"{baseline / results['ours, per-row SFs']['seconds']:.1f}x"
            if baseline
            else "n/a",
        ],
        [
            "per-row: <= 1.3x bare loop",
            f"{results['ours, per-row SFs']['seconds'] / loop_seconds:.2f}x",
        ],
        [
            "vectorized: >= 80x snorkel",
            f"{baseline / results['ours, vectorized SFs']['seconds']:.0f}x"
            if baseline
            else "n/a",
        ],
        [
            "peak memory growth <= 300 MB (per-row / vectorized)",
            f"{results['ours, per-row SFs']['memory'] / 2**20:.0f} / {results['ours, vectorized SFs']['memory'] / 2**20:.0f} MB",
        ],
        ["Dask 2 workers >= 1.6x 1 worker", f"{speedup:.2f}x"],
        ["slice matrix bytes per row (ours / snorkel)", f"{s_bytes} / {snorkel_bytes}"],
    ]
    target_table = markdown_table(["target", "measured"], targets)
    body = (
        f"## Applying SFs: {args.rows:,} rows x 10 SFs\n\n{machine_line()} "
        "Five substring SFs on a 3-8 word text column, five threshold SFs on a float "
        "column; every contender's output is checked equal to the bare loop's.\n\n"
        f"{table}\n\n{dask_table}\n\n{target_table}\n\n"
        "Reproduce: `python bench/apply.py` (add `--rows 100000` for a quick run)."
    )
    print("\n" + table + "\n\n" + dask_table + "\n\n" + target_table)
    if not args.no_write:
        write_section("apply", body)


if __name__ == "__main__":
    main()
