"""NPZ files with byte-identical output: ``np.savez`` stamps the current time into the zip.

Arrays may be given as lists of parts along the first axis; the parts are written one
after the other into a single member, so a shard is never concatenated in memory.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

_EPOCH = (1980, 1, 1, 0, 0, 0)


def write_npz(path: Path, arrays: dict[str, np.ndarray | list[np.ndarray]]) -> None:
    """Write ``arrays`` as an uncompressed ``.npz`` that ``np.load`` reads as usual."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, value in arrays.items():
            parts = value if isinstance(value, list) else [value]
            header = np.lib.format.header_data_from_array_1_0(parts[0])
            header["shape"] = (sum(len(p) for p in parts), *parts[0].shape[1:])
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_EPOCH)
            with archive.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array_header_1_0(member, header)
                for part in parts:
                    member.write(np.ascontiguousarray(part, dtype=parts[0].dtype).data)  # no bytes copy
