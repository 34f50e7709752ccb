"""The viewer's pages of a version's samples: images with their class, scenes with their labels,
table rows with column statistics. Callers check ``policy.can_download`` first: a restricted
version's content is never read here.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image

from catalog import storage
from catalog.loaders import load_table
from catalog.models import DatasetVersion
from generators.render.scenes.catalog import CATEGORIES

IMAGES_PER_PAGE = 24
SCENES_PER_PAGE = 4
ROWS_PER_PAGE = 25
MAX_VIEWED_FILE = 256 * 2**20  # an NPZ file larger than this is not opened for the viewer
LAYERS = ("image", "depth", "visible", "amodal")
# One colour per object slot, for masks, boxes and keypoints alike.
PALETTE = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45",
           "#469990", "#9a6324", "#800000", "#808000")


class NotViewable(ValueError):
    """The version has nothing the viewer can show (no NPZ, no table, or files too large)."""


@dataclass
class Page:
    number: int
    pages: int
    first: int = 0  # index of the page's first item
    items: list[Any] = field(default_factory=list)

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None


def npz_paths(version: DatasetVersion) -> list[str]:
    return sorted(f["path"] for f in version.manifest.get("files", []) if f["path"].endswith(".npz"))


def _open(prefix: str, path: str):
    fh = storage.open_version_file(prefix, path)
    if fh.seekable():
        return fh
    with fh:
        return io.BytesIO(fh.read())


@lru_cache(maxsize=8)  # a few arrays of the shards being viewed
def _member(prefix: str, path: str, name: str) -> np.ndarray:
    """One array of an NPZ file, read alone. Ready versions never change, so (prefix, path) always
    names the same bytes and the cache never goes stale."""
    with _open(prefix, path) as fh, np.load(fh, allow_pickle=False) as npz:
        return npz[name]


@lru_cache(maxsize=256)
def _count(prefix: str, path: str) -> tuple[tuple[str, ...], int]:
    """The array names of an NPZ file and how many samples it holds, from the headers alone."""
    with _open(prefix, path) as fh, zipfile.ZipFile(fh) as archive, archive.open("images.npy") as member:
        major, _ = np.lib.format.read_magic(member)
        read_header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
        shape = read_header(member)[0]
        return tuple(n.removesuffix(".npy") for n in archive.namelist()), shape[0]


class Shard(Mapping):
    """An NPZ file's arrays, each read when first asked for."""

    def __init__(self, prefix: str, path: str) -> None:
        self.prefix, self.path = prefix, path
        self.names = _count(prefix, path)[0]

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self.names:
            raise KeyError(name)
        return _member(self.prefix, self.path, name)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


def _shards(version: DatasetVersion) -> list[tuple[str, int]]:
    """Each NPZ file with how many samples it holds, in order."""
    paths = npz_paths(version)
    if not paths:
        raise NotViewable(f"{version} has no .npz file to view")
    sizes = {f["path"]: f["size"] for f in version.manifest["files"]}
    if any(sizes[p] > MAX_VIEWED_FILE for p in paths):
        raise NotViewable(f"{version}'s files are too large to view here; download them instead")
    try:
        return [(p, _count(version.storage_prefix, p)[1]) for p in paths]
    except KeyError:  # no images array in it
        raise NotViewable(f"{version} has no images to view") from None


def sample_arrays(version: DatasetVersion, index: int) -> tuple[Shard, int]:
    """The arrays of the shard holding sample ``index``, and the sample's position in it."""
    for path, count in _shards(version):
        if index < count:
            return Shard(version.storage_prefix, path), index
        index -= count
    raise IndexError("no such sample")


def _page(total: int, per_page: int, number: int) -> tuple[Page, range]:
    pages = max(1, math.ceil(total / per_page))
    number = min(max(1, number), pages)
    return Page(number, pages, (number - 1) * per_page), range((number - 1) * per_page, min(total, number * per_page))


def image_page(version: DatasetVersion, number: int) -> Page:
    total = sum(count for _, count in _shards(version))
    per_page = SCENES_PER_PAGE if version.dataset.modality == "scene" else IMAGES_PER_PAGE
    page, indices = _page(total, per_page, number)
    for index in indices:
        arrays, at = sample_arrays(version, index)
        page.items.append(scene_labels(arrays, at, index) if "visible_boxes" in arrays else
                          {"index": index, "label": int(arrays["labels"][at]) if "labels" in arrays else None})
    return page


