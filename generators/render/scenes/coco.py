"""COCO export written as a stream, and visibility filtering of annotations.

The JSON is never held or rewritten whole: images are appended to the output file as
they come, annotations to a side file that is copied in after the last image.
Extensions to plain COCO on each annotation: ``amodal_bbox``, ``amodal_area``,
``amodal_segmentation`` (RLE of the full silhouette), ``visible_fraction``,
``instance_id`` (value in the shard's ``instance_ids`` map) and ``track_id`` (stable
over the frames of a sequence).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from generators.render.scenes import catalog


def coco_categories() -> list[dict[str, Any]]:
    return [{"id": c.id, "name": c.name, "supercategory": c.supercategory,
             "keypoints": list(c.keypoints), "skeleton": []}
            for c in catalog.CATEGORIES if c.annotated]


def encode_masks(masks: np.ndarray, transposed: bool = False) -> list[dict[str, Any]]:
    """(N, H, W) bool masks (``transposed``: (N, W, H)) to COCO compressed RLEs with text counts."""
    if len(masks) == 0:
        return []
    # pycocotools wants (H, W, N) in Fortran order: that is (N, W, H) in C order.
    as_bytes = masks.view(np.uint8) if masks.dtype == bool else masks.astype(np.uint8)
    if not transposed:
        as_bytes = as_bytes.transpose(0, 2, 1)
    fortran = np.ascontiguousarray(as_bytes).transpose(2, 1, 0)
    encoded = mask_utils.encode(fortran)
    return [{"size": [int(r["size"][0]), int(r["size"][1])], "counts": r["counts"].decode("ascii")}
            for r in encoded]


class CocoStream:
    """Writes ``{"info", "licenses", "categories", "images", "annotations"}`` incrementally."""

    def __init__(self, path: Path, info: dict[str, Any], categories: list[dict[str, Any]]) -> None:
        self.path = path
        self._part = path.with_name(path.name + ".annotations.part")
        self._out = open(path, "w", encoding="utf-8")  # noqa: SIM115 (closed in close())
        self._annotations = open(self._part, "w+", encoding="utf-8")  # noqa: SIM115
        self._out.write(f'{{"info": {json.dumps(info)}, "licenses": [], '
                        f'"categories": {json.dumps(categories)}, "images": [')
        self.images = self.annotations = 0

    def add_image(self, image: dict[str, Any]) -> None:
        self._out.write(("," if self.images else "") + "\n" + json.dumps(image))
        self.images += 1

    def add_annotation(self, annotation: dict[str, Any]) -> None:
        self._annotations.write(("," if self.annotations else "") + "\n" + json.dumps(annotation))
        self.annotations += 1

    def close(self) -> None:
        self._out.write('\n], "annotations": [')
        self._annotations.seek(0)
        shutil.copyfileobj(self._annotations, self._out)
        self._out.write("\n]}\n")
        self._out.close()
        self._annotations.close()
        self._part.unlink()

    def abort(self) -> None:
        self._out.close()
        self._annotations.close()
        self._part.unlink(missing_ok=True)

    def __enter__(self) -> CocoStream:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


def filter_annotations(data: dict[str, Any] | list[dict[str, Any]], min_visible_fraction: float
                       ) -> dict[str, Any] | list[dict[str, Any]]:
    """Keep objects at least ``min_visible_fraction`` visible.

    ``data`` is a COCO dict (its ``annotations`` are filtered; everything else is kept)
    or a list of records that carry ``visible_fraction`` (COCO annotations, or the
    ``objects`` of a scene description). The input is not modified.
    """
    def keep(record: dict[str, Any]) -> bool:
        return record["visible_fraction"] >= min_visible_fraction

    if isinstance(data, dict):
        return {**data, "annotations": [a for a in data["annotations"] if keep(a)]}
    return [record for record in data if keep(record)]
