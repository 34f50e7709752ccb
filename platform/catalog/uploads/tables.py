"""Uploaded tables (CSV or Parquet) read within limits; Parquet types are checked from the footer first."""

from __future__ import annotations

import csv
import io
from typing import BinaryIO

import pandas as pd

from catalog.uploads.errors import Limits, UploadRefused


def _size(fh: BinaryIO) -> int:
    fh.seek(0, 2)
    size = fh.tell()
    fh.seek(0)
    return size


def _check_footer(fh: BinaryIO, limits: Limits) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(fh)
    except (pa.ArrowException, OSError) as exc:
        raise UploadRefused("file", f"is not a readable Parquet table ({type(exc).__name__})") from None
    expands = sum(meta.metadata.row_group(i).total_byte_size for i in range(meta.metadata.num_row_groups))
    if expands > limits.max_table_bytes:
        raise UploadRefused("file", f"the table holds {expands:,} bytes uncompressed, more than "
                                    f"{limits.max_table_bytes:,} (SYNTHREG_UPLOAD_MAX_TABLE_BYTES)", status=413)
    for field in meta.schema_arrow:
        kind = field.type
        plain = (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)
                 or pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_temporal(kind)
                 or pa.types.is_decimal(kind) or pa.types.is_null(kind)
                 or (pa.types.is_dictionary(kind) and pa.types.is_string(kind.value_type)))
        if not plain:
            raise UploadRefused("file", f"column {field.name!r} is {kind}; uploaded columns are numbers, "
                                        "booleans, strings, categories, dates or times")
    fh.seek(0)


def read_table(fh: BinaryIO, kind: str, limits: Limits) -> pd.DataFrame:
    """The whole table; CSV cells are read as text (the schema decides their types)."""
    if (size := _size(fh)) > limits.max_table_bytes:
        raise UploadRefused("file", f"the table is {size:,} bytes, more than {limits.max_table_bytes:,} "
                                    "(SYNTHREG_UPLOAD_MAX_TABLE_BYTES)", status=413)
    if kind == "parquet":
        _check_footer(fh, limits)
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            frame = pq.read_table(fh).to_pandas(ignore_metadata=True)
        except (pa.ArrowException, OSError) as exc:
            raise UploadRefused("file", f"is not a readable Parquet table ({type(exc).__name__})") from None
    else:
        try:
            text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
            try:
                frame = pd.read_csv(text, dtype=str, keep_default_na=True, skipinitialspace=True,
                                    quoting=csv.QUOTE_MINIMAL)
            finally:
                text.detach()
        except UnicodeDecodeError:
            raise UploadRefused("file", "is not UTF-8 text: save the CSV as UTF-8") from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
            # The parser's message may quote a line of the table: only its kind is shown.
            raise UploadRefused("file", f"is not a readable CSV table ({type(exc).__name__})") from None
    names = [str(name) for name in frame.columns]
    if any(not name.strip() or "\x00" in name for name in names):
        raise UploadRefused("file", "every column needs a name (no empty names or NUL characters)")
    if len(set(names)) != len(names):
        raise UploadRefused("file", "two columns have the same name")
    frame.columns = names
    if frame.empty:
        raise UploadRefused("file", "the table has no rows")
    return frame
