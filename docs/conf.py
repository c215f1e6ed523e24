"""Sphinx configuration of the ``slicing`` documentation.

Build locally with::

    pip install -e ".[docs]"
    sphinx-build -W -b html docs docs/_build/html

The build is offline: no intersphinx inventories, no remote assets. The tutorials are
rendered from their committed outputs (``nb_execution_mode = "off"``); they are copied
from ``../tutorials`` into ``docs/guide/`` (git-ignored, see ``_mirror_guide``) when
this file is read, because Sphinx reads documents only from its source folder.
"""

import importlib
import os
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(ROOT))
# Plots in docstrings and the CLI must not try to open a window.
os.environ.setdefault("MPLBACKEND", "Agg")


# The user guide is the repository's README.md, the tutorials are tutorials/*.ipynb with
# their committed outputs. Sphinx reads pages only from docs/, so guide/ (git-ignored)
# mirrors the README's neighbourhood with the same relative layout: the README's links
# (BENCHMARKS.md, tutorials/...) and the notebooks' links (../README.md) resolve as
# they do on GitHub.
GUIDE = DOCS / "guide"
TUTORIAL_SUFFIXES = {".ipynb", ".md", ".png", ".svg", ".jpg", ".gif"}
README_LINK = re.compile(r"\]\((?![a-z]+:|#)([^)#\s]+)")


def _write_if_changed(path: Path, content: bytes) -> None:
    """Write ``content`` only if it differs, so that unchanged pages keep their mtime
    and an incremental build rereads only what changed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_bytes() != content:
        path.write_bytes(content)


def _mirror_guide() -> None:
    wanted: dict[Path, bytes] = {
        GUIDE / "README.md": (
            b"# User guide\n\n```{include} ../../README.md\n:heading-offset: 1\n```\n"
        ),
        GUIDE / "tutorials.md": (DOCS / "_tutorials_index.md").read_bytes(),
    }
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for link in README_LINK.findall(readme):
        source = ROOT / link
        if source.is_file() and not link.startswith("tutorials/"):
            wanted[GUIDE / link] = source.read_bytes()
    for source in (ROOT / "tutorials").iterdir():
        if source.suffix in TUTORIAL_SUFFIXES:
            wanted[GUIDE / "tutorials" / source.name] = source.read_bytes()
    for path, content in wanted.items():
        _write_if_changed(path, content)
    for stale in GUIDE.rglob("*"):
        if stale.is_file() and stale not in wanted:
            stale.unlink()


_mirror_guide()

import slicing  # noqa: E402  (after sys.path is set)

# The modules whose ``__all__`` the API reference documents, one page per name: the
# entries of the autosummary in api.rst (the one list of them).
API_MODULES = re.findall(r"^   (slicing[\w.]*)$", (DOCS / "api.rst").read_text(), re.M)

project = "slicing"
author = "slicing developers"
copyright = "slicing developers"
release = version = getattr(slicing, "__version__", "0.1.0")

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_nb",
    "cli_help",
    "public_refs",
]

# Every cross-reference must name something that exists: public_refs links each one to
# the object's page, or renders it as plain text when the object exists but has no
# page (a private helper, a third-party class: no intersphinx, the build is offline);
# what is left is a typo or a stale name, which -W turns into an error.
nitpicky = True

templates_path = ["_templates"]
# No table-of-contents entry per documented function and method: the sidebar lists
# pages, not the ~1,000 objects on them.
toc_object_entries = False
exclude_patterns = ["_build", "**.ipynb_checkpoints", "_tutorials_index.md"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}

# API reference: one page per name of each documented module's ``__all__``.
autosummary_generate = True
autosummary_ignore_module_all = False
autodoc_default_options = {"members": True}
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
# A name public both in ``slicing`` and in a subpackage is one object: it is documented
# in full once, on its ``slicing.NAME`` page, and the subpackage's page points there
# (two full pages would describe the same canonical object twice).
autosummary_context = {
    "toplevel_alias": {
        f"{module}.{name}": f"slicing.{name}"
        for module in API_MODULES
        if module != "slicing"
        for name in importlib.import_module(module).__all__
        if name in slicing.__all__
        and getattr(slicing, name) is getattr(importlib.import_module(module), name)
    }
}
numpydoc_show_class_members = False  # autoclass :members: documents them in full
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = False

# MyST: README.md is the user guide; its GitHub-style anchors must resolve.
myst_heading_anchors = 4
nb_execution_mode = "off"  # render the committed outputs; CI executes the notebooks
nb_merge_streams = True

html_theme = "furo"
html_title = "slicing"
html_static_path: list[str] = []
html_show_sourcelink = False
