"""Predicates on tabular columns, grouped into features, and their integer encoding.

A *predicate* is a test on one column: ``video == 5``, ``3 <= n_words < 7`` or
"the text contains the token ``check``". A *feature* is a group of mutually exclusive
predicates on one column (the values of a category, the quantile bins of a number),
so a row matches at most one predicate of each feature; a token is a feature of its
own. The search works on an ``(n, features)`` matrix of small integer *codes*: code
``j`` means the row matches predicate ``j`` of the feature, code ``m`` (the number of
predicates) means it matches none.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = [
    "Feature",
    "Predicate",
    "PredicateSpace",
    "build_predicate_space",
    "range_mask",
    "token_matrix",
    "tokenize",
]

PredicateKind = Literal["equals", "range", "contains"]
TOKEN_PATTERN = r"[a-z0-9']{2,}"


def tokenize(texts: pd.Series) -> pd.Series:
    """Lower-cased word tokens (letters, digits, apostrophes; 2+ characters) per text.

    Examples
    --------
    >>> tokenize(pd.Series(["Check my CHANNEL!", None])).tolist()
    [['check', 'my', 'channel'], []]
    """
    lowered = texts.astype("string").str.lower().fillna("")
    return lowered.str.findall(TOKEN_PATTERN)


def token_matrix(texts: pd.Series, tokens: Sequence[str]) -> np.ndarray:
    """Whether each text contains each token: an ``(n, len(tokens))`` bool matrix.

    Texts are tokenized once (:func:`tokenize`); no Python loop over rows.

    Examples
    --------
    >>> token_matrix(pd.Series(["check it", "nice song", "check my song"]),
    ...              ["check", "song"]).astype(int).tolist()
    [[1, 0], [0, 1], [1, 1]]
    """
    tokenized = tokenize(texts)
    lengths = tokenized.str.len().to_numpy(dtype=np.int64)
    flat = tokenized.explode().to_numpy(dtype=object, na_value=None)
    flat = flat[~pd.isna(flat)]
    rows = np.repeat(np.arange(len(texts)), lengths)
    token_ids = pd.Index(list(tokens)).get_indexer(flat)
    known = token_ids >= 0
    matrix = np.zeros((len(texts), len(tokens)), dtype=np.bool_)
    matrix[rows[known], token_ids[known]] = True
    return matrix


@dataclass(frozen=True)
class Predicate:
    """A test on one column of a DataFrame.

    Parameters
    ----------
    column
        The column tested.
    kind
        ``"equals"`` (``column == value``), ``"range"`` (``low <= column < high``;
        ``None`` for an open end) or ``"contains"`` (the text contains the token
        ``value``, see :func:`tokenize`).
    value
        The category value or the token.
    low, high
        Bounds of a range.

    Examples
    --------
    >>> df = pd.DataFrame({"n_words": [2, 5, 9], "video": [1, 5, 5]})
    >>> Predicate("n_words", "range", high=5.0).mask(df)
    array([ True, False, False])
    >>> Predicate("video", "equals", 5).mask(df)
    array([False,  True,  True])
    """

    column: str
    kind: PredicateKind
    value: Any = None
    low: float | None = None
    high: float | None = None

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        """Whether each row of ``frame`` satisfies the predicate, as a bool array."""
        if self.column not in frame.columns:
            raise KeyError(
                f"predicate on column {self.column!r} cannot be applied: the frame "
                f"has columns {list(frame.columns)}"
            )
        values = frame[self.column]
        if self.kind == "equals":
            return values.eq(self.value).to_numpy(dtype=np.bool_, na_value=False)
        if self.kind == "contains":
            return token_matrix(values, [self.value])[:, 0]
        return range_mask(_as_float(values), self.low, self.high)


@dataclass(frozen=True)
class Feature:
    """Mutually exclusive predicates on one column (or one token predicate)."""

    column: str
    predicates: tuple[Predicate, ...]

    @property
    def kind(self) -> PredicateKind:
        """The kind shared by all predicates of the feature."""
        return self.predicates[0].kind

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        """Code of the matching predicate per row; ``len(predicates)`` for none."""
        n_predicates = len(self.predicates)
        values = frame[self.column]
        if self.kind == "equals":
            categories = [predicate.value for predicate in self.predicates]
            codes = pd.Index(categories).get_indexer(values)
            return np.where(codes < 0, n_predicates, codes)
        if self.kind == "contains":
            matches = token_matrix(values, [self.predicates[0].value])[:, 0]
            return np.where(matches, 0, 1)
        edges = np.array([predicate.low for predicate in self.predicates[1:]])
        numbers = _as_float(values)
        codes = np.searchsorted(edges, numbers, side="right")
        return np.where(np.isnan(numbers), n_predicates, codes)


class PredicateSpace:
    """The features a search combines, with the integer encoding of a frame.

    Predicates are numbered feature by feature; ``feature_of[p]`` and
    ``local_code[p]`` give the feature of predicate ``p`` and its code there.

    Parameters
    ----------
    features
        At least one feature, each with at least one predicate.

    Examples
    --------
    >>> df = pd.DataFrame({"video": [1, 2, 2, 3], "n_words": [1, 8, 3, 20]})
    >>> space = build_predicate_space(df, n_bins=3)
    >>> [len(feature.predicates) for feature in space.features]
    [3, 3]
    >>> space.encode(df).tolist()
    [[0, 0], [1, 2], [1, 1], [2, 2]]
    """

    def __init__(self, features: Sequence[Feature]) -> None:
        self.features = tuple(features)
        if not self.features:
            raise ValueError(
                "the predicate space is empty: no column gave a predicate (check "
                "columns, min_count and the dtypes of the frame)"
            )
        for feature in self.features:
            if not feature.predicates:
                raise ValueError(f"feature on {feature.column!r} has no predicates")
        self.predicates = tuple(p for f in self.features for p in f.predicates)
        self.cardinalities = np.array([len(f.predicates) for f in self.features])
        self.feature_of = np.repeat(np.arange(len(self.features)), self.cardinalities)
        starts = np.cumsum(self.cardinalities) - self.cardinalities
        self.local_code = np.arange(len(self.predicates)) - starts[self.feature_of]

    @property
    def columns(self) -> list[str]:
        """The columns the features read, without repeats, in feature order."""
        return list(dict.fromkeys(feature.column for feature in self.features))

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        """The ``(n, features)`` code matrix of ``frame`` (int16 or int32, column-major)."""
        missing = [column for column in self.columns if column not in frame.columns]
        if missing:
            raise KeyError(
                f"the frame lacks the columns {missing} used by the predicates; it "
                f"has {list(frame.columns)}"
            )
        dtype = np.int16 if self.cardinalities.max() < 2**15 - 1 else np.int32
        # Column-major: the search reads a few whole columns at a time.
        codes = np.empty((len(frame), len(self.features)), dtype=dtype, order="F")
        token_features: dict[str, list[int]] = {}
        for index, feature in enumerate(self.features):
            if feature.kind == "contains":
                token_features.setdefault(feature.column, []).append(index)
            else:
                codes[:, index] = feature.encode(frame)
        # One tokenization per text column serves all of its token features.
        for column, indices in token_features.items():
            tokens = [self.features[i].predicates[0].value for i in indices]
            matches = token_matrix(frame[column], tokens)
            codes[:, indices] = np.where(matches, 0, 1)
        return codes


def build_predicate_space(
    frame: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    text_columns: Sequence[str] = (),
    categorical: Sequence[str] = (),
    n_bins: int = 5,
    max_categories: int = 20,
    n_tokens: int = 20,
    min_count: int = 1,
) -> PredicateSpace:
    """Build predicates from the columns of a frame.

    - bool columns: ``column=True`` and ``column=False``;
    - numeric columns with at most ``n_bins`` distinct values, and the columns named
      in ``categorical``: one equality per value;
    - other numeric columns: ``n_bins`` quantile bins (edges rounded to 3
      significant digits so names are exact);
    - string, categorical and object columns: equality with the ``max_categories``
      most frequent values;
    - ``text_columns``: "contains token" for the ``n_tokens`` tokens found in the
      most rows (each token is a feature of its own).

    Values and tokens seen in fewer than ``min_count`` rows are left out. Datetime
    columns are skipped when ``columns`` is ``None`` and refused when named.

    Parameters
    ----------
    frame
        The data.
    columns
        Columns to build equality/bin predicates from; all columns except
        ``text_columns`` by default.
    text_columns
        Free-text columns to build token predicates from.
    categorical
        Numeric columns to treat as categories whatever their number of values.
    n_bins
        Quantile bins per numeric column.
    max_categories
        Most frequent values kept per categorical column.
    n_tokens
        Most frequent tokens kept per text column.
    min_count
        Fewest rows a value or token must have.

    Returns
    -------
    PredicateSpace

    Raises
    ------
    TypeError
        If ``frame`` is not a pandas DataFrame.
    KeyError
        Naming columns that are not in the frame.
    ValueError
        On non-positive sizes, a named datetime column, or when no predicate results.

    Examples
    --------
    >>> df = pd.DataFrame({"video": [1, 5, 5], "text": ["check it", "nice", "check"]})
    >>> space = build_predicate_space(df, text_columns=["text"], n_tokens=1)
    >>> space.predicates[-1]
    Predicate(column='text', kind='contains', value='check', low=None, high=None)
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame; got {type(frame).__name__}")
    for name, size in [
        ("n_bins", n_bins),
        ("max_categories", max_categories),
        ("n_tokens", n_tokens),
        ("min_count", min_count),
    ]:
        if not isinstance(size, int | np.integer) or size < 1:
            raise ValueError(f"{name} must be a positive int; got {size!r}")
    text_columns = list(text_columns)
    named = columns is not None
    columns = (
        [c for c in frame.columns if c not in text_columns]
        if columns is None
        else list(columns)
    )
    missing = [c for c in [*columns, *text_columns, *categorical] if c not in frame]
    if missing:
        raise KeyError(f"columns {missing} are not in the frame {list(frame.columns)}")
    features: list[Feature] = []
    for column in columns:
        values = frame[column]
        if values.dtype.kind in "mM":  # datetimes and timedeltas
            if named:
                raise ValueError(
                    f"column {column!r} has dtype {values.dtype}; derive a numeric "
                    f"or categorical column from it (e.g. df[{column!r}].dt.hour)"
                )
            continue
        feature = _column_feature(
            column, values, column in categorical, n_bins, max_categories, min_count
        )
        if feature is not None:
            features.append(feature)
    for column in text_columns:
        features.extend(_token_features(column, frame[column], n_tokens, min_count))
    return PredicateSpace(features)


