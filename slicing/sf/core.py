"""Slicing functions (SFs): heuristics ``x -> bool`` that say whether ``x`` is in a slice.

An SF is a snorkel ``LabelingFunction`` whose output is a slice indicator, so snorkel
preprocessors (``@preprocessor``, memoization, ``SpacyPreprocessor``) and resources
work unchanged. Two forms share one class:

- per-point SFs take one data point and return a bool;
- vectorized SFs (``vectorized=True``) take a whole DataFrame (or a Dask partition)
  and return a boolean Series/array with one value per row. Appliers call them once
  per chunk; calling one on a single data point still works (the point becomes a
  one-row DataFrame), so one definition serves every applier.
"""

import functools
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from snorkel.labeling.lf.core import LabelingFunction
from snorkel.preprocess import BasePreprocessor

from slicing.errors import format_label
from slicing.points import point_to_dict
from slicing.sf.outputs import frame_output_to_array, point_output_to_bool

__all__ = ["SlicingFunction", "slicing_function"]


class SlicingFunction(LabelingFunction):
    """A slicing function: a named heuristic returning whether a data point is in a slice.

    Parameters
    ----------
    name
        Name of the slice; becomes the field name in the slice matrix.
    f
        The heuristic. Per-point: ``f(x, **resources) -> bool``. Vectorized:
        ``f(df, **resources) -> boolean Series/array`` with one value per row.
    resources
        Keyword arguments passed to ``f`` on every call (keyword lists, thresholds).
    pre
        snorkel preprocessors run on each data point before ``f`` (per-point only).
    vectorized
        Whether ``f`` takes a whole DataFrame.

    Raises
    ------
    ValueError
        An empty or non-string name, or preprocessors on a vectorized SF.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> is_short = SlicingFunction("is_short", lambda x: len(x.text.split()) < 5)
    >>> is_short(SimpleNamespace(text="nice song"))
    True

    A vectorized SF works on a DataFrame and on a single data point:

    >>> import pandas as pd
    >>> is_long = SlicingFunction(
    ...     "is_long", lambda df: df.text.str.len() > 8, vectorized=True
    ... )
    >>> is_long.apply_to_frame(pd.DataFrame({"text": ["hi", "hello world"]}))
    array([False,  True])
    >>> is_long(SimpleNamespace(text="hello world"))
    True
    """

    def __init__(
        self,
        name: str,
        f: Callable[..., Any],
        resources: Mapping[str, Any] | None = None,
        pre: list[BasePreprocessor] | None = None,
        vectorized: bool = False,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"an SF name must be a non-empty string; got {name!r}")
        if not callable(f):
            raise TypeError(f"SF '{name}': f must be callable; got {type(f).__name__}")
        if vectorized and pre:
            raise ValueError(
                f"SF '{name}' is vectorized and cannot take per-point preprocessors; "
                "compute derived columns inside the vectorized function instead"
            )
        super().__init__(name, f, resources=resources, pre=pre)
        self.vectorized = vectorized
        # Dask names tasks by hashing their arguments; SFs may close over objects
        # that cannot be hashed deterministically (locks, models), so each SF gets
        # a stable identity of its own.
        self._dask_token = uuid.uuid4().hex

    @property
    def needs_mutable_points(self) -> bool:
        """Whether data points must accept new attributes (true with preprocessors)."""
        return bool(self._pre)

    def __call__(self, x: Any) -> bool:
        """Say whether data point ``x`` is in the slice.

        Raises
        ------
        SFOutputError
            If the SF returns anything but a bool / 0 / 1.
        """
        if self.vectorized:
            frame = pd.DataFrame([point_to_dict(x)])
            return bool(self.apply_to_frame(frame)[0])
        return point_output_to_bool(self.name, super().__call__(x))

    def core_function(self) -> Callable[[Any], Any]:
        """The per-point function with its resources bound, without preprocessing.

        Appliers use it in their hot loop (running the preprocessors themselves, see
        :meth:`preprocess`) and validate outputs in bulk afterwards.
        """
        if self.vectorized:
            return self.__call__
        if self._resources:
            return functools.partial(self._f, **self._resources)
        return self._f

    @property
    def preprocessors(self) -> tuple:
        """The snorkel preprocessors run on each point before the SF (may be empty)."""
        return tuple(self._pre)

    def preprocess(self, x: Any) -> Any:
        """Run the preprocessors on ``x``; returns a new point, ``x`` is untouched."""
        return self._preprocess_data_point(x)

    def apply_to_frame(self, frame: pd.DataFrame) -> np.ndarray:
        """Run a vectorized SF on a DataFrame; return a validated bool array.

        Raises
        ------
        TypeError
            If the SF is not vectorized.
        SFOutputError
            If the output has the wrong length, index or values.
        """
        if not self.vectorized:
            raise TypeError(
                f"SF '{self.name}' is not vectorized; apply it with an SF applier"
            )
        result = self._f(frame, **self._resources)
        index = frame.index
        return frame_output_to_array(
            self.name,
            result,
            frame,
            lambda row: f"row {row} (index label {format_label(index[row])})",
        )

    def __dask_tokenize__(self) -> tuple:
        return (type(self).__name__, self.name, self._dask_token)

    def __repr__(self) -> str:
        kind = ", vectorized" if self.vectorized else ""
        return f"{type(self).__name__} {self.name}{kind}, Preprocessors: {self._pre}"


class slicing_function:
    """Decorator turning a function into a :class:`SlicingFunction`.

    Parameters
    ----------
    name
        Name of the SF; the function's name by default.
    resources
        Keyword arguments passed to the function on every call.
    pre
        snorkel preprocessors run before the function (per-point SFs only).
    vectorized
        The function takes a whole DataFrame and returns one bool per row.

    Examples
    --------
    >>> @slicing_function()
    ... def short_comment(x):
    ...     return len(x.text.split()) < 5
    >>> short_comment
    SlicingFunction short_comment, Preprocessors: []

    A factory gives independent SFs, one per argument:

    >>> def make_keyword_sf(word):
    ...     @slicing_function(name=f"keyword_{word}", resources=dict(word=word))
    ...     def has_keyword(x, word):
    ...         return word in x.text.lower()
    ...     return has_keyword
    >>> [make_keyword_sf(w).name for w in ("please", "check")]
    ['keyword_please', 'keyword_check']

    >>> @slicing_function(vectorized=True)
    ... def has_link(df):
    ...     return df.text.str.contains("http", regex=False)
    """

    def __init__(
        self,
        name: str | None = None,
        resources: Mapping[str, Any] | None = None,
        pre: list[BasePreprocessor] | None = None,
        vectorized: bool = False,
    ) -> None:
        if callable(name):
            raise ValueError(
                "slicing_function is missing parentheses: write @slicing_function()"
            )
        self.name = name
        self.resources = resources
        self.pre = pre
        self.vectorized = vectorized

    def __call__(self, f: Callable[..., Any]) -> SlicingFunction:
        """Wrap ``f`` in a :class:`SlicingFunction`."""
        return SlicingFunction(
            name=self.name or f.__name__,
            f=f,
            resources=self.resources,
            pre=self.pre,
            vectorized=self.vectorized,
        )
