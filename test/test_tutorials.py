"""Execute every tutorial notebook end to end, as a user would (offline).

Also checks that the committed outputs come from the committed code: each notebook
stores the fingerprint of the code cells it ran (``tutorials/execute_all.py``).
"""

import importlib.util
import shutil
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

TUTORIALS_DIR = Path(__file__).resolve().parent.parent / "tutorials"
TUTORIALS = sorted(TUTORIALS_DIR.glob("*.ipynb"))


def load_execute_all():
    spec = importlib.util.spec_from_file_location(
        "execute_all", TUTORIALS_DIR / "execute_all.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


execute_all = load_execute_all()


def test_there_are_tutorials():
    assert len(TUTORIALS) >= 1


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_is_committed_with_its_outputs(path):
    # Readers see results without running anything; rerun
    # ``python tutorials/execute_all.py NAME`` after editing a notebook.
    notebook = nbformat.read(path, as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    unexecuted = [
        i for i, cell in enumerate(code_cells) if not cell.get("execution_count")
    ]
    assert not unexecuted, f"{path.name}: code cells {unexecuted} have no outputs"
    assert not _error_outputs(code_cells)


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_outputs_come_from_the_committed_code(path):
    notebook = nbformat.read(path, as_version=4)
    stored = execute_all.stored_fingerprint(notebook)
    assert stored == execute_all.code_fingerprint(notebook), (
        f"{path.name}: "
        + (
            "its outputs carry no fingerprint of the code that made them"
            if stored is None
            else "its code cells changed since it was last executed"
        )
        + f"; run `python tutorials/execute_all.py {path.stem}` and commit the "
        "notebook with its new outputs"
    )


def test_the_fingerprint_sees_code_and_ignores_outputs():
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# title"),
            nbformat.v4.new_code_cell("x = 1"),
        ]
    )
    before = execute_all.code_fingerprint(notebook)
    notebook.cells[1].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    notebook.cells[1].execution_count = 3
    notebook.cells[0].source = "# another title"
    notebook.metadata["language_info"] = {"version": "3.99"}
    assert execute_all.code_fingerprint(notebook) == before
    notebook.cells[1].source = "x = 2"
    assert execute_all.code_fingerprint(notebook) != before


def test_executing_a_notebook_stores_its_fingerprint(tmp_path):
    path = tmp_path / "tiny.ipynb"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    nbformat.write(notebook, path)
    execute_all.execute_in_place(path)
    executed = nbformat.read(path, as_version=4)
    assert executed.cells[0].outputs[0]["data"]["text/plain"] == "2"
    assert "execution" not in executed.cells[0].metadata  # no timestamps
    assert execute_all.stored_fingerprint(executed) == execute_all.code_fingerprint(
        notebook
    )


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs_without_errors(path, tmp_path):
    if "spark" in path.stem and shutil.which("java") is None:
        pytest.skip("the Spark tutorial needs Java 17 or 21 (.ci/run installs it)")
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, with the failing cell, on any error
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.get("execution_count") for cell in code_cells)
    assert not _error_outputs(code_cells)


def _error_outputs(code_cells: list) -> list:
    return [
        output
        for cell in code_cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
