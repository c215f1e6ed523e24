"""Module-level ``__getattr__`` that imports heavy names (torch, Dask, matplotlib) on use."""

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_getattr"]


def lazy_getattr(package: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """Build a module ``__getattr__`` importing ``name`` from ``names[name]`` on first use.

    Examples
    --------
    >>> getter = lazy_getattr("demo", {"sqrt": "math"})
    >>> getter("sqrt")(9.0)
    3.0
    >>> getter("nope")
    Traceback (most recent call last):
    ...
    AttributeError: module 'demo' has no attribute 'nope'
    """

    def __getattr__(name: str) -> Any:
        module_name = names.get(name)
        if module_name is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module_name), name)

    return __getattr__
