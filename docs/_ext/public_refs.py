"""Point docstring references at the public pages of the objects they name.

Docstrings often name an object by its defining module (``:func:`slicing.monitor.
scores.slice_scores```) or by a name that is only in scope there (``:func:`check_sfs```),
while the API reference documents each object under its public name
(``slicing.slice_scores``). On a missing reference this extension imports the target,
looked up in the scope of the docstring that holds it, and

* links to the object's public page when the object is documented under another name;
* renders the text unlinked when the object exists but is not documented (a private
  helper, a module not in the reference, a third-party class: no inventories offline);
* leaves the reference unresolved, so that ``nitpicky`` reports it, when no such object
  exists: a typo or a stale name.
"""

import importlib
import inspect
import re
from typing import Any

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

_MISSING = object()
_FIELD = object()
_NAMES: dict[int, dict[int, str]] = {}  # id(env) -> _public_names(env), built once
# Plain values (a documented constant, None) are shared by unrelated names: never
# map a reference through their identity.
_VALUES = (type(None), bool, int, float, complex, str, bytes, tuple, list, dict, set)
_DOCSTRING_OF = re.compile(r"docstring of ([\w.]+)")


def _import(path: str) -> Any:
    """The object at dotted ``path`` (module, then attributes), or ``_MISSING``."""
    parts = path.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except Exception:  # noqa: BLE001 (any import failure means "not this prefix")
            continue
        for attr in parts[split:]:
            owner, obj = obj, getattr(obj, attr, _MISSING)
            if obj is _MISSING and attr in getattr(owner, "__annotations__", {}):
                obj = _FIELD  # an annotated field with no class-level value
            if obj is _MISSING:
                break
        else:
            return obj
    return _MISSING


def _scopes(node: pending_xref) -> list[str]:
    """Dotted prefixes to try a relative target in, nearest first."""
    scopes = []
    module, cls = node.get("py:module"), node.get("py:class")
    if module and cls:
        scopes.append(f"{module}.{cls}")
    if module:
        scopes.append(module)
    holder = node  # the nearest enclosing node that knows its source
    while holder is not None and not holder.source:
        holder = holder.parent
    match = _DOCSTRING_OF.search(holder.source if holder is not None else "")
    if match:
        documented = match.group(1)
        parts = documented.split(".")
        for end in range(len(parts), 0, -1):
            obj = _import(".".join(parts[:end]))
            if obj is _MISSING:
                continue
            scopes.append(".".join(parts[:end]))
            # The defining modules of the object and, for a class, of its bases
            # (an inherited docstring is written in its base's scope).
            for owner in inspect.getmro(obj) if inspect.isclass(obj) else [obj]:
                defining = getattr(owner, "__module__", None)
                if defining and defining not in scopes:
                    scopes.append(defining)
                    if inspect.isclass(owner):
                        scopes.append(f"{defining}.{owner.__qualname__}")
    return scopes + [""]


def _public_names(env: BuildEnvironment) -> dict[int, str]:
    """``id(object) -> documented name`` for every object the py domain describes."""
    cached = _NAMES.get(id(env))
    if cached is None:
        cached = _NAMES[id(env)] = {}
        for name, entry in env.get_domain("py").objects.items():
            if getattr(entry, "aliased", False):
                continue
            obj = _import(name)
            if (
                obj is not _MISSING
                and obj is not _FIELD
                and not isinstance(obj, _VALUES)
            ):
                cached.setdefault(id(obj), name)
    return cached


def resolve(
    app: Sphinx, env: BuildEnvironment, node: pending_xref, contnode: nodes.Element
) -> nodes.Element | None:
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip(".~")
    domain = env.get_domain("py")
    public = _public_names(env)
    for scope in _scopes(node):
        path = f"{scope}.{target}" if scope else target
        obj = _import(path)
        if obj is _MISSING:
            continue
        # The longest prefix of ``path`` that is documented, plus the rest (a method
        # named through the module that defines its class, say).
        parts = path.split(".")
        for end in range(len(parts), 0, -1):
            documented = public.get(id(_import(".".join(parts[:end]))))
            if documented:
                new_target = ".".join([documented, *parts[end:]])
                found = domain.resolve_any_xref(
                    env, node["refdoc"], app.builder, new_target, node, contnode
                )
                if found:
                    return found[0][1]
                break
        return contnode  # exists but has no page: plain text, no dead link
    return None


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("missing-reference", resolve)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
