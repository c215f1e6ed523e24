"""Execute every tutorial notebook and save it with its outputs (run after editing one).

The notebooks are committed with their outputs so that readers see the results
without running them; ``test/test_tutorials.py`` executes them again on every test
run and checks that the committed copies carry outputs.

Usage: ``python tutorials/execute_all.py [NAME ...]`` (default: every notebook).
Each notebook runs in a temporary working directory, so files it writes (Parquet,
figures) do not land in the repository.
"""

import sys
import tempfile
import time
from pathlib import Path

import nbclient
import nbformat

TUTORIALS = Path(__file__).resolve().parent


def execute_in_place(path: Path) -> float:
    """Run ``path`` top to bottom and write it back with outputs; return seconds."""
    notebook = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        nbclient.NotebookClient(
            notebook,
            timeout=600,
            kernel_name="python3",
            resources={"metadata": {"path": workdir}},
        ).execute()
    nbformat.write(notebook, path)
    return time.perf_counter() - started


def main(names: list[str]) -> None:
    paths = sorted(TUTORIALS.glob("*.ipynb"))
    if names:
        paths = [p for p in paths if p.stem in names or p.name in names]
    for path in paths:
        print(f"{path.name}: {execute_in_place(path):.0f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