def scene_labels(arrays: Mapping[str, np.ndarray], at: int, index: int) -> dict[str, Any]:
    """What the SVG overlay draws for one scene: each object's boxes and visible keypoints."""
    height, width = arrays["images"].shape[-2:]
    objects = []
    def box(name: str, slot: int) -> list[float] | None:
        values = arrays[name][at, slot]
        return None if np.isnan(values).any() else [round(float(v), 1) for v in values]

    for slot in np.flatnonzero(arrays["category_id"][at] > 0):
        keypoints = [(round(float(x), 1), round(float(y), 1)) for x, y, shown in arrays["keypoints"][at, slot] if shown > 0]
        objects.append({"slot": int(slot), "category": CATEGORIES[int(arrays["category_id"][at, slot]) - 1].name,
                        "colour": PALETTE[int(slot) % len(PALETTE)], "visible_box": box("visible_boxes", slot),
                        "amodal_box": box("amodal_boxes", slot), "keypoints": keypoints,
                        "visible_fraction": float(arrays["visible_fraction"][at, slot])})
    return {"index": index, "width": int(width), "height": int(height), "objects": objects}


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


def _to_uint8(values: np.ndarray) -> np.ndarray:
    if values.dtype == np.uint8:
        return values
    low, high = float(np.min(values)), float(np.max(values))
    return np.zeros(values.shape, np.uint8) if high <= low else ((values - low) / (high - low) * 255).astype(np.uint8)


def layer_png(version: DatasetVersion, index: int, layer: str) -> bytes:
    """One layer of sample ``index`` as PNG: the image, its depth, or a mask overlay (transparent elsewhere)."""
    arrays, at = sample_arrays(version, index)
    if layer == "image":
        image = arrays["images"][at]
        if image.ndim == 3:  # C, H, W
            image = np.moveaxis(image, 0, -1) if image.shape[0] in (1, 3, 4) else image
            image = image[..., 0] if image.shape[-1] == 1 else image
        if image.dtype != np.uint8:  # digits: counts 0..16, darker where more ink
            image = 255 - _to_uint8(image)
        picture = Image.fromarray(image)
    elif layer == "depth":
        depth = arrays["depth"][at].astype(np.float64)
        seen = np.isfinite(depth)
        near = np.zeros(depth.shape, np.uint8)
        if seen.any():
            low, high = depth[seen].min(), depth[seen].max()
            near[seen] = 255 - ((depth[seen] - low) / max(high - low, 1e-9) * 200).astype(np.uint8)
        picture = Image.fromarray(near)
    else:
        height, width = arrays["images"].shape[-2:]
        rgba = np.zeros((height, width, 4), np.uint8)
        if layer == "visible":
            ids = arrays["instance_ids"][at]
            slots = [(ids == slot + 1, slot) for slot in range(arrays["category_id"].shape[1])]
        else:
            masks = np.unpackbits(arrays["amodal_masks"][at], axis=-1, count=width).astype(bool)
            slots = [(masks[slot], slot) for slot in range(len(masks))]
        for mask, slot in slots:
            if arrays["category_id"][at, slot] > 0:
                rgba[mask] = (*_rgb(PALETTE[slot % len(PALETTE)]), 110 if layer == "visible" else 70)
        picture = Image.fromarray(rgba, "RGBA")
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def table_page(version: DatasetVersion, number: int) -> tuple[Page, list[str], list[dict[str, Any]]]:
    """One page of rows, the column names, and each column's statistics over the whole table."""
    try:
        table = load_table(version)
    except ValueError as exc:
        raise NotViewable(str(exc)) from None
    page, rows = _page(len(table), ROWS_PER_PAGE, number)
    page.items = table.iloc[rows.start:rows.stop].to_dict("split")["data"]
    return page, [str(c) for c in table.columns], column_statistics(table)


def column_statistics(table: pd.DataFrame) -> list[dict[str, Any]]:
    stats = []
    for name in table.columns:
        column = table[name]
        entry: dict[str, Any] = {"name": str(name), "dtype": str(column.dtype), "missing": int(column.isna().sum()),
                                 "distinct": int(column.nunique())}
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            entry.update(mean=column.mean(), std=column.std(), min=column.min(), max=column.max())
        else:
            top = column.value_counts().head(3)
            entry["top"] = ", ".join(f"{value} ({count})" for value, count in top.items())
        stats.append(entry)
    return stats
