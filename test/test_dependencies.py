"""Every third-party module the package imports at module level is a declared
requirement (setup.cfg's ``install_requires``, mirrored in requirements.txt).

A module imported only through another package's requirements (scipy through
snorkel, cloudpickle through dask) breaks the day that package drops it; optional
dependencies (spaCy, PySpark) are imported inside the functions that need them.
"""

import ast
import configparser
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
#: Import name -> distribution name, where they differ.
DISTRIBUTION = {"sklearn": "scikit-learn"}


def requirement_names(lines: list[str]) -> set[str]:
    names = set()
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(re.split(r"[\[<>=!~ ;]", line, maxsplit=1)[0].lower())
    return names


def module_level_imports(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def third_party_imports() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "slicing").rglob("*.py")):
        for name in module_level_imports(path):
            if name in sys.stdlib_module_names or name == "slicing":
                continue
            found.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return found


def install_requires() -> set[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    return requirement_names(config["options"]["install_requires"].splitlines())


def test_every_module_level_import_is_a_declared_requirement():
    declared = install_requires()
    undeclared = {
        name: paths
        for name, paths in third_party_imports().items()
        if DISTRIBUTION.get(name, name).lower() not in declared
    }
    assert undeclared == {}, f"imported but not in install_requires: {undeclared}"


def test_requirements_txt_lists_the_same_packages_as_setup_cfg():
    pinned = requirement_names((ROOT / "requirements.txt").read_text().splitlines())
    assert pinned == install_requires()


def test_the_checks_see_an_undeclared_import(tmp_path):
    module = tmp_path / "module.py"
    module.write_text("import os\nimport scipy.stats\nfrom cloudpickle import dumps\n")
    assert module_level_imports(module) == {"os", "scipy", "cloudpickle"}
    assert requirement_names(["torch==2.13.0", "dask[dataframe]>=2024.8  # x"]) == {
        "torch",
        "dask",
    }
