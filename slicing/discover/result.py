"""What a discovery returns: slices with a statistics row each, ready to become SFs."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from slicing.discover.to_sfs import NameStyle, to_sfs
from slicing.sf.core import SlicingFunction

__all__ = ["DiscoveredSlice", "DiscoveryResult"]

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
    """

    def __init__(
        self, slices: list[DiscoveredSlice], n_rows: int, mean_error: float
    ) -> None:
        self.slices = slices
        self.n_rows = n_rows
        self.mean_error = mean_error

    def __len__(self) -> int:
        return len(self.slices)

    def __iter__(self) -> Iterator[DiscoveredSlice]:
        return iter(self.slices)

    def __getitem__(self, index: int) -> DiscoveredSlice:
        return self.slices[index]

    def __repr__(self) -> str:
        names = ", ".join(repr(item.name) for item in self.slices[:3])
        more = ", ..." if len(self.slices) > 3 else ""
        return f"DiscoveryResult({len(self)} slices: [{names}{more}])"

    def table(self) -> pd.DataFrame:
        """One statistics row per slice, indexed by readable name, best first.

        Columns: ``identifier``, ``level``, ``size``, ``share`` (of all rows),
        ``error``, ``error_low``, ``error_high``, ``error_lift``, ``score``,
        ``description``.
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
        return pd.DataFrame(rows, index=index, columns=TABLE_COLUMNS)

    def to_sfs(self, name_style: NameStyle = "readable") -> list[SlicingFunction]:
        """The slices as vectorized SFs (see :func:`slicing.discover.to_sfs.to_sfs`)."""
        return to_sfs(self.slices, name_style)
