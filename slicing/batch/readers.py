"""Partition readers of the batch input: one task per Parquet file (or group of row
groups) or per byte range of a CSV file, each naming its file when it fails.

The up-front checks read only Parquet footers and CSV header lines; what can only
fail while reading (a value of the wrong type, a vanished file) raises
:class:`InputFileError` from inside the Dask task, which pickles back to the client.
"""

import io
import json
import os
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from dask.utils import parse_bytes

from slicing.batch.errors import InputFileError

__all__ = ["csv_pieces", "parquet_pieces", "read_piece"]

CSV_BLOCK = "64MB"
CSV_META_ROWS = 1000


def _kind(arrow_type: pa.DataType) -> str:
    """A coarse type class: files may differ in width (int32/int64), not in kind."""
    if pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type):
        return "number"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "string"
    if pa.types.is_null(arrow_type):
        return "null"
    return str(arrow_type)


def _parquet_schemas(paths: list[str]) -> list[pq.ParquetFile]:
    files = []
    for path in paths:
        try:
            files.append(pq.ParquetFile(path))
        except Exception as exc:  # noqa: BLE001 - any unreadable footer is bad input
            raise InputFileError(
                f"input file {path!r} is not a readable Parquet file "
                f"({type(exc).__name__}: {exc})"
            ) from exc
    return files


def _check_columns(
    path: str, columns: dict[str, str], first: str, expected: dict[str, str]
) -> None:
    missing = [c for c in expected if c not in columns]
    if missing:
        raise InputFileError(
            f"schema drift: input file {path!r} has no column {missing[0]!r} "
            f"(the first file, {first!r}, has it; this file has {list(columns)})"
        )
    for column, kind in expected.items():
        if kind != "null" and columns[column] not in (kind, "null"):
            raise InputFileError(
                f"schema drift: column {column!r} is {columns[column]} in input file "
                f"{path!r} but {kind} in the first file, {first!r}"
            )


def parquet_pieces(
    paths: list[str], partition_size: str | None
) -> tuple[list[tuple], pd.DataFrame]:
    files = _parquet_schemas(paths)
    first = files[0].schema_arrow
    expected = {
        name: _kind(first.field(name).type)
        for name in first.names
        if name not in _index_columns(first)
    }
    for path, parquet in zip(paths, files):
        schema = parquet.schema_arrow
        _check_columns(
            path,
            {n: _kind(schema.field(n).type) for n in schema.names},
            paths[0],
            expected,
        )
    meta = first.empty_table().to_pandas()
    limit = parse_bytes(partition_size) if partition_size else None
    pieces: list[tuple[str, str, Any]] = []
    for path, parquet in zip(paths, files):
        groups = list(range(parquet.metadata.num_row_groups))
        if limit is None or len(groups) <= 1:
            pieces.append(("parquet", path, None))
            continue
        batch: list[int] = []
        size = 0
        for group in groups:
            batch.append(group)
            size += parquet.metadata.row_group(group).total_byte_size
            if size >= limit:
                pieces.append(("parquet", path, tuple(batch)))
                batch, size = [], 0
        if batch:
            pieces.append(("parquet", path, tuple(batch)))
    return pieces, meta


def _index_columns(schema: pa.Schema) -> list[str]:
    metadata = (schema.metadata or {}).get(b"pandas")
    if not metadata:
        return []
    return [
        c for c in json.loads(metadata).get("index_columns", []) if isinstance(c, str)
    ]


def csv_pieces(
    paths: list[str], partition_size: str | None, sep: str
) -> tuple[list[tuple], pd.DataFrame]:
    try:
        meta = pd.read_csv(paths[0], sep=sep, nrows=CSV_META_ROWS).iloc[:0]
    except Exception as exc:  # noqa: BLE001 - any parse failure is bad input
        raise InputFileError(f"cannot read CSV input file {paths[0]!r}: {exc}") from exc
    expected = {c: _dtype_kind(meta[c].dtype) for c in meta.columns}
    block = parse_bytes(partition_size or CSV_BLOCK)
    pieces = []
    for path in paths:
        try:
            header = pd.read_csv(path, sep=sep, nrows=0).columns
        except Exception as exc:  # noqa: BLE001
            raise InputFileError(f"cannot read CSV input file {path!r}: {exc}") from exc
        _check_columns(
            path, {c: "null" for c in header}, paths[0], {c: "null" for c in expected}
        )
        size = os.path.getsize(path)
        compressed = path.endswith(".gz")
        starts = [0] if compressed else list(range(0, max(size, 1), block))
        for start in starts:
            stop = size if compressed else min(start + block, size)
            pieces.append(("csv", path, (start, stop, compressed)))
    return pieces, meta


def _dtype_kind(dtype: Any) -> str:
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    return "other"


def _read_csv_range(
    path: str, start: int, stop: int, compressed: bool, sep: str
) -> pd.DataFrame:
    if compressed:
        return pd.read_csv(path, sep=sep)
    with open(path, "rb") as handle:
        header = handle.readline()
        if start > 0:
            handle.seek(start - 1)
            handle.readline()  # the line holding ``start`` belongs to the previous range
        lines = []
        while handle.tell() < stop:
            line = handle.readline()
            if not line:
                break
            lines.append(line)
    return pd.read_csv(io.BytesIO(header + b"".join(lines)), sep=sep)


def _conform(frame: pd.DataFrame, meta: pd.DataFrame, path: str) -> pd.DataFrame:
    """Cast ``frame``'s columns to ``meta``'s dtypes; name the file, column and value
    that do not fit."""
    frame = frame[list(meta.columns)]
    for column in meta.columns:
        wanted = meta[column].dtype
        values = frame[column]
        if values.dtype == wanted:
            continue
        if _dtype_kind(wanted) == "number" and _dtype_kind(values.dtype) != "number":
            numbers = pd.to_numeric(values, errors="coerce")
            bad = values[numbers.isna() & values.notna()]
            if len(bad):
                raise InputFileError(
                    f"input file {path!r}: column {column!r} holds {bad.iloc[0]!r}, "
                    f"which is not a number (the column is {wanted} in the first file)"
                )
            values = numbers
        try:
            frame[column] = values.astype(wanted)
        except (TypeError, ValueError):
            frame[column] = values  # e.g. ints with missing values stay float
    return frame


def read_piece(piece: tuple, meta: pd.DataFrame, sep: str) -> pd.DataFrame:
    """Read one partition; any failure names the file (a picklable InputFileError)."""
    kind, path, where = piece
    try:
        if kind == "parquet":
            parquet = pq.ParquetFile(path)
            groups = where if where is not None else range(parquet.num_row_groups)
            frame = parquet.read_row_groups(
                groups, columns=list(meta.columns), use_pandas_metadata=True
            ).to_pandas()
        else:
            start, stop, compressed = where
            frame = _read_csv_range(path, start, stop, compressed, sep)
    except FileNotFoundError as exc:
        raise InputFileError(
            f"input file {path!r} disappeared while the job ran"
        ) from exc
    except Exception as exc:  # noqa: BLE001 - any read failure is bad input
        raise InputFileError(
            f"cannot read input file {path!r}: {type(exc).__name__}: {exc}"
        ) from exc
    return _conform(frame, meta, path)
