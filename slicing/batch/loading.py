"""Load slicing functions for a batch job from ``MODULE`` or ``MODULE:NAME``."""

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from slicing.apply.base import check_sfs
from slicing.batch.errors import BatchInputError
from slicing.sf.core import SlicingFunction

__all__ = ["load_sfs"]


def _import(module_spec: str) -> ModuleType:
    path = Path(module_spec)
    if module_spec.endswith(".py") or path.is_file():
        if not path.is_file():
            raise BatchInputError(f"SF module file {module_spec!r} does not exist")
        name = f"_slicing_sfs_{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise BatchInputError(f"cannot load SF module file {module_spec!r}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[name]
            raise BatchInputError(
                f"SF module {module_spec!r} failed to import: {type(exc).__name__}: {exc}"
            ) from exc
        return module
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        return importlib.import_module(module_spec)
    except ModuleNotFoundError as exc:
        if exc.name and module_spec.startswith(exc.name):
            raise BatchInputError(
                f"SF module {module_spec!r} not found (looked in the current directory "
                "and the installed packages); pass MODULE:NAME or a path to a .py file"
            ) from exc
        raise BatchInputError(
            f"SF module {module_spec!r} failed to import: {type(exc).__name__}: {exc}"
        ) from exc
    except Exception as exc:
        raise BatchInputError(
            f"SF module {module_spec!r} failed to import: {type(exc).__name__}: {exc}"
        ) from exc


def _as_sf_list(value: Any, where: str) -> list[SlicingFunction]:
    if isinstance(value, SlicingFunction):
        return [value]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise BatchInputError(
        f"{where} is a {type(value).__name__}, not a SlicingFunction or a list of them"
    )


def load_sfs(spec: str) -> list[SlicingFunction]:
    """Load SFs from ``MODULE:NAME`` (an SF or a list of SFs) or ``MODULE`` (all SFs).

    ``MODULE`` is a dotted module name (importable from the current directory or the
    installed packages) or a path to a ``.py`` file. The module is registered with
    cloudpickle to be shipped by value, so Dask workers need not be able to import it.

    Raises
    ------
    BatchInputError
        The module does not import, the name is missing or not SFs, names repeat.

    Examples
    --------
    >>> sfs = load_sfs("slicing.demo:SFS")
    >>> [sf.name for sf in sfs]
    ['short_comment', 'keyword_please', 'regex_check_out', 'has_link']
    """
    module_spec, _, name = spec.partition(":")
    if not module_spec:
        raise BatchInputError(f"--sfs {spec!r}: expected MODULE or MODULE:NAME")
    module = _import(module_spec)
    if name:
        if not hasattr(module, name):
            raise BatchInputError(f"module {module_spec!r} has no attribute {name!r}")
        sfs = _as_sf_list(getattr(module, name), f"{module_spec}:{name}")
    else:
        sfs = [v for v in vars(module).values() if isinstance(v, SlicingFunction)]
        if not sfs:
            raise BatchInputError(f"module {module_spec!r} defines no SlicingFunction")
    try:
        sfs = check_sfs(sfs)
    except (TypeError, ValueError) as exc:
        raise BatchInputError(f"--sfs {spec!r}: {exc}") from exc
    import cloudpickle

    if module.__name__ != "__main__" and not module.__name__.startswith("slicing."):
        cloudpickle.register_pickle_by_value(module)
    return sfs
