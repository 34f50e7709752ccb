"""Batched scanline rasterizer: the union of discs centred on densely sampled stroke points.

A pixel is ink when its centre lies within the stroke radius of a sample point.
Each disc is cut into one run of pixels per row it touches; a run adds +1 where
it starts and -1 just past its end in a per-row difference array, and a running
sum along each row turns the runs back into pixels. That is one ``bincount``
and one ``cumsum`` for a whole batch, with no per-image or per-point loop.
"""

from __future__ import annotations

import numpy as np


def rasterize(points: np.ndarray, radius: np.ndarray, valid: np.ndarray, height: int, width: int) -> np.ndarray:
    """Binary images (B, height, width) of discs at ``points`` (2, B, K) in pixel units
    (x then y; pixel (0, 0) covers [0, 1)^2) with radius ``radius`` (B, K); ``valid``
    (B, K) masks out padding points."""
    batch = points.shape[1]
    # Images are processed widest strokes first, so each row offset below only needs a
    # prefix of the points, and they sit in the difference array in that order, so each
    # pass sweeps it front to back. One spare row above and below each frame catches runs
    # of rows outside it; a spare column holds the -1 of runs that reach the right edge.
    rows, columns = height + 2, width + 1
    cells = batch * rows * columns
    # Starts count in cells [0, cells), stops in [cells, 2 cells): one bincount for both.
    image_radius = np.where(valid, radius, 0).max(axis=1, initial=0.0)
    order = np.argsort(-image_radius, kind="stable")
    rank, slot = np.nonzero(valid[order])
    image = order[rank]
    # Float64 throughout: pixels on the edge of a disc are decided as a plain float64
    # distance test decides them, and the cell indices built here stay exact integers.
    x = points[0, image, slot].astype(np.float64) - 0.5  # pixel index whose centre is at the point
    y = points[1, image, slot].astype(np.float64)
    r_sq = np.square(radius[image, slot].astype(np.float64))
    base = np.floor(y)
    fraction = base + 0.5 - y  # row centre minus point, at offset 0
    frame = (rank * rows + 1).astype(np.float64)  # row 0 of the point's frame
    reach = int(np.ceil(float(image_radius.max(initial=0.0)) + 0.5))
    offsets = np.arange(-reach, reach + 1)
    # Points whose image's strokes reach each offset: a prefix, as images are widest first.
    counts = np.searchsorted(-image_radius[image], -(np.abs(offsets) - 0.5), side="right")
    ends = np.cumsum(counts)
    edges_at = np.empty(2 * int(ends[-1]), np.int64)
    for offset, count, end in zip(offsets.tolist(), counts.tolist(), ends.tolist(), strict=True):
        dy = fraction[:count] + offset
        half_sq = r_sq[:count] - dy * dy
        # A negative half width (a row beyond the disc) gives stop <= first: an empty run.
        half = np.copysign(np.sqrt(np.abs(half_sq)), half_sq)
        first = np.ceil(x[:count] - half)
        stop = np.floor(x[:count] + half)
        stop += 1
        np.clip(first, 0, width, out=first)
        np.clip(stop, first, width, out=stop)
        row = np.clip(base[:count] + offset, -1, height)
        row += frame[:count]
        row *= columns
        first += row
        stop += row
        stop += cells
        edges_at[end - count : end] = first
        edges_at[ends[-1] + end - count : ends[-1] + end] = stop
    both = np.bincount(edges_at, minlength=2 * cells)
    edges = both[:cells] - both[cells:]
    coverage = np.cumsum(edges.reshape(batch, rows, columns), axis=2, dtype=np.int32)
    images = np.empty((batch, height, width), bool)
    images[order] = coverage[:, 1:-1, :width] > 0
    return images


def block_counts(bitmaps: np.ndarray, block: int = 4) -> np.ndarray:
    """On-pixels counted in ``block`` x ``block`` blocks: (B, H, W) -> (B, H/block, W/block)."""
    batch, height, width = bitmaps.shape
    # Adding whole uint8 planes is far faster than a strided multi-axis reduction.
    blocks = bitmaps.view(np.uint8).reshape(batch, height // block, block, width // block, block)
    rows = blocks.sum(axis=2, dtype=np.uint16)
    return rows.sum(axis=3, dtype=np.uint16)
