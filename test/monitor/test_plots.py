import subprocess
import sys

import matplotlib
import matplotlib.image
import numpy as np
import pytest
from matplotlib.figure import Figure

from slicing.matrix import make_slice_matrix
from slicing.monitor.analysis import SFAnalysis
from slicing.monitor.compare import compare_models, compare_slice_scores
from slicing.monitor.plots import (
    plot_slice_comparison,
    plot_slice_overlap,
    plot_slice_scores,
)
from slicing.monitor.scores import slice_scores


@pytest.fixture
def tables():
    rng = np.random.default_rng(0)
    n_rows = 400
    golds = rng.integers(0, 2, n_rows)
    indicators = rng.random((n_rows, 4)) < [0.3, 0.4, 0.02, 0.0]
    S = make_slice_matrix(indicators, ["hard", "long", "tiny", "empty"])
    vanilla = np.where(
        rng.random(n_rows) < np.where(indicators[:, 0], 0.6, 0.9), golds, 1 - golds
    )
    aware = np.where(rng.random(n_rows) < 0.9, golds, 1 - golds)
    return S, slice_scores(golds, S, preds=vanilla), slice_scores(golds, S, preds=aware)


def _check_png(fig, path):
    fig.savefig(path, dpi=60)
    assert path.stat().st_size > 5_000
    image = matplotlib.image.imread(path)
    height, width = image.shape[:2]
    assert height > 100 and width > 100
    assert image[..., :3].std() > 0.05  # not a blank canvas
    return image


def test_slice_scores_plot_renders_with_overall_line_and_support_labels(
    tables, tmp_path
):
    _, vanilla, _ = tables
    fig = plot_slice_scores(vanilla)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert [tick.get_text() for tick in ax.get_yticklabels()] == [
        "hard",
        "long",
        "tiny",
        "empty",
    ]
    overall_line = [line for line in ax.get_lines() if line.get_label() == "overall"]
    assert overall_line[0].get_xdata()[0] == pytest.approx(
        vanilla.at["overall", "accuracy"]
    )
    support_labels = [tick.get_text() for tick in ax.child_axes[0].get_yticklabels()]
    assert support_labels[0].startswith(f"n={vanilla.at['hard', 'n']}")
    assert support_labels[-1] == "n=0 (0%), empty"
    assert ax.get_title() == "accuracy per slice with 95% intervals"
    _check_png(fig, tmp_path / "scores.png")


def test_comparison_plot_renders_both_models(tables, tmp_path):
    _, vanilla, aware = tables
    comparison = compare_slice_scores(vanilla, aware, labels=("vanilla", "aware"))
    fig = plot_slice_comparison(comparison)
    ax = fig.axes[0]
    assert [text.get_text() for text in fig.legends[0].get_texts()] == [
        "vanilla",
        "aware",
    ]
    assert "hard *" in [tick.get_text() for tick in ax.get_yticklabels()]
    _check_png(fig, tmp_path / "comparison.png")
    golds = np.tile([0, 1], 100)
    S = make_slice_matrix(np.arange(200)[:, None] < 60, ["first"])
    paired = compare_models(
        golds, S, np.zeros(200, int), golds, labels=("rule", "model")
    )
    legend = plot_slice_comparison(paired).legends[0].get_texts()
    assert [text.get_text() for text in legend] == ["rule", "model"]
    with pytest.raises(ValueError, match="expected a table from compare_slice_scores"):
        plot_slice_comparison(vanilla)


def test_overlap_heat_map_renders_counts_and_jaccard(tables, tmp_path):
    S, _, _ = tables
    fig = plot_slice_overlap(S, value="count")
    image = np.ma.filled(fig.axes[0].get_images()[0].get_array(), np.nan)
    expected = SFAnalysis(S).overlap_counts().to_numpy().astype(float)
    np.fill_diagonal(expected, np.nan)
    np.testing.assert_array_equal(image, expected)
    cell_texts = [text.get_text() for text in fig.axes[0].texts]
    assert cell_texts[0] == f"n={int(S['hard'].sum())}"
    assert cell_texts[1] == str(int((S["hard"] & S["long"]).sum()))
    _check_png(fig, tmp_path / "overlap.png")
    _check_png(plot_slice_overlap(SFAnalysis(S)), tmp_path / "jaccard.png")
    with pytest.raises(
        ValueError, match="value must be 'jaccard' or 'count'; got 'dice'"
    ):
        plot_slice_overlap(S, value="dice")


def test_plot_scores_rejects_tables_it_cannot_read(tables):
    _, vanilla, _ = tables
    with pytest.raises(ValueError, match="expected a score table from slice_scores"):
        plot_slice_scores(vanilla, metric="f1")


def test_importing_and_plotting_leave_pyplot_and_the_backend_alone():
    script = (
        "import sys, matplotlib\n"
        "backend = dict.__getitem__(matplotlib.rcParams, 'backend')\n"
        "import numpy as np\n"
        "from slicing.matrix import make_slice_matrix\n"
        "from slicing.monitor.plots import plot_slice_overlap\n"
        "plot_slice_overlap(make_slice_matrix(np.ones((3, 2), bool), ['a', 'b']))\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
        "assert dict.__getitem__(matplotlib.rcParams, 'backend') == backend\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
