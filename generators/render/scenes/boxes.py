"""Bounding boxes of masks, in COCO's ``[x, y, width, height]`` pixel convention."""

from __future__ import annotations

import numpy as np


def _extents(present: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First and last True along the last axis, and whether there is any."""
    length = present.shape[-1]
    return present.argmax(-1), length - 1 - present[..., ::-1].argmax(-1), present.any(-1)


def presence_boxes(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Boxes from per-row and per-column presence (..., H) and (..., W); NaN where empty."""
    y0, y1, found = _extents(rows)
    x0, x1, _ = _extents(cols)
    boxes = np.stack([x0, y0, x1 - x0 + 1, y1 - y0 + 1], -1).astype(np.float32)
    boxes[~found] = np.nan
    return boxes


def mask_boxes(masks: np.ndarray) -> np.ndarray:
    """(..., H, W) boolean masks to (..., 4) boxes."""
    return presence_boxes(masks.any(-1), masks.any(-2))


def pixel_boxes(key: np.ndarray, x: np.ndarray, y: np.ndarray, groups: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """Pixel counts (groups,) and boxes (groups, 4) of pixels ``(x, y)`` labelled by ``key``."""
    count = np.bincount(key, minlength=groups)
    x0, y0 = np.full(groups, np.iinfo(np.int64).max), np.full(groups, np.iinfo(np.int64).max)
    x1, y1 = np.full(groups, -1), np.full(groups, -1)
    for low, high, values in ((x0, x1, x), (y0, y1, y)):
        np.minimum.at(low, key, values)
        np.maximum.at(high, key, values)
    boxes = np.stack([x0, y0, x1 - x0 + 1, y1 - y0 + 1], -1).astype(np.float32)
    boxes[count == 0] = np.nan
    return count, boxes
