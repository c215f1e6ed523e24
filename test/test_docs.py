"""The documentation site builds with warnings as errors and documents the public API.

One Sphinx build (about a minute) serves every test here. The ``docs`` extra
(``pip install -e ".[docs]"``) installs Sphinx and its extensions.
"""

import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip(
    "sphinx", reason="Sphinx is not installed (pip install -e '.[docs]')"
)

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
# The modules the API reference documents: the entries of the autosummary in api.rst.
API_MODULES = re.findall(r"^   (slicing[\w.]*)$", (DOCS / "api.rst").read_text(), re.M)


@pytest.fixture(scope="module")
def html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built by ``sphinx-build -W --keep-going -b html docs OUT``."""
    out = tmp_path_factory.mktemp("docs") / "html"
    build = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]
        + [str(DOCS), str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, f"sphinx-build failed:\n{build.stderr[-20000:]}"
    return out


def _page_text(path: Path) -> str:
    return re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "name",
    [
        "slicing.slicing_function",
        "slicing.PandasSFApplier",
        "slicing.SliceAwareClassifier",
        "slicing.estimate_performance",
        "slicing.slice_scores",
        "slicing.gate_slices",
    ],
)
def test_key_names_have_api_pages_with_their_docstrings(html: Path, name: str) -> None:
    page = html / "generated" / f"{name}.html"
    assert page.is_file(), f"no API page for {name}"
    module, attr = name.rsplit(".", 1)
    summary = inspect.getdoc(
        getattr(importlib.import_module(module), attr)
    ).splitlines()[0]
    first_words = " ".join(re.sub(r"[`:*]|\w+:`", "", summary).split()[:3])
    assert first_words in " ".join(_page_text(page).split())


def test_api_modules_cover_the_public_subpackages() -> None:
    subpackages = {
        f"slicing.{path.name}"
        for path in (ROOT / "slicing").iterdir()
        if (path / "__init__.py").is_file() and not path.name.startswith("_")
    }
    # Not API: slicing.modules re-exports two slicing.model classes under their old
    # import path; slicing.demo is a program (python -m slicing.demo).
    assert subpackages - set(API_MODULES) <= {"slicing.modules", "slicing.demo"}


@pytest.mark.parametrize("module", API_MODULES)
def test_every_public_name_has_a_page_and_a_summary(html: Path, module: str) -> None:
    imported = importlib.import_module(module)
    assert (html / "generated" / f"{module}.html").is_file()
    for name in imported.__all__:
        assert (html / "generated" / f"{module}.{name}.html").is_file(), name
        doc = inspect.getdoc(getattr(imported, name)) or ""
        assert doc.strip() and doc.strip().splitlines()[0].strip(), (
            f"{module}.{name} has no docstring summary line"
        )


def test_tutorials_are_rendered_with_their_figures(html: Path) -> None:
    pages = sorted((html / "guide" / "tutorials").glob("*.html"))
    notebooks = sorted((ROOT / "tutorials").glob("*.ipynb"))
    assert {page.stem for page in pages} >= {nb.stem for nb in notebooks}
    first = html / "guide" / "tutorials" / f"{notebooks[0].stem}.html"
    assert re.search(r'<img [^>]*src="[^"]+\.png"', first.read_text(encoding="utf-8"))


def test_user_guide_is_the_readme(html: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    page = " ".join(_page_text(html / "guide" / "README.html").split())
    for heading in re.findall(r"^## (.+)$", readme, re.M)[:5]:
        assert heading.strip().strip("`") in page


def test_cli_page_shows_every_command_help(html: Path) -> None:
    from slicing.cli import build_parser

    (subparsers,) = [
        action
        for action in build_parser()._actions
        if action.choices and action.dest == "command"
    ]
    page = _page_text(html / "cli.html")
    assert "usage: slicing [-h] COMMAND" in page
    for command in subparsers.choices:
        assert f"usage: slicing {command}" in page, f"cli.md lacks 'slicing {command}'"
