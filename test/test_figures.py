"""Figures show as pictures in Jupyter and leave ``pyplot`` alone in scripts."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from slicing.figures import DisplayAxes, DisplayFigure, figure_png, new_figure

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: A score table and its plot as a notebook cell's last expression.
PLOT_CELL = textwrap.dedent(
    """
    import numpy as np
    from slicing import make_slice_matrix, plot_slice_scores, slice_scores

    S = make_slice_matrix(np.arange(40)[:, None] < 10, ["first"])
    table = slice_scores(np.tile([0, 1], 20), S, preds=np.zeros(40, int))
    plot_slice_scores(table)
    """
)

#: The LF x slice heat map returns its axes; they display as their figure.
HEATMAP_CELL = textwrap.dedent(
    """
    from slicing import LFSliceAnalysis, plot_lf_slice_heatmap

    S = make_slice_matrix(np.array([[True], [False]] * 5), ["short"])
    summary = LFSliceAnalysis(np.array([[1, 0], [1, -1]] * 5), S).lf_slice_summary()
    plot_lf_slice_heatmap(summary, "coverage")
    """
)


def test_a_new_figure_renders_png_and_saves(tmp_path):
    fig = new_figure((3, 2))
    fig.add_subplot().plot([0, 1], [0, 1])
    assert isinstance(fig, DisplayFigure)
    assert fig._repr_png_().startswith(PNG_SIGNATURE)
    fig.savefig(tmp_path / "figure.png")
    fig.savefig(tmp_path / "figure.svg")
    assert (tmp_path / "figure.png").read_bytes().startswith(PNG_SIGNATURE)
    assert b"<svg" in (tmp_path / "figure.svg").read_bytes()


def test_display_axes_render_their_whole_figure():
    fig = new_figure((3, 2))
    ax = fig.add_subplot(axes_class=DisplayAxes)
    ax.plot([0, 1], [0, 1])
    png = ax._repr_png_()
    assert png.startswith(PNG_SIGNATURE)
    width, height = (int.from_bytes(png[at : at + 4], "big") for at in (16, 20))
    assert 250 < width < 350 and 150 < height < 250  # the whole 3 x 2 in figure
    assert figure_png(fig).startswith(PNG_SIGNATURE)


def test_plot_functions_return_displayable_figures():
    from slicing.matrix import make_slice_matrix
    from slicing.monitor.plots import plot_slice_scores
    from slicing.monitor.scores import slice_scores

    S = make_slice_matrix(np.arange(40)[:, None] < 10, ["first"])
    table = slice_scores(np.tile([0, 1], 20), S, preds=np.zeros(40, int))
    assert plot_slice_scores(table)._repr_png_().startswith(PNG_SIGNATURE)


def test_plotting_in_a_script_does_not_import_pyplot():
    # A library must not pick a backend or open pyplot's figure list for its users.
    script = PLOT_CELL + textwrap.dedent(
        """
        import sys, tempfile, os
        fig = plot_slice_scores(table)
        fig.savefig(os.path.join(tempfile.mkdtemp(), "scores.png"))
        fig._repr_png_()
        assert "matplotlib.pyplot" not in sys.modules, "pyplot was imported"
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def image_outputs(cell) -> list[dict]:
    return [
        output
        for output in cell.get("outputs", [])
        if any(key.startswith("image/") for key in output.get("data", {}))
    ]


@pytest.mark.parametrize(
    "magic", ["", "%matplotlib inline\n"], ids=["no pyplot", "inline backend"]
)
def test_a_notebook_shows_one_picture_of_a_plot(tmp_path, magic):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(magic + PLOT_CELL.strip()),
        nbformat.v4.new_code_cell(HEATMAP_CELL.strip()),
    ]
    nbclient.NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    for cell in notebook.cells:
        images = image_outputs(cell)
        assert len(images) == 1, cell.outputs
        assert images[0]["output_type"] == "execute_result"
        assert "image/png" in images[0]["data"]
