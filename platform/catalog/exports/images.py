"""Image versions as PNG files: a folder plus labels (zip), WebDataset tar, rows for Parquet.

Pixels: uint8 arrays are written as they are. Float images are scaled to 0..255 from their
format's range, 0..16 for the 8x8 block counts (the scikit-learn digits format) and 0..1
otherwise, so ``round(png * 16 / 255)`` gives the 8x8 values back exactly.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
from PIL import Image

from catalog.exports.arrays import iter_batches, row_count
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


def iter_samples(version: DatasetVersion, start: int = 0, stop: int | None = None) -> Iterator[tuple[str, bytes, int]]:
    """(key, PNG, label) of images ``start`` to ``stop`` (default: all), in order; the key is the
    running index, zero-padded. Batches before ``start`` are skipped without drawing a PNG."""
    white, index = pixel_max(version), 0
    for batch in iter_batches(version, ("images", "labels")):
        count = len(batch["labels"])
        if stop is not None and index >= stop:
            return
        if index + count <= start:
            index += count
            continue
        low, high = max(start - index, 0), count if stop is None else min(stop - index, count)
        pixels = to_uint8(batch["images"][low:high], white)
        for offset, (image, label) in enumerate(zip(pixels, batch["labels"][low:high].tolist(), strict=True)):
            yield f"{index + low + offset:08d}", png_bytes(image), int(label)
        index += count


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


def write_webdataset(version: DatasetVersion, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
    """A WebDataset tar: ``<key>.png`` and ``<key>.cls`` (the label as text) per sample, of samples
    ``start`` to ``stop`` (default: all, one tar).

    Written record by record (no ``TarFile``, which keeps every member's header in memory)."""
    mtime = version.created_at.timestamp()
    for key, png, label in iter_samples(version, start, stop):
        yield _tar_member(f"{key}.png", png, mtime) + _tar_member(f"{key}.cls", str(label).encode(), mtime)
    yield b"\0" * (2 * tarfile.BLOCKSIZE)


# Samples per WebDataset shard: at 8x8 to 64x64 a shard is some MB to a few hundred, as WebDataset advises.
SHARD_SAMPLES = 10_000


def shard_names(version: DatasetVersion) -> list[tuple[str, int]]:
    """(file name, samples) of each shard: ``<slug>-v<n>-000000.tar`` and on."""
    total = row_count(version)
    counts = [min(SHARD_SAMPLES, total - start) for start in range(0, total, SHARD_SAMPLES)] or [0]
    return [(f"{version.dataset.slug}-v{version.number}-{index:06d}.tar", count) for index, count in enumerate(counts)]


def shard_url_pattern(version: DatasetVersion, shards_url: str) -> str:
    """All shards as one brace-expanded URL, as ``webdataset.WebDataset(url)`` takes it."""
    last = len(shard_names(version)) - 1
    return f"{shards_url}{version.dataset.slug}-v{version.number}-{{000000..{last:06d}}}.tar"


def write_shard_index(version: DatasetVersion, versions_url: str) -> Iterator[bytes]:
    """The shards as a ``wids`` shard index (JSON): each shard's URL and sample count."""
    shards_url = f"{versions_url}{version.pk}/webdataset/"
    index = {"__kind__": "wids-shard-index-v1", "wids_version": 1, "name": f"{version.dataset.slug}-v{version.number}",
             "shardlist": [{"url": shards_url + name, "nsamples": count} for name, count in shard_names(version)],
             "url_pattern": shard_url_pattern(version, shards_url), "samples_per_shard": SHARD_SAMPLES}
    yield json.dumps(index, indent=1).encode()


def write_shard(version: DatasetVersion, name: str) -> Iterator[bytes]:
    """The named shard's tar; raises KeyError for a name that is no shard of the version."""
    names = [shard for shard, _ in shard_names(version)]
    number = names.index(name) if name in names else None
    if number is None:
        raise KeyError(name)
    return write_webdataset(version, number * SHARD_SAMPLES, (number + 1) * SHARD_SAMPLES)


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
