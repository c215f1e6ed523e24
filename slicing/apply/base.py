"""The shared base of every SF applier: checks, the per-point loop, fault counting.

Outputs of per-point SFs are collected as plain Python lists in the hot loop and
validated/converted to bool arrays in bulk (see ``slicing.sf.outputs``), so applying
an SF costs little more than calling it. Every applier computes :class:`SliceBlock`s
(rows of the slice matrix with the faults counted computing them) and turns them into
the slice matrix in one place, :meth:`BaseSFApplier._finish`.
"""

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from snorkel.labeling.apply.core import ApplierMetadata

from slicing.errors import MissingColumnError, SFApplicationError
from slicing.matrix import check_slice_names, make_slice_matrix
from slicing.points import ColumnAttributeError, ColumnKeyError
from slicing.sf.core import SlicingFunction
from slicing.sf.outputs import point_outputs_to_array

__all__ = [
    "ApplierMetadata",
    "ApplyResult",
    "BaseSFApplier",
    "FaultCounter",
    "SliceBlock",
    "check_sfs",
    "run_point_sfs",
]

ApplyResult = np.recarray | tuple[np.recarray, ApplierMetadata]

#: Rows processed per chunk: bounds the memory of per-row Python objects and sets
#: the granularity of progress bars.
CHUNK_ROWS = 32_768


def check_sfs(sfs: Sequence[SlicingFunction]) -> list[SlicingFunction]:
    """Validate a list of SFs: non-empty, all ``SlicingFunction``, unique names.

    Raises
    ------
    TypeError
        An element is not a ``SlicingFunction`` (says which, and how to convert an LF).
    ValueError
        The list is empty or two SFs share a name.
    """
    if isinstance(sfs, SlicingFunction):
        raise TypeError(
            "pass a list of SFs, e.g. PandasSFApplier([sf]), not a single SF"
        )
    sfs = list(sfs)
    if not sfs:
        raise ValueError("no slicing functions given: pass a non-empty list of SFs")
    for position, sf in enumerate(sfs):
        if not isinstance(sf, SlicingFunction):
            hint = (
                "; convert a labeling function with slicing.sf_from_lf(lf)"
                if hasattr(sf, "_f") and hasattr(sf, "name")
                else "; decorate the function with @slicing_function()"
            )
            raise TypeError(
                f"element {position} of the SF list is {type(sf).__name__} "
                f"{getattr(sf, 'name', sf)!r}, not a SlicingFunction{hint}"
            )
    check_slice_names([sf.name for sf in sfs], kind="SF")
    return sfs


class FaultCounter:
    """Turns an exception raised by an SF into an error, or into a counted fault.

    With ``fault_tolerant=False`` it raises :class:`SFApplicationError` naming the SF
    and the row, with the original exception chained; with ``True`` the row counts as
    "not in slice" and the fault is counted for that SF.

    Examples
    --------
    >>> faults = FaultCounter(["a", "b"], fault_tolerant=True)
    >>> faults.handle(ZeroDivisionError("division by zero"), 1, "row 3")
    False
    >>> faults.by_name()
    {'a': 0, 'b': 1}
    >>> FaultCounter(["a"], fault_tolerant=False).handle(KeyError("x"), 0, "row 3")
    Traceback (most recent call last):
    ...
    slicing.errors.SFApplicationError: SF 'a' raised KeyError on row 3: 'x'
    """

    def __init__(self, sf_names: Sequence[str], fault_tolerant: bool) -> None:
        self.sf_names = list(sf_names)
        self.fault_tolerant = fault_tolerant
        self.counts = [0] * len(self.sf_names)

    def handle(self, exc: Exception, sf_position: int, where: str) -> bool:
        """Raise for ``exc``, or count it for SF ``sf_position`` and return ``False``."""
        if not self.fault_tolerant:
            missing = isinstance(exc, (ColumnKeyError, ColumnAttributeError))
            # A missing column shows as the KeyError/AttributeError the SF's code saw.
            kind = (
                ("KeyError" if isinstance(exc, KeyError) else "AttributeError")
                if missing
                else type(exc).__name__
            )
            message = (
                f"SF '{self.sf_names[sf_position]}' raised {kind} on {where}: {exc}"
            )
            if missing:
                raise MissingColumnError(
                    message, column=exc.column, sf_name=self.sf_names[sf_position]
                ) from exc
            raise SFApplicationError(message) from exc
        self.counts[sf_position] += 1
        return False

    def by_name(self) -> dict[str, int]:
        """Per-SF fault counts (every SF listed, 0 when it never failed)."""
        return dict(zip(self.sf_names, self.counts))


@dataclass(frozen=True)
class SliceBlock:
    """Rows of a slice matrix and the faults counted while computing them.

    What every applier computes per frame, chunk or Dask partition, before
    :meth:`BaseSFApplier._finish` turns it into the slice matrix.

    Attributes
    ----------
    indicators
        ``(rows, k)`` bool array, one column per SF in applier order.
    fault_counts
        Exceptions counted as "not in slice" per SF name (all 0 unless fault
        tolerant); every SF is listed.

    Examples
    --------
    >>> first = SliceBlock(np.array([[True, False]]), {"a": 0, "b": 1})
    >>> second = SliceBlock(np.array([[False, False]]), {"a": 2, "b": 0})
    >>> both = SliceBlock.concat([first, second], ["a", "b"])
    >>> both.indicators.tolist(), both.fault_counts
    ([[True, False], [False, False]], {'a': 2, 'b': 1})
    """

    indicators: np.ndarray
    fault_counts: Mapping[str, int]

    @classmethod
    def concat(
        cls, blocks: Sequence["SliceBlock"], sf_names: Sequence[str]
    ) -> "SliceBlock":
        """Stack blocks in order and add their fault counts (no blocks: zero rows)."""
        totals = dict.fromkeys(sf_names, 0)
        for block in blocks:
            for name, count in block.fault_counts.items():
                totals[name] += count
        if not blocks:
            return cls(np.zeros((0, len(totals)), dtype=np.bool_), totals)
        return cls(np.concatenate([block.indicators for block in blocks]), totals)


