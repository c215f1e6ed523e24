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

from slicing.discover.error_types import (
    ERROR_COLUMN,
    ERROR_TYPES,
    error_indicator,
    predicted_labels,
    resolve_target_class,
)
from slicing.discover.lattice import LatticeParams
from slicing.discover.predicates import PredicateSpace, build_predicate_space
from slicing.discover.result import DiscoveryResult
from slicing.discover.search_data import PandasSearchData, SearchData

__all__ = ["find_slices"]


ErrorInput = str | np.ndarray | pd.Series | Sequence[float]


def find_slices(
    data: Any,
    errors: ErrorInput | None = None,
    *,
    golds: str | np.ndarray | pd.Series | Sequence[Any] | None = None,
    preds: str | np.ndarray | pd.Series | Sequence[Any] | None = None,
    error_type: str = "any",
    target_class: Any = None,
    refine: bool = True,
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
        array of length ``len(data)``. Give either ``errors`` or ``golds`` and
        ``preds``.
    golds, preds
        Gold labels and predictions (hard labels, or probabilities: see
        :func:`~slicing.discover.error_types.error_indicator`), as column names of
        ``data`` (required for Dask; the columns are not used as features) or
        arrays; the errors are then those of ``error_type``.
    error_type
        ``"any"`` (``preds != golds``), ``"false_positive"`` (predicted
        ``target_class``, truly another) or ``"false_negative"`` (truly
        ``target_class``, predicted another): false-positive and false-negative
        slices differ, and so do their fixes. Per-class errors: loop over the
        classes with ``error_type="false_negative", target_class=c`` (the rows of
        class ``c`` the model misses).
    target_class
        The class of ``error_type``; 1 by default for {0, 1} labels, required for
        multiclass false positives or negatives.
    refine
        Move the thresholds of numeric ranges in the ``REFINE_POOL * top_k`` best
        slices over finer cut points (up to 128 quantiles of the rows the rest of the
        slice selects) wherever the score rises strictly, both ends of a range, then
        re-rank; see :mod:`slicing.discover.refine`. A slice's score never drops.
        Refinement also starts from the ``SEED_POOL * top_k`` level-2 slices with
        the surest high error, whatever their score (:mod:`slicing.discover.seeds`):
        a 1% slice on three columns with thresholds inside bins can have no
        positive-scoring piece in the lattice at all.
        Cost: the lattice keeps ``REFINE_POOL`` times more slices (less pruning),
        and each refined range costs a few passes over the slice's rows (on Dask,
        over the ``sample_rows`` sample, plus one exact pass over all rows).
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
        ranks above it, so that the top k are not variations of one slice; with
        ``refine``, also when its rows overlap a higher-ranked slice's with Jaccard
        index >= 0.5 or lie >= 80% inside them (refined variants of one finding),
        or when it overlaps higher-ranked slices and its rows outside them score
        at most 0 (``a=p & x>=0.55`` above a found ``a=p & b=v & x>=0.55``: its
        raised error is that slice's); see :mod:`slicing.discover.ranking`.
        ``False`` gives SliceLine's ranking
        exactly (with ``refine=False``).
    confidence
        Level of the error intervals of the statistics rows.
    progress_bar
        Show a tqdm bar counting the evaluated feature combinations.
    scheduler
        Dask only: a scheduler name (``"threads"``, ``"processes"``,
        ``"synchronous"``) or a ``distributed.Client``; Dask's default if ``None``.
    sample_rows
        Dask only: rows sampled to build the predicates (bins and values) when
        ``space`` is ``None`` and to refine thresholds on; statistics are always
        computed on all rows.

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
        On errors of the wrong length or with negative or missing values, errors
        given both or neither ways, multiclass false positives or negatives
        without ``target_class``, or parameters out of range.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame({"video": rng.integers(1, 6, 2000),
    ...                    "n_words": rng.integers(1, 40, 2000)})
    >>> hard = (df.video == 5) & (df.n_words < 8)
    >>> errors = rng.random(2000) < np.where(hard, 0.6, 0.05)
    >>> result = find_slices(df, errors, top_k=3, progress_bar=False)
    >>> result[0].name
    'video=5 & n_words<8'
    >>> result.table()[["size", "error", "error_lift"]].round(2).iloc[0].tolist()
    [77.0, 0.62, 8.1]
    >>> sf = result[0].to_sf()
    >>> int(sf.apply_to_frame(df).sum())
    77

    Slices of false negatives (gold 1, predicted 0), from labels and predictions:

    >>> golds = rng.integers(0, 2, 2000)
    >>> preds = np.where(hard & (golds == 1), 0, golds)
    >>> missed = find_slices(df, golds=golds, preds=preds, top_k=1,
    ...                      error_type="false_negative", progress_bar=False)
    >>> missed[0].name.split(" & ")[0], missed[0].description
    ('video=5', 'false negatives of class 1')
    """
    is_dask = type(data).__module__.split(".")[0] == "dask"
    if not is_dask and not isinstance(data, pd.DataFrame):
        raise TypeError(
            f"expected a pandas or Dask DataFrame; got {type(data).__name__}"
        )
    _check_parameters(max_level, top_k, error_weight, confidence)
    _check_error_inputs(errors, golds, preds, error_type, target_class)
    label_columns = [v for v in (errors, golds, preds) if isinstance(v, str)]
    if golds is not None:
        if is_dask:
            from slicing.discover.dask_search import with_error_column

            data, target_class = with_error_column(
                data, golds, preds, error_type, target_class, scheduler
            )
            errors = ERROR_COLUMN
        else:
            golds, preds = (
                data[v] if isinstance(v, str) and v in data.columns else v
                for v in (golds, preds)
            )
            target_class = _target_class(golds, preds, error_type, target_class)
            errors = error_indicator(
                golds, preds, error_type=error_type, target_class=target_class
            )
    if is_dask:
        from slicing.discover.dask_search import DaskSearchData

        prepared: SearchData = DaskSearchData(data, errors, scheduler, sample_rows)
    else:
        prepared = PandasSearchData(data, errors)
    support = _support_count(min_support, prepared.n_rows)
    if space is None:
        feature_columns = columns
        if isinstance(errors, str):
            label_columns.append(errors)
        if feature_columns is None and label_columns:
            feature_columns = [
                c
                for c in prepared.columns
                if c not in label_columns and c not in text_columns
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
    return prepared.search(
        space, params, confidence, progress_bar, refine, error_type, target_class
    )


def _check_error_inputs(
    errors: Any, golds: Any, preds: Any, error_type: str, target_class: Any
) -> None:
    if error_type not in ERROR_TYPES:
        raise ValueError(f"error_type must be one of {ERROR_TYPES}; got {error_type!r}")
    if (golds is None) != (preds is None):
        raise ValueError("give both golds and preds, or neither")
    if (errors is None) == (golds is None):
        raise ValueError(
            "give either errors, or golds and preds (the errors are then computed "
            "from them); got " + ("both" if errors is not None else "neither")
        )
    if errors is not None and (error_type != "any" or target_class is not None):
        raise ValueError(
            f"error_type={error_type!r} and target_class={target_class!r} need golds "
            "and preds; errors given directly are used as they are"
        )


def _target_class(golds: Any, preds: Any, error_type: str, target_class: Any) -> Any:
    """The class ``error_indicator`` uses, to record it in the result."""
    if error_type == "any":
        return None
    classes = np.concatenate(
        [np.unique(np.asarray(golds)), np.unique(predicted_labels(preds))]
    )
    return resolve_target_class(classes, target_class, error_type)


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
