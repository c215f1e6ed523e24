import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from slicing.estimate import (
    estimate_over_time,
    estimate_performance,
    plot_estimates_over_time,
)
from test.estimate.synthetic import shifted_pair


def drifting_log(data: dict, days: int = 4) -> pd.DataFrame:
    target = data["target"].copy()
    target["time"] = pd.Timestamp("2024-03-01") + pd.to_timedelta(
        np.arange(len(target)) % days, unit="D"
    )
    labeled = np.arange(len(target)) % 10 == 0
    target["label"] = np.where(labeled, 1.0, np.nan)
    target["pred"] = data["target_correct"].astype(int)
    return target


def test_each_window_is_the_estimate_on_its_rows():
    data = shifted_pair(0, 1500, 2000)
    log = drifting_log(data)
    table = estimate_over_time(
        data["source"],
        dd.from_pandas(log, npartitions=3),
        data["correct"],
        time_column="time",
        label_column="label",
        pred_column="pred",
        n_resamples=40,
        scheduler="synchronous",
    )
    assert len(table) == 4 and table["target_rows"].sum() == 2000
    first = log[log.time == log.time.min()]
    direct = estimate_performance(
        data["source"], first[data["source"].columns], data["correct"], n_resamples=40
    )
    assert table["accuracy"].iloc[0] == pytest.approx(direct.estimate())
    labeled = first[first.label.notna()]
    assert table["labeled_rows"].iloc[0] == len(labeled)
    assert table["labeled_accuracy"].iloc[0] == pytest.approx(labeled.pred.mean())
    figure = plot_estimates_over_time(table)
    assert figure.axes[0].get_ylabel() == "accuracy"


def test_missing_log_columns_are_named():
    data = shifted_pair(1, 100, 100)
    with pytest.raises(ValueError, match=r"no columns \['when'\]"):
        estimate_over_time(
            data["source"], data["target"], data["correct"], time_column="when"
        )
