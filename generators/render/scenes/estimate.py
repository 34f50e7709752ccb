"""What a scenes run writes and costs, from its parameters alone (see :mod:`.output`).

The shards are computed from their arrays' shapes and dtypes, to the byte. The JSON files
and the preview are not fixed by the shapes: they grow with the objects drawn per image and
the size of their masks, so they are estimated from the expected counts with per-record
sizes measured on rendered scenes (the generator contract suite holds the total to
``ESTIMATE_FACTOR``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from generators.render.scenes import catalog
from generators.render.scenes.layout import expected_counts, slot_counts
from generators.render.scenes.output import PREVIEW_IMAGES
from generators.render.scenes.render import scenes_per_chunk
from generators.render.scenes.scene import channel_count
from generators.render.sizes import npz_bytes
from generators.spec import Estimate

# Measured record sizes (bytes): a scenes.jsonl line without objects, and each object in it
# (targets carry named keypoints); coco.json's fixed part, each image record, and each
# annotation, whose two RLE masks grow with the image side.
JSONL_IMAGE, JSONL_TARGET, JSONL_OTHER = 540, 680, 450
COCO_FIXED, COCO_IMAGE, COCO_ANNOTATION, COCO_RLE_PER_PIXEL_OF_SIDE = 1800, 125, 440, 1.25


def shard_layout(params: dict[str, Any]) -> dict[str, tuple[tuple[int, ...], type]]:
    """Every shard array: its shape per image (the image axis left out) and its dtype."""
    c, h, w = channel_count(params), params["height"], params["width"]
    k, p = sum(slot_counts(params)), catalog.MAX_KEYPOINTS
    layout: dict[str, tuple[tuple[int, ...], type]] = {
        "images": ((c, h, w), np.uint8), "instance_ids": ((h, w), np.uint8), "semantic": ((h, w), np.uint8),
        "depth": ((h, w), np.float32), "normals": ((3, h, w), np.float16),
        "amodal_masks": ((k, h, -(-w // 8)), np.uint8),
        "category_id": ((k,), np.int16), "role": ((k,), np.uint8), "visible_fraction": ((k,), np.float32),
        "visible_area": ((k,), np.int32), "amodal_area": ((k,), np.int32),
        "visible_boxes": ((k, 4), np.float32), "amodal_boxes": ((k, 4), np.float32),
        "keypoints": ((k, p, 3), np.float32),
        "intrinsics": ((3, 3), np.float32), "distortion": ((), np.float32), "pose": ((3, 4), np.float32),
        "scene": ((), np.int64), "frame": ((), np.int32),
    }
    if params["sequence"]["frames"] > 1:
        layout["flow"] = ((2, h, w), np.float32)
    return layout


def shards_bytes(params: dict[str, Any]) -> int:
    """Bytes of every shard: full chunks of ``scenes_per_chunk`` scenes and a shorter last one."""
    frames, per_chunk = params["sequence"]["frames"], scenes_per_chunk(params)
    layout = shard_layout(params)

    def shard(images: int) -> int:
        return npz_bytes({name: (images * int(np.prod(shape)), dtype) for name, (shape, dtype) in layout.items()})

    full, rest = divmod(params["n"], per_chunk)
    return full * shard(per_chunk * frames) + (shard(rest * frames) if rest else 0)


def estimate(params: dict[str, Any]) -> Estimate:
    """Bytes written (shards, coco.json, scenes.jsonl, preview.png), images, and pixel values drawn."""
    h, w = params["height"], params["width"]
    images = params["n"] * params["sequence"]["frames"]
    targets, *others_by_role = expected_counts(params)
    others = sum(others_by_role)
    jsonl = images * (JSONL_IMAGE + JSONL_TARGET * targets + JSONL_OTHER * others)
    coco = COCO_FIXED + images * (COCO_IMAGE + targets * (COCO_ANNOTATION + COCO_RLE_PER_PIXEL_OF_SIDE * (h + w) / 2))
    preview = min(images, PREVIEW_IMAGES) * h * w * 3  # noisy images barely compress
    total = shards_bytes(params) + round(jsonl + coco) + preview
    # Each pixel is shaded in every band and tested against every object slot.
    slots = sum(slot_counts(params))
    return Estimate(output_bytes=total, samples=images, cost=images * h * w * (channel_count(params) + slots))
