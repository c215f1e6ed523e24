"""What a discovery returns: slices with a statistics row each, and ``to_sfs``.

Each slice's membership test (:mod:`slicing.discover.masks`) takes a whole DataFrame
and returns one bool per row, so its SF is ``vectorized=True`` and also works on a
single data point.
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from slicing.discover.naming import unique_names
from slicing.sf.core import SlicingFunction

__all__ = ["DiscoveredSlice", "DiscoveryResult", "NameStyle", "to_sfs"]

NameStyle = Literal["readable", "identifier"]

TABLE_COLUMNS = [
    "identifier",
    "level",
    "size",
    "share",
    "error",
    "error_low",
    "error_high",
    "error_lift",
    "score",
    "description",
]


@dataclass(frozen=True)
class DiscoveredSlice:
    """One discovered slice and its statistics on the data it was found in.

    Attributes
    ----------
    name
        Readable name (``video=5 & n_words<5``).
    identifier
        Identifier-safe name (``video_eq_5__n_words_lt_5``).
    size
        Rows in the slice.
    error
        Mean error (or loss) in the slice.
    error_low, error_high
        Confidence interval of ``error`` (Wilson for 0/1 errors).
    error_lift
        ``error`` over the mean error of all rows.
    score
        SliceLine score the slices are ranked by.
    level
        Number of predicates (1 for a cluster).
    mask
        Vectorized membership test: DataFrame in, one bool per row out.
    description
        For clusters: their most distinctive tokens or column values.
    """

    name: str
    identifier: str
    size: int
    error: float
    error_low: float
    error_high: float
    error_lift: float
    score: float
    level: int
    mask: Callable[[pd.DataFrame], np.ndarray]
    description: str = ""

    def to_sf(self, name_style: NameStyle = "readable") -> SlicingFunction:
        """This slice as a vectorized ``SlicingFunction``."""
        return to_sfs([self], name_style)[0]


class DiscoveryResult:
    """Discovered slices, best first, with the overall figures they are compared to.

    Parameters
    ----------
    slices
        The slices, best first.
    n_rows
        Rows searched.
    mean_error
        Mean error over all rows.
    error_type
        Which errors were counted: ``"any"``, ``"false_positive"`` or
        ``"false_negative"`` (see :mod:`slicing.discover.error_types`).
    target_class
        The class of the false positives or negatives (``None`` for ``"any"``).
    """

    def __init__(
        self,
        slices: list[DiscoveredSlice],
        n_rows: int,
        mean_error: float,
        *,
        error_type: str = "any",
        target_class: object = None,
    ) -> None:
        self.slices = slices
        self.n_rows = n_rows
        self.mean_error = mean_error
        self.error_type = error_type
        self.target_class = target_class

    def __len__(self) -> int:
        return len(self.slices)

    def __iter__(self) -> Iterator[DiscoveredSlice]:
        return iter(self.slices)

    def __getitem__(self, index: int) -> DiscoveredSlice:
        return self.slices[index]

    def __repr__(self) -> str:
        names = ", ".join(repr(item.name) for item in self.slices[:3])
        more = ", ..." if len(self.slices) > 3 else ""
        kind = ""
        if self.error_type != "any":
            kind = f", {self.error_type} of class {self.target_class!r}"
        return f"DiscoveryResult({len(self)} slices: [{names}{more}]{kind})"

    def table(self) -> pd.DataFrame:
        """One statistics row per slice, indexed by readable name, best first.

        Columns: ``identifier``, ``level``, ``size``, ``share`` (of all rows),
        ``error``, ``error_low``, ``error_high``, ``error_lift``, ``score``,
        ``description``. The frame's ``attrs`` hold ``error_type`` and
        ``target_class``, the errors the slices were ranked by.
        """
        rows = [
            {
                "identifier": item.identifier,
                "level": item.level,
                "size": item.size,
                "share": item.size / self.n_rows,
                "error": item.error,
                "error_low": item.error_low,
                "error_high": item.error_high,
                "error_lift": item.error_lift,
                "score": item.score,
                "description": item.description,
            }
            for item in self.slices
        ]
        index = pd.Index([item.name for item in self.slices], name="slice")
        table = pd.DataFrame(rows, index=index, columns=TABLE_COLUMNS)
        table.attrs.update(error_type=self.error_type, target_class=self.target_class)
        return table

    def to_sfs(self, name_style: NameStyle = "readable") -> list[SlicingFunction]:
        """The slices as vectorized SFs (see :func:`to_sfs`)."""
        return to_sfs(self.slices, name_style)


def to_sfs(
    slices: Sequence[DiscoveredSlice], name_style: NameStyle = "readable"
) -> list[SlicingFunction]:
    """Vectorized SFs for discovered slices, with unique names.

    Parameters
    ----------
    slices
        Discovered slices (a ``DiscoveryResult`` or a list of its items).
    name_style
        ``"readable"`` (``video=5 & n_words<5``) or ``"identifier"``
        (``video_eq_5__n_words_lt_5``, safe as a task or file name); see
        :mod:`slicing.discover.naming`.

    Returns
    -------
    list[SlicingFunction]

    Examples
    --------
    >>> import pandas as pd
    >>> from slicing.discover.masks import ConjunctionMask
    >>> from slicing.discover.predicates import Predicate
    >>> item = DiscoveredSlice(
    ...     name="video=5", identifier="video_eq_5", size=2, error=0.5,
    ...     error_low=0.1, error_high=0.9, error_lift=2.0, score=1.0, level=1,
    ...     mask=ConjunctionMask([Predicate("video", "equals", 5)]))
    >>> [sf] = to_sfs([item], name_style="identifier")
    >>> sf.name, sf.apply_to_frame(pd.DataFrame({"video": [5, 1]}))
    ('video_eq_5', array([ True, False]))
    """
    if name_style not in ("readable", "identifier"):
        raise ValueError(
            f"name_style must be 'readable' or 'identifier'; got {name_style!r}"
        )
    raw_names = [
        item.name if name_style == "readable" else item.identifier for item in slices
    ]
    return [
        SlicingFunction(name, item.mask, vectorized=True)
        for name, item in zip(unique_names(raw_names), slices)
    ]