def _column_feature(
    column: str,
    values: pd.Series,
    force_categorical: bool,
    n_bins: int,
    max_categories: int,
    min_count: int,
) -> Feature | None:
    is_bool = pd.api.types.is_bool_dtype(values)
    is_numeric = pd.api.types.is_numeric_dtype(values) and not is_bool
    counts = values.value_counts(dropna=True)
    if is_numeric and not force_categorical and len(counts) > n_bins:
        return _bin_feature(column, _as_float(values), n_bins)
    kept = counts[counts >= min_count]
    if not is_bool and not is_numeric:
        kept = kept.iloc[:max_categories]
    if kept.empty:
        return None
    ordered = sorted(kept.index.tolist(), key=_sort_key)
    return Feature(
        column, tuple(Predicate(column, "equals", _plain(value)) for value in ordered)
    )


def _bin_feature(column: str, numbers: np.ndarray, n_bins: int) -> Feature | None:
    present = numbers[~np.isnan(numbers)]
    if present.size == 0:
        return None
    quantiles = np.quantile(present, np.linspace(0, 1, n_bins + 1)[1:-1])
    edges = np.unique([float(f"{edge:.3g}") for edge in quantiles])
    edges = edges[(edges > present.min()) & (edges <= present.max())]
    bounds = [None, *edges.tolist(), None]
    return Feature(
        column,
        tuple(
            Predicate(column, "range", low=low, high=high)
            for low, high in zip(bounds[:-1], bounds[1:])
        ),
    )


