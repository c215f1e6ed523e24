import pandas as pd

from slicing.estimate import estimate_performance, plot_performance_estimate
from test.estimate.synthetic import shifted_pair


def test_per_slice_plot_has_a_row_per_slice(tmp_path):
    data = shifted_pair(0, 500, 500)
    result = estimate_performance(
        data["source"], data["target"], data["correct"], n_resamples=50
    )
    truth = pd.Series({"overall": data["target_correct"].mean()})
    figure = plot_performance_estimate(result, truth=truth)
    assert len(figure.axes[0].get_yticklabels()) == 1 + data["source"].shape[1]
    figure.savefig(tmp_path / "estimate.png")
    assert (tmp_path / "estimate.png").stat().st_size > 0
