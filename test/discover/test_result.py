import numpy as np
import pandas as pd

from slicing.discover.search import find_slices


def test_table_has_one_statistics_row_per_slice():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.integers(0, 4, 1000), "b": rng.integers(0, 3, 1000)})
    errors = rng.random(1000) < np.where(frame.a == 2, 0.5, 0.1)
    result = find_slices(frame, errors, top_k=3, progress_bar=False)
    table = result.table()
    assert list(table.index) == [item.name for item in result]
    assert list(table.columns) == [
        "identifier",
        "level",
        "size",
        "share",
        "error",
        "error_low",
        "error_high",
        "error_lift",
        "score",
        "description",
    ]
    assert table["score"].is_monotonic_decreasing
    assert (table["share"] == table["size"] / 1000).all()
    assert result[0].name.startswith("a=2")
    assert repr(result).startswith("DiscoveryResult(")
    assert [sf.name for sf in result.to_sfs()] == list(table.index)
