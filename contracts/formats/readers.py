"""Reading what a file declares about itself without reading its data: NPZ member headers, a
Parquet footer, a CSV's first block, a safetensors JSON header. Nothing here loads an array or
unpickles anything, so a file of gigabytes is checked in milliseconds."""

from __future__ import annotations

import json
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from contracts.formats.errors import FormatError

# A safetensors header is JSON of a few kilobytes per tensor; beyond this it is no real header.
MAX_SAFETENSORS_HEADER = 100 * 2**20
SAFETENSORS_DTYPES = {"BOOL", "U8", "I8", "U16", "I16", "F16", "BF16", "U32", "I32", "F32", "U64", "I64", "F64",
                      "F8_E4M3", "F8_E5M2"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class ArrayHeader:
    dtype: np.dtype
    shape: tuple[int, ...]


def npz_headers(path: Path, name: str) -> dict[str, ArrayHeader]:
    """Every member's dtype and shape, from its ``.npy`` header; the member's size must match them."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise FormatError(f"{name}: is not an NPZ file (no zip archive)") from None
    headers = {}
    with archive:
        for info in archive.infolist():
            key = info.filename.removesuffix(".npy")
            if info.is_dir() or not info.filename.endswith(".npy"):
                raise FormatError(f"{name}: member {info.filename!r} is no .npy array")
            with archive.open(info) as member:
                try:
                    version = np.lib.format.read_magic(member)
                    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                        np.lib.format.read_array_header_2_0
                    shape, _, dtype = read(member)
                except ValueError as exc:
                    raise FormatError(f"{name}: key {key!r} has no valid .npy header ({exc})") from None
                if dtype.hasobject:
                    raise FormatError(f"{name}: key {key!r} holds Python objects (a pickle); arrays must be numbers")
                expected = member.tell() + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            if info.file_size != expected:
                raise FormatError(f"{name}: key {key!r} is truncated or padded: its header says {shape} "
                                  f"{dtype.name} ({expected:,} bytes with the header), the member has "
                                  f"{info.file_size:,}")
            headers[key] = ArrayHeader(dtype, tuple(shape))
    return headers


def table_schema(path: Path, name: str) -> tuple[dict[str, str], int | None]:
    """Column types (Arrow's names) and the row count (Parquet: from the footer; CSV: None)."""
    import pyarrow as pa
    import pyarrow.csv
    import pyarrow.parquet as pq

    try:
        if path.suffix == ".parquet":
            meta = pq.ParquetFile(path)
            schema, rows = meta.schema_arrow, meta.metadata.num_rows
        else:  # the first block only: types are inferred from it, the rest is not read
            with pyarrow.csv.open_csv(path) as reader:
                schema, rows = reader.schema, None
    except (pa.ArrowException, OSError) as exc:
        kind = "Parquet" if path.suffix == ".parquet" else "CSV"
        raise FormatError(f"{name}: is not a readable {kind} table ({type(exc).__name__})") from None
    return {field.name: str(field.type) for field in schema}, rows


def safetensors_header(path: Path, name: str) -> dict[str, dict]:
    """The tensors a safetensors file declares (dtype, shape, offsets), checked against its size.

    The layout: 8 bytes of little-endian header length, that many bytes of JSON, then the data,
    which the tensors' ``data_offsets`` must tile exactly.
    """
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise FormatError(f"{name}: has {size} bytes; a safetensors file starts with an 8-byte header length")
        (length,) = struct.unpack("<Q", head)
        if length > min(MAX_SAFETENSORS_HEADER, size - 8):
            raise FormatError(f"{name}: declares a {length:,}-byte header in a {size:,}-byte file")
        try:
            header = json.loads(fh.read(length))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise FormatError(f"{name}: its header is not JSON") from None
    if not isinstance(header, dict):
        raise FormatError(f"{name}: its header is not a JSON object")
    tensors = {key: value for key, value in header.items() if key != "__metadata__"}
    spans = []
    for key, tensor in tensors.items():
        if not isinstance(tensor, dict) or tensor.get("dtype") not in SAFETENSORS_DTYPES:
            raise FormatError(f"{name}: tensor {key!r} has no known dtype (one of {sorted(SAFETENSORS_DTYPES)})")
        shape, offsets = tensor.get("shape"), tensor.get("data_offsets")
        if not (isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape)):
            raise FormatError(f"{name}: tensor {key!r} has no shape of whole numbers")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)
                and 0 <= offsets[0] <= offsets[1]):
            raise FormatError(f"{name}: tensor {key!r} has no data_offsets [begin, end]")
        bits = 8 if tensor["dtype"].startswith("F8") or tensor["dtype"] in ("BOOL", "U8", "I8") else \
            int("".join(filter(str.isdigit, tensor["dtype"])))
        if offsets[1] - offsets[0] != int(np.prod(shape, dtype=np.int64)) * bits // 8:
            raise FormatError(f"{name}: tensor {key!r} spans {offsets[1] - offsets[0]:,} bytes; "
                              f"{tensor['dtype']} {shape} needs {int(np.prod(shape, dtype=np.int64)) * bits // 8:,}")
        spans.append(tuple(offsets))
    position = 0
    for begin, end in sorted(spans):
        if begin != position:
            raise FormatError(f"{name}: tensors overlap or leave a gap at byte {position:,} of the data")
        position = end
    if 8 + length + position != size:
        raise FormatError(f"{name}: the tensors end at byte {8 + length + position:,}; the file has {size:,}")
    return tensors


def count_lines(path: Path) -> int:
    """Newline-terminated lines, counted in 1 MiB blocks."""
    lines = 0
    with open(path, "rb") as fh:
        while block := fh.read(2**20):
            lines += block.count(b"\n")
    return lines


def is_png(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(8) == PNG_SIGNATURE
