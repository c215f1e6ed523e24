"""Counts of distinct SF patterns: everything the density-ratio fit reads from the data.

The KLIEP objective depends on the slice matrix only through how often each distinct
row of SF outputs (a *pattern*) occurs, so a source set is summarised by a
``(patterns, cells)`` table of counts (a cell is a ``(gold, pred)`` pair, or
correct/wrong) and a target set, however large, by one count per pattern.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from slicing.matrix import check_slice_names, slice_matrix_names, validate_slice_matrix

__all__ = [
    "PatternCounts",
    "as_pattern_counts",
    "as_slice_indicators",
    "count_patterns",
    "decode_patterns",
    "match_patterns",
    "pattern_codes",
    "unique_patterns",
]

#: Largest number of SFs whose patterns fit one int64 code (Dask path, time windows).
MAX_CODED_SFS = 62


@dataclass(frozen=True)
class PatternCounts:
    """How often each distinct pattern of SF outputs occurs.

    Attributes
    ----------
    patterns
        Distinct patterns, bool, shape ``(P, k)``, one row per pattern.
    counts
        Rows per pattern, shape ``(P,)`` (a target) or ``(P, C, C)`` (a source:
        rows per pattern, gold class and predicted class).
    slice_names
        The ``k`` SF names, in column order.

    Examples
    --------
    >>> import numpy as np
    >>> counts = count_patterns(np.array([[1, 0], [1, 0], [0, 0]], bool), ["a", "b"])
    >>> counts.patterns.tolist(), counts.counts.tolist(), counts.n_rows
    ([[False, False], [True, False]], [1, 2], 3)
    """

    patterns: np.ndarray
    counts: np.ndarray
    slice_names: list[str]

    def __post_init__(self) -> None:
        patterns = np.asarray(self.patterns)
        counts = np.asarray(self.counts)
        names = check_slice_names(list(self.slice_names), kind="SF")
        if patterns.ndim != 2 or patterns.dtype != np.bool_:
            raise ValueError(
                "patterns must be a 2-D bool array (patterns x SFs); got dtype "
                f"{patterns.dtype} and shape {patterns.shape}"
            )
        if patterns.shape[1] != len(names):
            raise ValueError(
                f"patterns have {patterns.shape[1]} columns but {len(names)} SF names "
                f"were given: {names}"
            )
        if counts.shape[:1] != patterns.shape[:1] or counts.ndim not in (1, 3):
            raise ValueError(
                f"counts must have shape ({patterns.shape[0]},) or "
                f"({patterns.shape[0]}, C, C); got {counts.shape}"
            )
        if (counts < 0).any() or not np.isfinite(counts).all():
            raise ValueError("pattern counts must be finite and non-negative")
        object.__setattr__(self, "patterns", patterns)
        object.__setattr__(self, "counts", counts)
        object.__setattr__(self, "slice_names", names)

    @property
    def rows_per_pattern(self) -> np.ndarray:
        """Rows per pattern, shape ``(P,)``, whatever the cells."""
        return self.counts.sum(axis=(1, 2)) if self.counts.ndim == 3 else self.counts

    @property
    def n_rows(self) -> int:
        """Total number of rows counted."""
        return int(self.rows_per_pattern.sum())

    def canonical(self) -> "PatternCounts":
        """The same counts with empty patterns dropped and patterns sorted
        (first SF first, False before True, as :func:`count_patterns` orders them),
        so that results never depend on the order counts arrived in.
        """
        keep = self.rows_per_pattern > 0
        patterns, counts = self.patterns[keep], self.counts[keep]
        order = (
            np.lexsort(patterns.T[::-1])
            if patterns.shape[1]
            else np.arange(len(patterns))
        )
        return PatternCounts(patterns[order], counts[order], self.slice_names)

    def to_frame(self) -> pd.DataFrame:
        """One row per pattern: the SF columns and ``count`` (rows in the pattern)."""
        frame = pd.DataFrame(self.patterns, columns=self.slice_names)
        frame["count"] = self.rows_per_pattern
        return frame


def as_slice_indicators(
    S: object, n_rows: int | None = None
) -> tuple[np.ndarray, list[str]]:
    """A slice matrix or a DataFrame of bool (or 0/1) SF columns as ``(n, k)`` and names.

    Examples
    --------
    >>> indicators, names = as_slice_indicators(pd.DataFrame({"a": [1, 0]}))
    >>> indicators.tolist(), names
    ([[True], [False]], ['a'])
    """
    if isinstance(S, pd.DataFrame):
        names = check_slice_names(list(S.columns), kind="SF column")
        for column in names:
            values = S[column]
            usable = (
                pd.api.types.is_bool_dtype(values.dtype) and not values.isna().any()
            ) or (
                pd.api.types.is_integer_dtype(values.dtype)
                and values.isin([0, 1]).all()
            )
            if not usable:
                raise ValueError(
                    f"SF column '{column}' has dtype {values.dtype} with values "
                    f"{sorted(map(str, values.unique()[:5]))}; expected bool (or 0/1) "
                    "without missing values"
                )
        indicators = S.to_numpy(dtype=np.bool_)
    elif isinstance(S, np.ndarray) and S.dtype.names is not None:
        names = check_slice_names(slice_matrix_names(S), kind="SF")
        indicators = validate_slice_matrix(S)
    else:
        raise TypeError(
            "expected a slice matrix (a record array with one field per SF, as "
            "returned by an SF applier) or a DataFrame with one bool column per SF; "
            f"got {type(S).__name__}"
        )
    if n_rows is not None and len(indicators) != n_rows:
        raise ValueError(f"expected {n_rows} rows of SF outputs; got {len(indicators)}")
    return indicators, names


def pattern_codes(indicators: np.ndarray) -> np.ndarray:
    """Encode each row of an ``(n, k)`` bool array as one int64 (``k <= 62``).

    Examples
    --------
    >>> pattern_codes(np.array([[True, False, True]])).tolist()
    [5]
    """
    k = indicators.shape[1]
    if k > MAX_CODED_SFS:
        raise ValueError(
            f"{k} SFs cannot be coded as one integer per row; at most {MAX_CODED_SFS}"
        )
    powers = np.left_shift(np.int64(1), np.arange(k, dtype=np.int64))
    return (
        indicators.astype(np.int64) @ powers
        if k
        else np.zeros(len(indicators), np.int64)
    )


def decode_patterns(codes: np.ndarray, k: int) -> np.ndarray:
    """Inverse of :func:`pattern_codes`: int64 codes to an ``(P, k)`` bool array."""
    powers = np.left_shift(np.int64(1), np.arange(k, dtype=np.int64))
    return (np.asarray(codes, np.int64)[:, None] & powers) != 0


def _row_keys(indicators: np.ndarray) -> np.ndarray:
    """One opaque, sortable key per row (the row's bytes)."""
    indicators = np.ascontiguousarray(indicators, dtype=np.bool_)
    width = max(indicators.shape[1], 1)
    if indicators.shape[1] == 0:
        indicators = np.zeros((len(indicators), 1), np.bool_)
    return indicators.view(np.dtype((np.void, width))).ravel()


def unique_patterns(indicators: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of an ``(n, k)`` bool array and each row's position among them.

    Examples
    --------
    >>> unique, inverse = unique_patterns(np.array([[1, 0], [0, 0], [1, 0]], bool))
    >>> unique.tolist(), inverse.tolist()
    ([[False, False], [True, False]], [1, 0, 1])
    """
    indicators = np.ascontiguousarray(indicators, dtype=np.bool_)
    if len(indicators) == 0:
        return indicators[:0], np.zeros(0, np.int64)
    _, first, inverse = np.unique(
        _row_keys(indicators), return_index=True, return_inverse=True
    )
    return indicators[first], inverse.ravel().astype(np.int64)


def match_patterns(patterns: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Position of each row of ``patterns`` among the rows of ``reference``, or -1.

    Examples
    --------
    >>> match_patterns(np.array([[1], [0]], bool), np.array([[1]], bool)).tolist()
    [0, -1]
    """
    keys, reference_keys = _row_keys(patterns), _row_keys(reference)
    order = np.argsort(reference_keys)
    sorted_keys = reference_keys[order]
    found = np.searchsorted(sorted_keys, keys).clip(0, max(len(order) - 1, 0))
    if not len(order):
        return np.full(len(keys), -1, np.int64)
    hit = sorted_keys[found] == keys
    return np.where(hit, order[found], -1).astype(np.int64)


def count_patterns(
    indicators: np.ndarray,
    slice_names: Sequence[str],
    cells: np.ndarray | None = None,
    n_classes: int = 2,
) -> PatternCounts:
    """Count distinct rows of an ``(n, k)`` bool array, optionally per outcome cell.

    Parameters
    ----------
    indicators
        SF outputs, bool, shape ``(n, k)``.
    slice_names
        The ``k`` SF names.
    cells
        Optional ``(golds, preds)`` int arrays stacked as shape ``(2, n)``; the
        counts then have shape ``(P, C, C)``.
    n_classes
        ``C``, the number of classes of ``cells``.

    Returns
    -------
    PatternCounts
        Patterns in lexicographic order (False before True, first SF first).
    """
    unique, inverse = unique_patterns(indicators)
    n_patterns = len(unique)
    if cells is None:
        counts = np.bincount(inverse.ravel(), minlength=n_patterns)
    else:
        golds, preds = np.asarray(cells[0], np.int64), np.asarray(cells[1], np.int64)
        flat = (inverse.ravel() * n_classes + golds) * n_classes + preds
        counts = np.bincount(flat, minlength=n_patterns * n_classes**2).reshape(
            n_patterns, n_classes, n_classes
        )
    return PatternCounts(unique, counts.astype(np.int64), list(slice_names))


def as_pattern_counts(data: object, what: str) -> PatternCounts:
    """Target-side counts from a slice matrix, a bool DataFrame or :class:`PatternCounts`.

    ``what`` names the argument in error messages (``"target"``).
    """
    if isinstance(data, PatternCounts):
        if data.counts.ndim != 1:
            return PatternCounts(data.patterns, data.rows_per_pattern, data.slice_names)
        return data
    try:
        indicators, names = as_slice_indicators(data)
    except TypeError as error:
        raise TypeError(
            f"{what} must be a slice matrix, a DataFrame of bool SF columns, "
            f"PatternCounts or a Dask DataFrame; {error}"
        ) from None
    return count_patterns(indicators, names)