class _LastPointCache:
    """Preprocesses each data point once for all the SFs sharing a preprocessor list.

    SFs run one after another on the same point object, so remembering the last
    point (by identity) is enough; snorkel's ``memoize=True`` shares results the same
    way. If preprocessing raises, it raises for every SF of the group on that point.
    """

    def __init__(self, preprocess: Callable[[Any], Any]) -> None:
        self.preprocess = preprocess
        self.last_point: Any = None
        self.last_result: Any = None

    def __call__(self, x: Any) -> Any:
        if x is not self.last_point:
            self.last_result = self.preprocess(x)
            self.last_point = x
        return self.last_result


def _preprocess_then_call(
    preprocess: Callable[[Any], Any], core: Callable[[Any], Any], x: Any
) -> Any:
    return core(preprocess(x))


def point_calls(sfs: Sequence[SlicingFunction]) -> list[Callable[[Any], Any]]:
    """One callable per SF computing its raw output for a data point.

    SFs with the same preprocessors (the same objects, in the same order) share one
    preprocessing pass per point instead of one deep copy per SF.
    """
    shared: dict[tuple[int, ...], _LastPointCache] = {}
    calls: list[Callable[[Any], Any]] = []
    for sf in sfs:
        core = sf.core_function()
        if sf.vectorized or not sf.preprocessors:
            calls.append(core)
            continue
        key = tuple(id(p) for p in sf.preprocessors)
        preprocess = shared.setdefault(key, _LastPointCache(sf.preprocess))
        calls.append(functools.partial(_preprocess_then_call, preprocess, core))
    return calls


def run_point_sfs(
    points: Iterable[Any],
    sfs: Sequence[SlicingFunction],
    sf_positions: Sequence[int],
    faults: FaultCounter,
    describe_row: Callable[[int], str],
) -> list[np.ndarray]:
    """Apply per-point SFs to every point; return one validated bool array per SF.

    ``sf_positions[j]`` is the position of ``sfs[j]`` in the applier's SF list (used
    for fault counts).
    """
    outputs: list[list] = [[] for _ in sfs]
    calls = [
        (sf_position, call, collected.append)
        for sf_position, call, collected in zip(sf_positions, point_calls(sfs), outputs)
    ]
    for row, x in enumerate(points):
        for sf_position, call, append in calls:
            try:
                append(call(x))
            except Exception as exc:  # noqa: BLE001 - re-raised or counted
                append(faults.handle(exc, sf_position, describe_row(row)))
    return [
        point_outputs_to_array(sf.name, collected, describe_row)
        for sf, collected in zip(sfs, outputs)
    ]


def _sfs_or_lfs(
    sfs: Sequence[SlicingFunction] | None,
    lfs: Sequence[SlicingFunction] | None,
    applier: str,
) -> Sequence[SlicingFunction]:
    """The SF list, given as ``sfs`` or under snorkel's keyword ``lfs``."""
    if sfs is not None and lfs is not None:
        raise TypeError(
            f"{applier} got the SFs twice: pass them once, as sfs (or positionally) "
            "or as lfs="
        )
    if sfs is None and lfs is None:
        raise TypeError(
            f"{applier} is missing the SFs to apply: e.g. {applier}([short_comment])"
        )
    return sfs if sfs is not None else lfs  # type: ignore[return-value]


class BaseSFApplier:
    """Base class of SF appliers: holds and checks the SFs.

    Parameters
    ----------
    sfs
        Slicing functions to apply; names must be unique.
    lfs
        The same list under the keyword of snorkel's appliers
        (``PandasSFApplier(lfs=[...])``), for code written for ``snorkel.slicing``.

    Raises
    ------
    TypeError, ValueError
        See :func:`check_sfs`; also a ``TypeError`` when the SFs are given twice
        (``sfs`` and ``lfs``) or not at all.

    Examples
    --------
    >>> from slicing.sf.core import SlicingFunction
    >>> applier = BaseSFApplier(lfs=[SlicingFunction("always", lambda x: True)])
    >>> applier.sf_names
    ['always']
    """

    def __init__(
        self,
        sfs: Sequence[SlicingFunction] | None = None,
        *,
        lfs: Sequence[SlicingFunction] | None = None,
    ) -> None:
        self._sfs = check_sfs(_sfs_or_lfs(sfs, lfs, type(self).__name__))
        self._sf_names = [sf.name for sf in self._sfs]

    @property
    def sf_names(self) -> list[str]:
        """Names of the SFs, in slice-matrix column order."""
        return list(self._sf_names)

    def _finish(self, block: SliceBlock, return_meta: bool) -> ApplyResult:
        S = make_slice_matrix(block.indicators, self._sf_names)
        if not return_meta:
            return S
        return S, ApplierMetadata(
            {name: block.fault_counts[name] for name in self._sf_names}
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}, SFs: {self._sf_names}"
