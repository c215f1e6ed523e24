"""Fixtures for batch-job tests: a small partitioned Parquet dataset and SF modules."""

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SF_MODULE = """
import time
from slicing import slicing_function

@slicing_function()
def short_comment(x):
    return len(x.text.split()) < 3

@slicing_function(vectorized=True)
def high_score(df):
    return df.score > 0.5

@slicing_function()
def fragile(x):
    return 1 / (x.score - 0.25) > 0

@slicing_function()
def slow_short(x):
    time.sleep(SLEEP)
    return len(x.text.split()) < 3

SLEEP = 0.0
SFS = [short_comment, high_score]
NOT_AN_SF = 42
"""


def make_rows(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    words = np.array(["please", "check", "song", "nice", "sub", "http"])
    lengths = rng.integers(1, 5, size=n)
    texts = [" ".join(rng.choice(words, size=k)) for k in lengths]
    scores = rng.choice([0.1, 0.25, 0.4, 0.6, 0.9], size=n)
    return pd.DataFrame(
        {"comment_id": np.arange(1000, 1000 + n), "text": texts, "score": scores}
    )


@pytest.fixture
def dataset(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    """Four Parquet files of 30 rows each, in a directory."""
    frame = make_rows(120)
    directory = tmp_path / "input"
    directory.mkdir()
    for part in range(4):
        frame.iloc[part * 30 : (part + 1) * 30].to_parquet(
            directory / f"part{part}.parquet"
        )
    return directory, frame


@pytest.fixture
def sf_module(tmp_path: Path) -> Path:
    path = tmp_path / "job_sfs.py"
    path.write_text(textwrap.dedent(SF_MODULE))
    return path


def slicing_command() -> list[str]:
    """The installed ``slicing`` console script (the real command), or ``-m``."""
    import shutil
    import sys

    script = Path(sys.executable).with_name("slicing")
    if script.exists():
        return [str(script)]
    found = shutil.which("slicing")
    return [found] if found else [sys.executable, "-m", "slicing.cli"]


def run_slicing(*args: object, timeout: float = 120, **kwargs):
    """Run ``slicing ARGS`` in a subprocess; return the CompletedProcess (text)."""
    import subprocess

    return subprocess.run(
        [*slicing_command(), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )


def apply_args(
    input_path: object, output: object, sfs: str, *extra: object
) -> list[str]:
    """``apply`` arguments on the threads scheduler, without a progress bar."""
    return [
        "apply",
        "--sfs",
        sfs,
        "--input",
        str(input_path),
        "--output",
        str(output),
        "--scheduler",
        "threads",
        "--no-progress",
        *map(str, extra),
    ]


def read_output(path: Path) -> pd.DataFrame:
    """The slice matrix of an output directory, partitions in order."""
    files = sorted(path.glob("part.*.parquet"))
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def expected_slices(
    frame: pd.DataFrame, sf_module: Path, spec: str = "SFS"
) -> pd.DataFrame:
    """The slice matrix of ``frame`` computed in memory with ``PandasSFApplier``."""
    from slicing.apply.pandas import PandasSFApplier
    from slicing.batch.loading import load_sfs

    S = PandasSFApplier(load_sfs(f"{sf_module}:{spec}")).apply(
        frame, progress_bar=False
    )
    return pd.DataFrame({name: S[name] for name in S.dtype.names})


def one_line_error(result) -> str:
    """stderr of a failed run, checked to be one line without a traceback."""
    err = result.stderr.strip()
    assert "Traceback" not in err, err
    assert len(err.splitlines()) == 1, err
    return err
