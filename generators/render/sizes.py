"""Sizes of the files renderers write, computed from shapes and dtypes (for estimates)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

NPY_HEADER = 128  # a version 1.0 .npy header for up to four dimensions, padded to 64 bytes
# Per member of an uncompressed zip written with force_zip64 (np.savez, write_npz): the local
# header (30) with its zip64 extra field (20) and the central directory entry (46), each with
# the name; and the end-of-archive record (22).
ZIP_MEMBER = 96
ZIP_END = 22


def npz_bytes(members: Mapping[str, tuple[int, type | np.dtype]]) -> int:
    """The size of an uncompressed ``.npz`` holding, per name, that many elements of that dtype."""
    return ZIP_END + sum(NPY_HEADER + ZIP_MEMBER + 2 * len(f"{name}.npy") + count * np.dtype(dtype).itemsize
                         for name, (count, dtype) in members.items())
