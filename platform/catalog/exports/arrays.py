"""Rows of a version's NPZ arrays, read a batch at a time straight from the stored zip members.

``np.load`` reads a whole member into memory; here each ``.npy`` header is parsed and rows are
read in slices, so a version of any size streams in a few MB.
"""

from __future__ import annotations

import math
import zipfile
from collections.abc import Iterator

import numpy as np

from catalog import storage
from catalog.models import DatasetVersion


def npz_paths(version: DatasetVersion) -> list[str]:
    return [f["path"] for f in version.manifest.get("files", []) if f["path"].endswith(".npz")]


def _npy_header(member) -> tuple[tuple[int, ...], np.dtype]:
    major, _ = np.lib.format.read_magic(member)
    read_header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
    shape, fortran, dtype = read_header(member)
    if fortran or dtype.hasobject or not shape:
        raise ValueError(f"{member.name} is not a C-ordered array of numbers with a first axis")
    return shape, dtype


def _npy_batches(member, shape: tuple[int, ...], dtype: np.dtype, rows: int) -> Iterator[np.ndarray]:
    row_shape = shape[1:]
    row_bytes = math.prod(row_shape) * dtype.itemsize
    left = shape[0]
    while left > 0:
        count = min(rows, left)
        data = member.read(count * row_bytes)
        if len(data) != count * row_bytes:
            raise ValueError(f"{member.name} ends before its {shape[0]} rows")
        left -= count
        yield np.frombuffer(data, dtype=dtype).reshape(count, *row_shape)


def iter_batches(version: DatasetVersion, names: tuple[str, ...], batch_bytes: int = 1 << 20
                 ) -> Iterator[dict[str, np.ndarray]]:
    """Aligned batches of the named arrays (about ``batch_bytes`` each), file after file in manifest order."""
    for path in npz_paths(version):
        with storage.open_version_file(version.storage_prefix, path) as fh, zipfile.ZipFile(fh) as npz:
            members = [npz.open(f"{name}.npy") for name in names]
            try:
                headers = [_npy_header(m) for m in members]
                widest = max(math.prod(shape[1:]) * dtype.itemsize for shape, dtype in headers)
                rows = max(1, batch_bytes // widest)
                batches = (_npy_batches(m, shape, dtype, rows) for m, (shape, dtype) in zip(members, headers, strict=True))
                for batch in zip(*batches, strict=True):
                    yield dict(zip(names, batch, strict=True))
            finally:
                for member in members:
                    member.close()


def row_count(version: DatasetVersion, name: str = "labels") -> int:
    """Rows of array ``name`` across the version's NPZ files, from the ``.npy`` headers alone."""
    total = 0
    for path in npz_paths(version):
        with storage.open_version_file(version.storage_prefix, path) as fh, zipfile.ZipFile(fh) as npz, \
                npz.open(f"{name}.npy") as member:
            total += _npy_header(member)[0][0]
    return total
