"""The shared base of every SF applier: checks, the per-point loop, fault counting.

Outputs of per-point SFs are collected as plain Python lists in the hot loop and
validated/converted to bool arrays in bulk (see ``slicing.sf.outputs``), so applying
an SF costs little more than calling it.
"""

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from snorkel.labeling.apply.core import ApplierMetadata

from slicing.errors import SFApplicationError
from slicing.matrix import check_slice_names, make_slice_matrix
from slicing.sf.core import SlicingFunction
from slicing.sf.outputs import point_outputs_to_array

__all__ = [
    "ApplierMetadata",
    "ApplyResult",
    "BaseSFApplier",
    "FaultCounter",
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
    """

    def __init__(self, sf_names: Sequence[str], fault_tolerant: bool) -> None:
        self.sf_names = list(sf_names)
        self.fault_tolerant = fault_tolerant
        self.counts = [0] * len(self.sf_names)

    def handle(self, exc: Exception, sf_position: int, where: str) -> bool:
        if not self.fault_tolerant:
            raise SFApplicationError(
                f"SF '{self.sf_names[sf_position]}' raised {type(exc).__name__} on "
                f"{where}: {exc}"
            ) from exc
        self.counts[sf_position] += 1
        return False

    def add(self, counts: Sequence[int]) -> None:
        self.counts = [mine + theirs for mine, theirs in zip(self.counts, counts)]

    def metadata(self) -> ApplierMetadata:
        """Per-SF fault counts (every SF listed, 0 when it never failed)."""
        return ApplierMetadata(dict(zip(self.sf_names, self.counts)))


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


class BaseSFApplier:
    """Base class of SF appliers: holds and checks the SFs.

    Parameters
    ----------
    sfs
        Slicing functions to apply; names must be unique.

    Raises
    ------
    TypeError, ValueError
        See :func:`check_sfs`.
    """

    def __init__(self, sfs: Sequence[SlicingFunction]) -> None:
        self._sfs = check_sfs(sfs)
        self._sf_names = [sf.name for sf in self._sfs]

    @property
    def sf_names(self) -> list[str]:
        """Names of the SFs, in slice-matrix column order."""
        return list(self._sf_names)

    def _finish(
        self, indicators: np.ndarray, faults: FaultCounter, return_meta: bool
    ) -> ApplyResult:
        S = make_slice_matrix(indicators, self._sf_names)
        return (S, faults.metadata()) if return_meta else S

    def __repr__(self) -> str:
        return f"{type(self).__name__}, SFs: {self._sf_names}"
