"""The import graph of the package: no cycles, no import running back up, <= 5 floors.

A "unit" is a subpackage (``slicing/monitor``) or a top-level module
(``slicing/matrix.py``); imports inside functions count too, since hiding an import
in a function hides the dependency, it does not remove it.
"""

import ast
import collections
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "slicing"
SIBLINGS = ("sf", "monitor", "model", "labeling")
#: Wings above the appliers and search; no consumer of S may import them.
UPPER = {"apply", "discover", "batch", "cli"}


def module_graph() -> dict[str, set[str]]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    edges: dict[str, set[str]] = collections.defaultdict(set)
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name.split(".")[: None if is_package else -1]
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [
                    f"{base}.{alias.name}"
                    if f"{base}.{alias.name}" in modules
                    else base
                    for alias in node.names
                ]
            else:
                continue
            for target in targets:
                while target not in modules and "." in target:
                    target = target.rsplit(".", 1)[0]
                if target.startswith("slicing") and target != name:
                    edges[name].add(target)
    return {name: edges.get(name, set()) for name in modules}


def unit_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def unit_graph() -> dict[str, set[str]]:
    units: dict[str, set[str]] = collections.defaultdict(set)
    for module, targets in module_graph().items():
        unit = unit_of(module)
        if unit is None:
            continue
        units[unit]
        for target in targets:
            other = unit_of(target)
            if other is not None and other != unit:
                units[unit].add(other)
    return dict(units)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for other in sorted(graph.get(node, ())):
            if state.get(other) == 1:
                return stack[stack.index(other) :] + [other]
            if other not in state and (cycle := visit(other)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def floors(graph: dict[str, set[str]]) -> dict[str, int]:
    memo: dict[str, int] = {}

    def floor(unit: str) -> int:
        if unit not in memo:
            memo[unit] = 1 + max((floor(other) for other in graph[unit]), default=0)
        return memo[unit]

    return {unit: floor(unit) for unit in graph}


def test_no_module_imports_in_a_cycle():
    graph = {
        module: {
            t for t in targets if not t.startswith(module + ".") and t != "slicing"
        }
        for module, targets in module_graph().items()
        if module != "slicing"
    }
    assert find_cycle(graph) is None


def test_units_form_at_most_five_floors_without_cycles():
    graph = unit_graph()
    assert find_cycle(graph) is None
    assert max(floors(graph).values()) <= 5, floors(graph)


@pytest.mark.parametrize("unit", SIBLINGS)
def test_the_consumers_of_the_slice_matrix_are_siblings(unit):
    graph = unit_graph()
    assert not graph[unit] & set(SIBLINGS), graph[unit]


def test_monitoring_and_the_model_sit_on_the_ground_floor_only():
    graph = unit_graph()
    for unit in ("monitor", "model", "labeling"):
        assert not graph[unit] & UPPER, graph[unit]


def test_estimation_builds_on_monitoring_only():
    # Unlabeled monitoring reuses the monitoring metrics, one floor above them.
    graph = unit_graph()
    assert not graph["estimate"] & (UPPER | {"sf", "model", "labeling"}), graph[
        "estimate"
    ]


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert floors({"a": {"b"}, "b": set()}) == {"a": 2, "b": 1}
