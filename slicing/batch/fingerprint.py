"""Fingerprints of SFs and of a job, so that ``--resume`` only continues the same job.

An SF's fingerprint hashes what decides its output: its function's code (bytecode,
constants, referenced names, recursively through nested functions, helper functions
of the same module and closure cells, plus the values of simple module constants it
reads), its resources and its preprocessors. Editing an SF's body under the same
name therefore changes its fingerprint.
"""

import hashlib
import types
from typing import Any

from slicing.batch.io import InputFile
from slicing.sf.core import SlicingFunction

__all__ = ["describe_job_changes", "sf_fingerprint"]

_SIMPLE = (int, float, str, bytes, bool, type(None), complex)
_MAX_DEPTH = 4


def _value_parts(value: Any, depth: int, seen: set[int]) -> list[bytes]:
    if isinstance(value, _SIMPLE):
        return [repr(value).encode()]
    if isinstance(value, (tuple, list, frozenset, set)) and all(
        isinstance(item, _SIMPLE) for item in value
    ):
        items = (
            sorted(map(repr, value))
            if isinstance(value, (set, frozenset))
            else map(repr, value)
        )
        return [type(value).__name__.encode(), *(item.encode() for item in items)]
    if isinstance(value, types.FunctionType):
        return _function_parts(value, depth + 1, seen)
    if isinstance(value, dict):
        parts = [b"dict"]
        for key in sorted(value, key=repr):
            parts += [repr(key).encode(), *_value_parts(value[key], depth, seen)]
        return parts
    try:
        import cloudpickle

        return [hashlib.sha256(cloudpickle.dumps(value)).digest()]
    except Exception:  # noqa: BLE001 - unpicklable (a lock, a model): its type only
        return [type(value).__qualname__.encode()]


def _code_parts(code: types.CodeType) -> list[bytes]:
    parts = [
        code.co_code,
        repr(code.co_names).encode(),
        repr(code.co_freevars).encode(),
    ]
    for const in code.co_consts:
        parts += (
            _code_parts(const)
            if isinstance(const, types.CodeType)
            else [repr(const).encode()]
        )
    return parts


def _global_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def _function_parts(
    func: types.FunctionType, depth: int, seen: set[int]
) -> list[bytes]:
    if id(func) in seen or depth > _MAX_DEPTH:
        return [func.__qualname__.encode()]
    seen.add(id(func))
    parts = [func.__qualname__.encode(), *_code_parts(func.__code__)]
    parts += _value_parts(func.__defaults__ or (), depth, seen)
    for cell in func.__closure__ or ():
        try:
            parts += _value_parts(cell.cell_contents, depth, seen)
        except ValueError:  # an empty cell
            parts.append(b"<empty>")
    for name in sorted(_global_names(func.__code__)):
        if name not in func.__globals__:
            continue
        value = func.__globals__[name]
        same_module = getattr(value, "__module__", None) == func.__module__
        if isinstance(value, _SIMPLE) or (
            isinstance(value, types.FunctionType) and same_module
        ):
            parts += [name.encode(), *_value_parts(value, depth, seen)]
    return parts


def _digest(parts: list[bytes]) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(len(part).to_bytes(8, "little") + part)
    return hasher.hexdigest()[:16]


def _callable_parts(value: Any) -> list[bytes]:
    if isinstance(value, types.FunctionType):
        return _function_parts(value, 0, set())
    return _value_parts(value, 0, set())


def _preprocessor_parts(pre: Any) -> list[bytes]:
    parts = [type(pre).__qualname__.encode()]
    for key, value in sorted(vars(pre).items()):
        if key.startswith("_") and key not in ("_f", "_pre"):
            continue
        if key == "_pre":
            for inner in value:
                parts += _preprocessor_parts(inner)
        else:
            parts += [key.encode(), *_callable_parts(value)]
    return parts


def sf_fingerprint(sf: SlicingFunction) -> dict[str, str]:
    """Hashes of an SF's code, resources and preprocessors.

    Examples
    --------
    >>> from slicing.sf.core import slicing_function
    >>> def make(limit):
    ...     @slicing_function(name="short")
    ...     def short(x):
    ...         return len(x.text) < limit
    ...     return short
    >>> sf_fingerprint(make(5)) == sf_fingerprint(make(5))
    True
    >>> sf_fingerprint(make(5))["code"] == sf_fingerprint(make(6))["code"]
    False
    """
    return {
        "code": _digest([str(sf.vectorized).encode(), *_callable_parts(sf._f)]),
        "resources": _digest(_value_parts(dict(sf._resources or {}), 0, set())),
        "preprocessors": _digest(
            [part for pre in sf._pre or [] for part in _preprocessor_parts(pre)]
        ),
    }


def describe_job_changes(previous: dict, current: dict) -> list[str]:
    """What differs between two job manifests, in words (empty if the same job)."""
    if previous.get("kind") != current.get("kind") or "files" not in previous:
        return ["it was written by another version of slicing"]
    changes = []
    old_files = {f["path"]: f for f in previous["files"]}
    new_files = {f["path"]: f for f in current["files"]}
    for path in sorted(old_files.keys() - new_files.keys()):
        changes.append(f"input file {path!r} is gone")
    for path in sorted(new_files.keys() - old_files.keys()):
        changes.append(f"input file {path!r} is new")
    for path in sorted(old_files.keys() & new_files.keys()):
        said = InputFile(**old_files[path]).changes(InputFile(**new_files[path]))
        if said:
            changes.append(f"input file {path!r} changed ({', '.join(said)})")
    if previous["sfs"] != current["sfs"]:
        changes.append(f"the SFs were {previous['sfs']}, now {current['sfs']}")
    else:
        for name in current["sfs"]:
            old, new = (
                previous["sf_fingerprints"][name],
                current["sf_fingerprints"][name],
            )
            what = [
                part
                for part in ("code", "resources", "preprocessors")
                if old[part] != new[part]
            ]
            if what:
                changes.append(f"SF {name!r} changed (its {' and '.join(what)})")
    skip = {"files", "sfs", "sf_fingerprints", "kind"}
    for key in sorted((previous.keys() | current.keys()) - skip):
        if previous.get(key) != current.get(key):
            changes.append(f"{key} was {previous.get(key)!r}, now {current.get(key)!r}")
    return changes
