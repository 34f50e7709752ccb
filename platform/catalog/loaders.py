"""Reading a version's content inside the platform (jobs only; never served to users)."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd

from catalog import storage
from catalog.models import DatasetVersion

TABLE_SUFFIXES = (".parquet", ".csv")


def _data_files(version: DatasetVersion, suffixes: tuple[str, ...]) -> list[str]:
    return [f["path"] for f in version.manifest.get("files", []) if f["path"].endswith(suffixes)]


def load_arrays(version: DatasetVersion, keys: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
    """The arrays of a version's NPZ file(s) (only ``keys``, if given), concatenated along the first axis."""
    paths = _data_files(version, (".npz",))
    if not paths:
        raise ValueError(f"{version} has no .npz file to read arrays from")
    parts: dict[str, list[np.ndarray]] = {}
    for path in paths:
        with storage.open_version_file(version.storage_prefix, path) as fh:
            data = io.BytesIO(fh.read())
        # allow_pickle=False: a user's upload is never unpickled.
        with np.load(data, allow_pickle=False) as npz:
            for name in npz.files if keys is None else [k for k in keys if k in npz.files]:
                parts.setdefault(name, []).append(npz[name])
    return {name: np.concatenate(arrays) for name, arrays in parts.items()}


def load_table(version: DatasetVersion) -> pd.DataFrame:
    paths = _data_files(version, TABLE_SUFFIXES)
    if not paths:
        raise ValueError(f"{version} has no .parquet or .csv table")
    frames = []
    for path in paths:
        with storage.open_version_file(version.storage_prefix, path) as fh:
            frames.append(pd.read_parquet(fh) if path.endswith(".parquet") else pd.read_csv(fh))
    return pd.concat(frames, ignore_index=True)


def array_shapes(version: DatasetVersion) -> dict[str, dict[str, tuple[int, ...]]]:
    """The shape of every array in each of a version's NPZ files, by file and key, read from the
    arrays' headers only (no pixel is loaded: a job's ``prepare`` checks inputs in the web process)."""
    shapes: dict[str, dict[str, tuple[int, ...]]] = {}
    for path in _data_files(version, (".npz",)):
        with storage.open_version_file(version.storage_prefix, path) as fh, zipfile.ZipFile(fh) as archive:
            shapes[path] = {}
            for member in archive.namelist():
                if not member.endswith(".npy"):
                    continue
                with archive.open(member) as array:
                    major, _ = np.lib.format.read_magic(array)
                    read_header = (np.lib.format.read_array_header_1_0 if major == 1
                                   else np.lib.format.read_array_header_2_0)
                    shapes[path][member[:-4]] = tuple(read_header(array)[0])
    return shapes
