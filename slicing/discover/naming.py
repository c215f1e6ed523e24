"""Names of discovered slices: readable (``video=5 & n_words<5``) or identifier-safe.

Slice names become slice-matrix field names and, in ``SliceAwareClassifier``, part of
task names (``<task>_slice:<name>_pred``), which may not contain ``/``. Readable names
may hold spaces, quotes and operators; identifier names use only ``[A-Za-z0-9_]``,
never start with a digit, and are what to pass to a model or write to a file.

Rules of readable names: ``column=value`` for equality (values with spaces or
operators are double-quoted), ``column<high``, ``low<=column<high``,
``column>=low`` for bins, ``"token" in column`` for tokens, joined by `` & ``.
Identifier names: ``column_eq_value``, ``column_lt_high``, ``column_ge_low_lt_high``,
``column_has_token``, joined by ``__``; ``.`` in numbers becomes ``p`` and a minus
sign ``m``.
"""

import re
from collections.abc import Sequence
from typing import Any

from slicing.discover.predicates import Predicate

__all__ = [
    "format_value",
    "identifier_name",
    "identifier_predicate",
    "readable_name",
    "readable_predicate",
    "unique_names",
]

_NEEDS_QUOTES = re.compile(r"[\s&=<>\"/]")
_NOT_IDENTIFIER = re.compile(r"[^0-9A-Za-z_]+")


def _format_number(value: float) -> str:
    return f"{value:g}"


def format_value(value: Any) -> str:
    """A value as written in a readable name: numbers short, odd strings quoted."""
    if isinstance(value, float):
        return _format_number(value)
    text = str(value)
    if _NEEDS_QUOTES.search(text) or not text:
        return '"' + text.replace('"', '\\"') + '"'
    return text


def readable_predicate(predicate: Predicate) -> str:
    """The readable form of one predicate.

    Examples
    --------
    >>> readable_predicate(Predicate("n_words", "range", low=3.0, high=7.5))
    '3<=n_words<7.5'
    >>> readable_predicate(Predicate("text", "contains", "check"))
    '"check" in text'
    """
    column = predicate.column
    if predicate.kind == "equals":
        return f"{column}={format_value(predicate.value)}"
    if predicate.kind == "contains":
        return f'"{predicate.value}" in {column}'
    low, high = predicate.low, predicate.high
    if low is None and high is None:
        return f"{column} is a number"
    if low is None:
        return f"{column}<{_format_number(high)}"  # type: ignore[arg-type]
    if high is None:
        return f"{column}>={_format_number(low)}"
    return f"{_format_number(low)}<={column}<{_format_number(high)}"


def _identifier_part(text: str) -> str:
    text = text.replace("-", "m").replace(".", "p")
    return _NOT_IDENTIFIER.sub("_", text).strip("_") or "blank"


def identifier_predicate(predicate: Predicate) -> str:
    """The identifier-safe form of one predicate.

    Examples
    --------
    >>> identifier_predicate(Predicate("n_words", "range", low=-1.5, high=7.0))
    'n_words_ge_m1p5_lt_7'
    >>> identifier_predicate(Predicate("author", "equals", "Ann Lee"))
    'author_eq_Ann_Lee'
    """
    column = _identifier_part(predicate.column)
    if predicate.kind == "equals":
        return f"{column}_eq_{_identifier_part(str(predicate.value))}"
    if predicate.kind == "contains":
        return f"{column}_has_{_identifier_part(str(predicate.value))}"
    parts = [column]
    if predicate.low is not None:
        parts.append(f"ge_{_identifier_part(_format_number(predicate.low))}")
    if predicate.high is not None:
        parts.append(f"lt_{_identifier_part(_format_number(predicate.high))}")
    return "_".join(parts)


def readable_name(predicates: Sequence[Predicate]) -> str:
    """Readable name of a conjunction.

    Examples
    --------
    >>> readable_name([Predicate("video", "equals", 5),
    ...                Predicate("n_words", "range", high=5.0)])
    'video=5 & n_words<5'
    """
    return " & ".join(readable_predicate(predicate) for predicate in predicates)


def identifier_name(predicates: Sequence[Predicate]) -> str:
    """Identifier-safe name of a conjunction (a valid Python identifier).

    Examples
    --------
    >>> identifier_name([Predicate("video", "equals", 5),
    ...                  Predicate("n_words", "range", high=5.0)])
    'video_eq_5__n_words_lt_5'
    """
    name = "__".join(identifier_predicate(predicate) for predicate in predicates)
    return f"s_{name}" if name[0].isdigit() else name


def unique_names(names: Sequence[str]) -> list[str]:
    """Make names unique by suffixing repeats with ``_2``, ``_3``, ...

    Distinct slices can share an identifier name (values ``"a b"`` and ``"a_b"``
    both give ``a_b``), and a slice matrix needs unique fields.

    Examples
    --------
    >>> unique_names(["a", "b", "a", "a"])
    ['a', 'b', 'a_2', 'a_3']
    """
    used: set[str] = set()
    result = []
    for name in names:
        candidate, suffix = name, 2
        while candidate in used:
            candidate, suffix = f"{name}_{suffix}", suffix + 1
        used.add(candidate)
        result.append(candidate)
    return result
