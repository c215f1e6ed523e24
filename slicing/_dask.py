"""The package's Dask plumbing, in one place: schedulers, ordered compute, tree sums.

Every Dask path of the package (appliers, batch jobs, per-slice scores, slice search)
computes through these helpers, so a scheduler given as a name (``"threads"``,
``"processes"``, ``"synchronous"``), as ``None`` (Dask's default) or as a
``dask.distributed.Client`` means the same thing everywhere. Like
``dask.base.get_scheduler``, this is the one place that tells them apart.
"""

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeAlias

import dask
from tqdm.auto import tqdm

__all__ = [
    "LOCAL_SCHEDULERS",
    "Scheduler",
    "compute",
    "compute_in_order",
    "is_client",
    "persist",
    "tree_reduce",
]

#: A scheduler name, ``None`` for Dask's default, or a ``dask.distributed.Client``.
Scheduler: TypeAlias = str | Any

#: Scheduler names that run in this process (no cluster to start or connect to).
LOCAL_SCHEDULERS = ("threads", "processes", "synchronous", "sync", "single-threaded")


def is_client(scheduler: Any) -> bool:
    """Whether ``scheduler`` is a ``distributed.Client`` (duck-typed: no import)."""
    return hasattr(scheduler, "compute") and hasattr(scheduler, "gather")


def _check_scheduler(scheduler: Any) -> None:
    if scheduler is not None and not isinstance(scheduler, str):
        raise TypeError(
            "scheduler must be 'threads', 'processes', 'synchronous' or a "
            f"dask.distributed.Client; got {type(scheduler).__name__}"
        )


@contextmanager
def _local_options(
    scheduler: str | None, num_workers: int | None
) -> Iterator[dict[str, Any]]:
    """``dask.compute`` options; forks process workers on Linux (no main guard needed)."""
    options: dict[str, Any] = {} if scheduler is None else {"scheduler": scheduler}
    if num_workers is not None:
        options["num_workers"] = num_workers
    config = {}
    if (
        scheduler == "processes"
        and dask.config.get("multiprocessing.context", None) is None
    ):
        config["multiprocessing.context"] = (
            "fork" if sys.platform == "linux" else "spawn"
        )
    with dask.config.set(config):
        yield options


def compute(
    tasks: Sequence[Any], scheduler: Scheduler = None, num_workers: int | None = None
) -> list[Any]:
    """Compute Dask collections or delayed objects together; results in input order.

    Examples
    --------
    >>> import dask
    >>> compute([dask.delayed(len)("abc"), dask.delayed(sum)([1, 2])], "synchronous")
    [3, 3]
    """
    if is_client(scheduler):
        return list(scheduler.gather(scheduler.compute(list(tasks))))
    _check_scheduler(scheduler)
    with _local_options(scheduler, num_workers) as options:
        return list(dask.compute(*tasks, **options))


def persist(tasks: Sequence[Any], scheduler: Scheduler = None) -> list[Any]:
    """Persist delayed objects (kept in the workers' memory on a cluster)."""
    if is_client(scheduler):
        return list(scheduler.persist(list(tasks)))
    _check_scheduler(scheduler)
    with _local_options(scheduler, None) as options:
        return list(dask.persist(*tasks, **options))


def compute_in_order(
    tasks: list[Any],
    scheduler: Scheduler,
    progress_bar: bool,
    num_workers: int | None = None,
) -> list[Any]:
    """Compute delayed blocks in order, with a progress bar over partitions or tasks."""
    if is_client(scheduler):
        from distributed import as_completed

        futures = scheduler.compute(tasks)
        order = {future.key: position for position, future in enumerate(futures)}
        blocks: list[Any] = [None] * len(futures)
        with tqdm(
            total=len(futures), unit="partitions", disable=not progress_bar
        ) as bar:
            for future in as_completed(futures):
                blocks[order[future.key]] = future.result()
                bar.update(1)
        return blocks
    if scheduler is None:
        raise TypeError(
            "scheduler must be 'threads', 'processes', 'synchronous' or a "
            "dask.distributed.Client; got None"
        )
    _check_scheduler(scheduler)
    with _local_options(scheduler, num_workers) as options:
        if progress_bar:
            from tqdm.dask import TqdmCallback

            with TqdmCallback(desc="slicing", unit="tasks"):
                return list(dask.compute(*tasks, **options))
        return list(dask.compute(*tasks, **options))


def tree_reduce(
    parts: Sequence[Any], combine: Callable[[list[Any]], Any], split_every: int = 8
) -> Any:
    """Delayed tree reduction: ``combine`` groups of ``split_every`` until one is left.

    ``combine`` takes a list of partial results and returns one; the depth is
    ``log(len(parts)) / log(split_every)``, so no single task gathers every partition.

    Examples
    --------
    >>> import dask
    >>> parts = [dask.delayed(n) for n in range(10)]
    >>> tree_reduce(parts, sum, split_every=3).compute()
    45
    """
    if split_every < 2:
        raise ValueError(f"split_every must be at least 2; got {split_every}")
    parts = list(parts)
    if not parts:
        raise ValueError("nothing to reduce: the Dask collection has no partitions")
    reducer = dask.delayed(combine, pure=True)
    while len(parts) > 1:
        parts = [
            reducer(parts[start : start + split_every])
            for start in range(0, len(parts), split_every)
        ]
    return parts[0]
