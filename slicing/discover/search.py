"""``find_slices``: the slices where a model errs most, as SF-ready conjunctions.

SliceLine-style search (Sagadeeva and Boehm, SIGMOD 2021) over conjunctions of up
to ``max_level`` predicates on tabular columns (see :mod:`slicing.discover.lattice`
for the pruning), on a pandas DataFrame in memory or on a Dask DataFrame with one
pass over the data per level.
"""

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from slicing.discover.lattice import LatticeParams
from slicing.discover.predicates import PredicateSpace, build_predicate_space
from slicing.discover.result import DiscoveryResult
from slicing.discover.search_data import PandasSearchData, SearchData

__all__ = ["find_slices"]


def find_slices(
    data: Any,
    errors: str | np.ndarray | pd.Series | Sequence[float],
    *,
    space: PredicateSpace | None = None,
    columns: Sequence[str] | None = None,
    text_columns: Sequence[str] = (),
    n_bins: int = 5,
    min_support: int | float = 0.01,
    max_level: int = 3,
    top_k: int = 10,
    error_weight: float = 0.98,
    drop_redundant: bool = True,
    confidence: float = 0.95,
    progress_bar: bool = True,
    scheduler: Any = None,
    sample_rows: int = 100_000,
) -> DiscoveryResult:
    """Find the ``top_k`` conjunctions of predicates where errors concentrate.

    Slices are ranked by SliceLine's score
    ``alpha * (slice_error / mean_error - 1) - (1 - alpha) * (n / size - 1)``
    (``alpha = error_weight``); only slices with a positive score, at least
    ``min_support`` rows and a predicate on each feature at most once are returned.
    The result equals an exhaustive enumeration of all such conjunctions (in rank
    order, skipping redundant ones if ``drop_redundant``).

    Parameters
    ----------
    data
        A pandas or Dask DataFrame.
    errors
        Per-row error (0/1) or loss (any non-negative number): the name of a column
        of ``data`` (required for Dask; the column is not used as a feature) or an
        array of length ``len(data)``.
    space
        Predicates to combine; built from ``data`` by
        :func:`~slicing.discover.predicates.build_predicate_space` with ``columns``,
        ``text_columns``, ``n_bins`` and ``min_count=min_support`` if ``None``.
    columns, text_columns, n_bins
        Passed to ``build_predicate_space`` when ``space`` is ``None``.
    min_support
        Fewest rows in a slice: a count, or a fraction of the rows if below 1.
    max_level
        Most predicates in a conjunction.
    top_k
        Number of slices returned.
    error_weight
        ``alpha`` in (0, 1]: 1 ranks by error alone, lower values favour larger
        slices. A slice of share ``s`` needs an error above
        ``1 + (1 - alpha) / alpha * (1 / s - 1)`` times the mean to score positive:
        with the default 0.98, about 3 times for 1% of the rows, 2 times for 2%.
    drop_redundant
        Leave out a slice when a more general one (a subset of its predicates)
        ranks above it, so that the top k are not variations of one slice.
        ``False`` gives SliceLine's ranking exactly.
    confidence
        Level of the error intervals of the statistics rows.
    progress_bar
        Show a tqdm bar counting the evaluated feature combinations.
    scheduler
        Dask only: a scheduler name (``"threads"``, ``"processes"``,
        ``"synchronous"``) or a ``distributed.Client``; Dask's default if ``None``.
    sample_rows
        Dask only: rows sampled to build the predicates (bins and values) when
        ``space`` is ``None``; statistics are always computed on all rows.

    Returns
    -------
    DiscoveryResult
        Slices best first; ``.table()`` gives their statistics, ``.to_sfs()``
        vectorized SFs.

    Raises
    ------
    TypeError
        If ``data`` is not a pandas or Dask DataFrame.
    ValueError
        On errors of the wrong length or with negative or missing values, or
        parameters out of range.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"video": rng.integers(1, 6, 2000),
    ...                    "n_words": rng.integers(1, 40, 2000)})
    >>> hard = (df.video == 5) & (df.n_words < 8)
    >>> errors = rng.random(2000) < np.where(hard, 0.6, 0.05)
    >>> result = find_slices(df, errors, top_k=3, progress_bar=False)
    >>> result[0].name
    'video=5 & n_words<8'
    >>> result.table()[["size", "error", "error_lift"]].round(2).iloc[0].tolist()
    [89.0, 0.65, 8.3]
    >>> sf = result[0].to_sf()
    >>> int(sf.apply_to_frame(df).sum())
    89
    """
    is_dask = type(data).__module__.split(".")[0] == "dask"
    if not is_dask and not isinstance(data, pd.DataFrame):
        raise TypeError(
            f"expected a pandas or Dask DataFrame; got {type(data).__name__}"
        )
    _check_parameters(max_level, top_k, error_weight, confidence)
    if is_dask:
        from slicing.discover.dask_search import DaskSearchData

        prepared: SearchData = DaskSearchData(data, errors, scheduler, sample_rows)
    else:
        prepared = PandasSearchData(data, errors)
    support = _support_count(min_support, prepared.n_rows)
    if space is None:
        feature_columns = columns
        if feature_columns is None and isinstance(errors, str):
            feature_columns = [
                c for c in prepared.columns if c != errors and c not in text_columns
            ]
        space = build_predicate_space(
            prepared.predicate_frame(),
            columns=feature_columns,
            text_columns=text_columns,
            n_bins=n_bins,
            # Sampled rows hold fewer of each value; halve the bar to keep rare ones.
            min_count=max(1, int(support * prepared.sample_share() / 2)),
        )
    if len(space.predicates) ** max_level >= 2**62:
        raise ValueError(
            f"max_level={max_level} is too deep for {len(space.predicates)} "
            "predicates; lower max_level or build a smaller PredicateSpace"
        )
    params = LatticeParams(
        prepared.n_rows,
        prepared.mean_error,
        support,
        max_level,
        top_k,
        error_weight,
        drop_redundant,
    )
    return prepared.search(space, params, confidence, progress_bar)


def _check_parameters(
    max_level: int, top_k: int, error_weight: float, confidence: float
) -> None:
    for name, value in [("max_level", max_level), ("top_k", top_k)]:
        if not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{name} must be a positive int; got {value!r}")
    if not 0 < error_weight <= 1:
        raise ValueError(f"error_weight must be in (0, 1]; got {error_weight!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1); got {confidence!r}")


def _support_count(min_support: int | float, n_rows: int) -> int:
    if isinstance(min_support, bool) or not isinstance(
        min_support, int | float | np.integer | np.floating
    ):
        raise TypeError(
            f"min_support must be a count or a fraction; got {type(min_support).__name__}"
        )
    if min_support <= 0:
        raise ValueError(f"min_support must be positive; got {min_support!r}")
    if min_support < 1:
        return max(1, math.ceil(min_support * n_rows))
    return int(min_support)
