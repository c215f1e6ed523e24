"""Reading a batch job's input file by file (``slicing/batch/io.py``)."""

import os

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from slicing.batch.errors import BatchInputError, InputFileError
from slicing.batch.io import fingerprint_files, read_input, write_atomically
from test.batch.conftest import make_rows


def test_one_partition_per_parquet_file_in_order(dataset):
    directory, frame = dataset
    data = read_input(str(directory))
    assert data.frame.npartitions == 4 and len(data.files) == 4
    pd.testing.assert_frame_equal(
        data.frame.compute().reset_index(drop=True),
        frame.reset_index(drop=True),
        check_dtype=False,  # Dask reads text as pyarrow strings
    )


def test_partition_size_splits_parquet_at_row_groups(tmp_path):
    frame = make_rows(100)
    pq.write_table(
        pa.Table.from_pandas(frame), tmp_path / "a.parquet", row_group_size=10
    )
    data = read_input(str(tmp_path / "a.parquet"), partition_size="1B")
    assert data.frame.npartitions == 10
    assert data.frame.compute().comment_id.tolist() == frame.comment_id.tolist()


@pytest.mark.parametrize("block", ["1KB", "700B", "64MB"])
def test_csv_byte_ranges_keep_every_line_once(tmp_path, block):
    frame = make_rows(200)
    frame.to_csv(tmp_path / "a.csv", index=False)
    data = read_input(str(tmp_path / "a.csv"), partition_size=block)
    got = data.frame.compute().reset_index(drop=True)
    pd.testing.assert_frame_equal(got, frame, check_dtype=False)


def test_zero_row_files_are_partitions_of_zero_rows(tmp_path):
    frame = make_rows(20)
    frame.to_parquet(tmp_path / "a.parquet")
    frame.iloc[:0].to_parquet(tmp_path / "b.parquet")
    frame.to_parquet(tmp_path / "c.parquet")
    data = read_input(str(tmp_path))
    assert data.frame.npartitions == 3
    assert len(data.frame.partitions[1].compute()) == 0
    assert len(data.frame.compute()) == 40


def test_every_file_is_checked_up_front(tmp_path):
    frame = make_rows(20)
    frame.to_parquet(tmp_path / "a.parquet")
    frame.rename(columns={"text": "body"}).to_parquet(tmp_path / "b.parquet")
    with pytest.raises(InputFileError, match="b.parquet' has no column 'text'"):
        read_input(str(tmp_path))
    frame.astype({"score": str}).to_parquet(tmp_path / "b.parquet")
    with pytest.raises(InputFileError, match="column 'score' is string in input file"):
        read_input(str(tmp_path))
    # Extra columns in a later file are fine (only the first file's are read).
    frame.assign(extra=1).to_parquet(tmp_path / "b.parquet")
    assert list(read_input(str(tmp_path)).frame.columns) == list(frame.columns)


def test_missing_inputs_and_formats(tmp_path):
    with pytest.raises(BatchInputError, match="does not exist"):
        read_input(str(tmp_path / "nope"))
    with pytest.raises(BatchInputError, match="matches no files"):
        read_input(str(tmp_path / "*.parquet"))
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(BatchInputError, match="pass --format"):
        read_input(str(tmp_path / "a.txt"))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.parquet").mkdir()
    with pytest.raises(BatchInputError, match="is a directory"):
        read_input(str(tmp_path / "sub"))


def test_a_file_deleted_after_the_check_is_named_at_compute_time(tmp_path):
    make_rows(10).to_parquet(tmp_path / "a.parquet")
    data = read_input(str(tmp_path / "a.parquet"))
    os.remove(tmp_path / "a.parquet")
    with pytest.raises(
        InputFileError, match="a.parquet' disappeared while the job ran"
    ):
        data.frame.compute()


def test_fingerprints_see_an_edit_that_keeps_size_and_time(tmp_path):
    path = tmp_path / "a.parquet"
    make_rows(10).to_parquet(path)
    before = fingerprint_files([str(path)], "parquet")[0]
    stat = os.stat(path)
    changed = make_rows(10).assign(score=0.5)
    changed.to_parquet(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    after = fingerprint_files([str(path)], "parquet")[0]
    assert before != after and "Parquet footer" in before.changes(after)


def test_write_atomically_leaves_nothing_behind_on_failure(tmp_path):
    def fail(path):
        path.write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        write_atomically(tmp_path / "x.json", fail)
    assert list(tmp_path.iterdir()) == []