def _token_features(
    column: str, texts: pd.Series, n_tokens: int, min_count: int
) -> list[Feature]:
    # Document frequency: a token counts once per row that contains it.
    exploded = tokenize(texts).reset_index(drop=True).explode().dropna()
    pairs = pd.DataFrame({"row": exploded.index, "token": exploded.to_numpy()})
    frequencies = pairs.drop_duplicates()["token"].value_counts()
    frequencies = frequencies[frequencies >= min_count]
    # Ties broken by token so the space does not depend on hash order.
    ranked = sorted(frequencies.items(), key=lambda item: (-item[1], item[0]))
    return [
        Feature(column, (Predicate(column, "contains", str(token)),))
        for token, _ in ranked[:n_tokens]
    ]


def _as_float(values: pd.Series) -> np.ndarray:
    numbers = pd.to_numeric(values, errors="coerce")
    return np.asarray(numbers.to_numpy(dtype=np.float64, na_value=np.nan))


def _plain(value: Any) -> Any:
    """numpy scalars as Python scalars, so names and reprs read ``5``, not ``np.int64(5)``."""
    item = getattr(value, "item", None)
    return item() if callable(item) and type(value).__module__ == "numpy" else value


def _sort_key(value: Any) -> tuple[str, Any]:
    return (type(value).__name__, value)


def range_mask(
    numbers: np.ndarray, low: float | None, high: float | None
) -> np.ndarray:
    """Rows with ``low <= number < high`` (an open end is ``None``); NaN is outside.

    Examples
    --------
    >>> range_mask(np.array([0.5, 1.0, np.nan, 3.0]), 1.0, None)
    array([False,  True, False,  True])
    """
    with np.errstate(invalid="ignore"):
        inside = ~np.isnan(numbers)
        if low is not None:
            inside &= numbers >= low
        if high is not None:
            inside &= numbers < high
    return inside
