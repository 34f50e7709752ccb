"""Image versions as PNG files: a folder plus labels (zip), WebDataset tar, rows for Parquet.

Pixels: uint8 arrays are written as they are. Float images are scaled to 0..255 from their
format's range, 0..16 for the 8x8 block counts (the scikit-learn digits format) and 0..1
otherwise, so ``round(png * 16 / 255)`` gives the 8x8 values back exactly.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
from PIL import Image

from catalog.exports.arrays import iter_batches
from catalog.models import DatasetVersion
from catalog.zipstream import stream_zip

_BLOCK_COUNT_MAX = 16.0


def pixel_max(version: DatasetVersion) -> float:
    """The value of a float image drawn as white (uint8 images are kept as they are)."""
    return _BLOCK_COUNT_MAX if version.parameters.get("mode") == "8x8" else 1.0


def to_uint8(images: np.ndarray, white: float) -> np.ndarray:
    """(N, H, W) or (N, C, H, W) with C of 1 or 3 -> (N, H, W) or (N, H, W, C) uint8."""
    if images.ndim == 4:
        if images.shape[1] not in (1, 3):
            raise ValueError(f"images have {images.shape[1]} bands; PNG takes 1 or 3")
        images = images[:, 0] if images.shape[1] == 1 else np.moveaxis(images, 1, -1)
    if images.dtype == np.uint8:
        return images
    # One float32 copy, rounded and clipped in place: exact for 0..255 and half the memory of float64.
    scaled = np.multiply(images, 255.0 / white, dtype=np.float32)
    np.rint(scaled, out=scaled)
    return np.clip(scaled, 0, 255, out=scaled).astype(np.uint8)


def png_bytes(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG", compress_level=1)  # fast: pixels are small and noisy
    return out.getvalue()


def iter_samples(version: DatasetVersion) -> Iterator[tuple[str, bytes, int]]:
    """(key, PNG, label) of every image, in order; the key is the running index, zero-padded."""
    white, index = pixel_max(version), 0
    for batch in iter_batches(version, ("images", "labels")):
        pixels = to_uint8(batch["images"], white)
        for image, label in zip(pixels, batch["labels"].tolist(), strict=True):
            yield f"{index:08d}", png_bytes(image), int(label)
            index += 1


def _labels_csv(version: DatasetVersion) -> Iterator[bytes]:
    yield b"file_name,label\n"
    index = 0
    for batch in iter_batches(version, ("labels",)):
        labels = batch["labels"].tolist()
        yield "".join(f"images/{index + i:08d}.png,{int(label)}\n" for i, label in enumerate(labels)).encode()
        index += len(labels)


def write_png_zip(version: DatasetVersion) -> Iterator[bytes]:
    """``labels.csv`` (file_name, label) first, then ``images/<key>.png``."""
    yield from stream_zip(_png_members(version), modified=version.created_at)


def _png_members(version: DatasetVersion) -> Iterator[tuple[str, Iterator[bytes] | list[bytes]]]:
    yield "labels.csv", _labels_csv(version)
    for key, png, _ in iter_samples(version):
        yield f"images/{key}.png", [png]


def _tar_member(name: str, data: bytes, mtime: float) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), mtime, 0o644
    return info.tobuf(format=tarfile.USTAR_FORMAT) + data + b"\0" * (-len(data) % tarfile.BLOCKSIZE)


def write_webdataset(version: DatasetVersion) -> Iterator[bytes]:
    """One WebDataset shard: ``<key>.png`` and ``<key>.cls`` (the label as text) per sample.

    Written record by record (no ``TarFile``, which keeps every member's header in memory)."""
    mtime = version.created_at.timestamp()
    for key, png, label in iter_samples(version):
        yield _tar_member(f"{key}.png", png, mtime) + _tar_member(f"{key}.cls", str(label).encode(), mtime)
    yield b"\0" * (2 * tarfile.BLOCKSIZE)


IMAGE_ROW = pa.schema([("image", pa.struct([("bytes", pa.binary()), ("path", pa.string())])),
                       ("label", pa.int64())])


def image_batches(version: DatasetVersion, rows: int = 2048) -> Iterator[pa.RecordBatch]:
    """Rows of ``image`` (``{bytes, path}``: the Hugging Face Image layout) and ``label``."""
    keys, pngs, labels = [], [], []
    for key, png, label in iter_samples(version):
        keys.append(f"{key}.png")
        pngs.append(png)
        labels.append(label)
        if len(labels) == rows:
            yield _image_batch(keys, pngs, labels)
            keys, pngs, labels = [], [], []
    if labels:
        yield _image_batch(keys, pngs, labels)


def _image_batch(keys: list[str], pngs: list[bytes], labels: list[int]) -> pa.RecordBatch:
    image = pa.StructArray.from_arrays([pa.array(pngs, pa.binary()), pa.array(keys, pa.string())],
                                       fields=list(IMAGE_ROW.field("image").type))
    return pa.RecordBatch.from_arrays([image, pa.array(labels, pa.int64())], schema=IMAGE_ROW)
