"""Execute every tutorial notebook and save it with its outputs (run after editing one).

The notebooks are committed with their outputs so that readers see the results
without running them. Each saved notebook carries a fingerprint of the code it ran
(``metadata["slicing"]["code_sha256"]``, a hash of its code cells' sources and of
nothing else); ``test/test_tutorials.py`` checks that the fingerprint matches the
committed code, so a cell edited without re-executing fails CI, and executes every
notebook again.

Usage: ``python tutorials/execute_all.py [NAME ...]`` (default: every notebook).
Each notebook runs in a temporary working directory, so files it writes (Parquet,
figures) do not land in the repository.
"""

import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

import nbclient
import nbformat

TUTORIALS = Path(__file__).resolve().parent
#: Where the fingerprint lives in a notebook's metadata.
METADATA_KEY = "slicing"
FINGERPRINT_KEY = "code_sha256"


def code_fingerprint(notebook: nbformat.NotebookNode) -> str:
    """SHA-256 of the notebook's code cells' sources, in order (outputs excluded).

    Line endings are normalised, so a checkout with CRLF endings hashes the same.
    """
    sources = [
        cell.source.replace("\r\n", "\n")
        for cell in notebook.cells
        if cell.cell_type == "code"
    ]
    return hashlib.sha256(json.dumps(sources).encode()).hexdigest()


def stored_fingerprint(notebook: nbformat.NotebookNode) -> str | None:
    """The fingerprint saved by the last ``execute_in_place``, if any."""
    return notebook.metadata.get(METADATA_KEY, {}).get(FINGERPRINT_KEY)


def execute_in_place(path: Path) -> float:
    """Run ``path`` top to bottom and write it back with outputs; return seconds."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)  # timestamps of an earlier run
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        nbclient.NotebookClient(
            notebook,
            timeout=600,
            kernel_name="python3",
            record_timing=False,  # no timestamps: a re-run changes only real outputs
            resources={"metadata": {"path": workdir}},
        ).execute()
    notebook.metadata.setdefault(METADATA_KEY, {})[FINGERPRINT_KEY] = code_fingerprint(
        notebook
    )
    nbformat.write(notebook, path)
    return time.perf_counter() - started


def main(names: list[str]) -> None:
    paths = sorted(TUTORIALS.glob("*.ipynb"))
    if names:
        unknown = sorted(set(names) - {p.stem for p in paths} - {p.name for p in paths})
        if unknown:
            raise SystemExit(
                f"no tutorial named {unknown}; expected some of {[p.stem for p in paths]}"
            )
        paths = [p for p in paths if p.stem in names or p.name in names]
    for path in paths:
        print(f"{path.name}: {execute_in_place(path):.0f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
