"""Batched scanline rasterizer: the union of discs centred on densely sampled stroke points.

A pixel is ink when its centre lies within the stroke radius of a sample point.
Each disc is cut into one run of pixels per row it touches; a run adds +1 where
it starts and -1 just past its end in a per-row difference array, and a running
sum along each row turns the runs back into pixels. That is a few ``bincount``
calls and one ``cumsum`` for a whole batch, with no per-image or per-point loop.
"""

from __future__ import annotations

import numpy as np


def rasterize(points: np.ndarray, radius: np.ndarray, valid: np.ndarray, height: int, width: int) -> np.ndarray:
    """Binary images (B, height, width) of discs at ``points`` (2, B, K) in pixel units
    (x then y; pixel (0, 0) covers [0, 1)^2) with radius ``radius`` (B, K); ``valid``
    (B, K) masks out padding points."""
    batch = points.shape[1]
    cells = batch * height * (width + 1)
    if cells >= 2**31:
        raise ValueError("batch too large for 32-bit pixel indices")
    image, slot = np.nonzero(valid)
    px, py, r = points[0, image, slot], points[1, image, slot], radius[image, slot]
    # Widest discs first, so each row offset only looks at the prefix of discs that reach it.
    order = np.argsort(-r, kind="stable")
    px, py, r = px[order], py[order], r[order]
    base_row = np.round(py - 0.5)
    row_of_image = (image[order] * height).astype(np.float32)
    reach = int(np.ceil(float(r.max(initial=0.0)) + 0.5))
    starts, stops = [], []
    for offset in range(-reach, reach + 1):
        count = int(np.searchsorted(-r, -(abs(offset) - 0.5), side="right"))
        row = base_row[:count] + offset
        dy = row + 0.5 - py[:count]
        half_width_sq = r[:count] ** 2 - dy * dy
        half_width = np.sqrt(np.maximum(half_width_sq, 0.0))
        first = np.clip(np.ceil(px[:count] - half_width - 0.5), 0, width)
        stop = np.clip(np.floor(px[:count] + half_width - 0.5) + 1, 0, width)
        keep = (half_width_sq >= 0) & (stop > first) & (row >= 0) & (row < height)
        line = (row_of_image[:count] + np.clip(row, 0, height - 1)) * (width + 1)
        # A dropped run starts and stops at the same place, so its +1 and -1 cancel.
        starts.append((line + first).astype(np.int32))
        stops.append((line + np.where(keep, stop, first)).astype(np.int32))
    edges = (np.bincount(np.concatenate(starts), minlength=cells)
             - np.bincount(np.concatenate(stops), minlength=cells))
    coverage = np.cumsum(edges.reshape(batch, height, width + 1), axis=2, dtype=np.int32)
    return coverage[:, :, :width] > 0


def block_counts(bitmaps: np.ndarray, block: int = 4) -> np.ndarray:
    """On-pixels counted in ``block`` x ``block`` blocks: (B, H, W) -> (B, H/block, W/block)."""
    batch, height, width = bitmaps.shape
    # Adding whole uint8 planes is far faster than a strided multi-axis reduction.
    blocks = bitmaps.view(np.uint8).reshape(batch, height // block, block, width // block, block)
    rows = blocks.sum(axis=2, dtype=np.uint16)
    return rows.sum(axis=3, dtype=np.uint16)
