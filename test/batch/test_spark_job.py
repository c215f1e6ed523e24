"""``slicing apply --engine spark`` (``slicing/batch/spark_job.py``): the Dask engine's
output, with the partitions run as Spark tasks on the test session."""

import json

import pandas as pd
import pytest

from slicing.cli import main
from test.batch.conftest import read_output
from test.spark_conftest import spark  # noqa: F401 - the session fixture

# PySpark warns about pandas >= 3 when it converts data itself; these tests pass
# Arrow tables, and the package converts Arrow batches with pyarrow.
pytestmark = pytest.mark.filterwarnings(
    "ignore:PySpark does not yet fully support pandas:FutureWarning"
)

FLAGGED_SFS = """
import os
from slicing import slicing_function

FLAG = {flag!r}

@slicing_function()
def flagged(x):
    if os.path.exists(FLAG) and x.comment_id >= 1090:
        raise ValueError("flag is up")
    return x.score > 0.5
"""


def apply_args(directory, output, sfs, *extra):
    return [
        "apply",
        "--sfs",
        str(sfs),
        "--input",
        str(directory),
        "--output",
        str(output),
        "--no-progress",
        *map(str, extra),
    ]


def test_the_spark_engine_writes_the_dask_engines_output(
    spark,  # noqa: F811
    dataset,
    sf_module,
    tmp_path,
):
    directory, _ = dataset
    options = ["--id-column", "comment_id", "--fault-tolerant"]  # fragile faults
    by_dask = tmp_path / "dask.parquet"
    by_spark = tmp_path / "spark.parquet"
    assert (
        main(
            apply_args(
                directory, by_dask, sf_module, "--scheduler", "threads", *options
            )
        )
        == 0
    )
    assert (
        main(apply_args(directory, by_spark, sf_module, "--engine", "spark", *options))
        == 0
    )
    assert sorted(p.name for p in by_spark.iterdir()) == sorted(
        p.name for p in by_dask.iterdir()
    )
    pd.testing.assert_frame_equal(read_output(by_spark), read_output(by_dask))
    assert json.loads((by_spark / "_manifest.json").read_text()) == json.loads(
        (by_dask / "_manifest.json").read_text()
    )
    summaries = [
        json.loads((out / "_summary.json").read_text()) for out in (by_dask, by_spark)
    ]
    for summary in summaries:
        del summary["seconds"], summary["output"]
    assert summaries[0] == summaries[1]
    assert summaries[1]["faults"]["fragile"] > 0 and summaries[1]["rows"] == 120


def test_an_sf_failure_on_spark_is_one_message_and_resume_finishes(
    spark,  # noqa: F811
    dataset,
    tmp_path,
    capsys,
):
    directory, _ = dataset
    flag = tmp_path / "flag"
    flag.touch()
    module = tmp_path / "flagged.py"
    module.write_text(FLAGGED_SFS.format(flag=str(flag)))
    output = tmp_path / "out.parquet"
    args = apply_args(
        directory, output, module, "--engine", "spark", "--id-column", "comment_id"
    )
    assert main(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith(
        "slicing apply: SF failure: SF 'flagged' raised ValueError"
    )
    assert "(comment_id 1090)" in err[0] and err[0].endswith("flag is up")
    assert len(err) == 2 and "Traceback" not in err[0] and "org.apache" not in err[0]
    assert not output.exists() and (tmp_path / ".out.parquet.partial").is_dir()

    flag.unlink()
    assert main([*args, "--resume"]) == 0
    result = read_output(output)
    assert len(result) == 120 and result.comment_id.is_monotonic_increasing


def test_spark_options_are_checked(dataset, sf_module, tmp_path, capsys):
    directory, _ = dataset
    out = tmp_path / "o"
    assert (
        main(apply_args(directory, out, sf_module, "--spark-master", "local[1]")) == 2
    )
    assert "--spark-master needs --engine spark" in capsys.readouterr().err
    assert (
        main(
            apply_args(
                directory, out, sf_module, "--engine", "spark", "--scheduler", "threads"
            )
        )
        == 2
    )
    assert "with --engine spark use --spark-master" in capsys.readouterr().err
