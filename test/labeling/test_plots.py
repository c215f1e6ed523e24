import matplotlib
import numpy as np
import pytest

from slicing.labeling.analysis import LFSliceAnalysis
from slicing.labeling.plots import plot_lf_slice_heatmap
from slicing.labeling.synthetic import make_sliced_votes

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def summary():
    data = make_sliced_votes(3_000, 4, 2, seed=0)
    return LFSliceAnalysis(data.L, data.S, lfs=list("abcd")).lf_slice_summary(Y=data.Y)


def test_heatmap_draws_every_cell_and_saves(summary, tmp_path):
    import matplotlib.pyplot as plt

    ax = plot_lf_slice_heatmap(summary, "accuracy")
    image = ax.images[0]
    assert image.get_array().shape == (4, 3)
    assert [t.get_text() for t in ax.get_yticklabels()] == list("abcd")
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "overall",
        "slice_0",
        "slice_1",
    ]
    ax.figure.savefig(tmp_path / "heat.png")
    assert (tmp_path / "heat.png").stat().st_size > 0
    plt.close("all")


def test_relative_view_and_small_cells(summary):
    import matplotlib.pyplot as plt

    ax = plot_lf_slice_heatmap(
        summary, "accuracy", relative_to_overall=True, min_votes=10**6
    )
    assert ax.images[0].get_array().mask.all()  # every cell too small: all blank
    ax = plot_lf_slice_heatmap(summary, "coverage", relative_to_overall=True)
    np.testing.assert_allclose(ax.images[0].get_array()[:, 0], 0.0)
    assert "minus overall" in ax.get_title()
    with pytest.raises(ValueError, match="value must be a column"):
        plot_lf_slice_heatmap(summary, "nope")
    plt.close("all")
