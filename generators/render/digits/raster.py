"""Compiled scanline rasterizer: the union of discs centred on densely sampled stroke points.

A pixel is ink when its centre lies within the stroke radius of a sample point.
Each disc is cut into one run of pixels per row it touches, and the run is
painted straight into its image. The kernels are compiled by numba (no
fast-math; ``cache=True`` keeps the machine code in ``__pycache__``, so only
the first import on a machine pays about a second of compiling) and go image by
image, touching only the rows and columns each stroke covers. The 8x8 mode
keeps a 32x32 image as 32 row bit masks, so a run is one ``or`` and the 4x4
block counts are a few bit operations per row, in the same pass.

Every edge decision is the float64 computation of the earlier vectorized
(numpy) rasterizer, operation for operation, so the images are the same bytes:
per point ``x - 0.5``, ``y`` and ``r^2`` in float64; per row offset
``dy = (floor(y) + 0.5 - y) + offset`` and ``half = sqrt(r^2 - dy^2)``, the run
``ceil(x - half) .. floor(x + half)``; row offsets are those with
``|offset| - 0.5`` at most the image's widest radius.
"""

from __future__ import annotations

import math

import numpy as np

from generators.render.digits.jit import njit


@njit(cache=True, nogil=True)
def _reach(radius, valid, image):  # pragma: no cover - compiled
    """The row offsets to try around each point of image ``image``: those with
    ``|offset| - 0.5`` at most the image's widest radius (as the earlier rasterizer did)."""
    widest = 0.0
    for k in range(valid.shape[1]):
        if valid[image, k] and radius[image, k] > widest:
            widest = radius[image, k]
    reach = 0
    while reach + 1 - 0.5 <= widest:
        reach += 1
    return reach


@njit(cache=True, nogil=True)
def _run(x, y, r, offset, height, width):  # pragma: no cover - compiled
    """Row and [first, stop) columns of the disc at (x, y) in that row at ``offset`` from
    the point's own row; stop <= first when the row misses the disc or the frame."""
    base = np.floor(y)
    row = base + offset
    if row < 0 or row >= height:
        return 0, 0, 0
    dy = (base + 0.5 - y) + offset  # row centre minus point
    half_sq = r * r - dy * dy
    if half_sq < 0:
        return 0, 0, 0
    half = math.sqrt(half_sq)
    return int(row), max(math.ceil(x - half), 0), min(math.floor(x + half) + 1, width)


@njit(cache=True, nogil=True)
def _paint(points, radius, valid, image, out):  # pragma: no cover - compiled
    """Set to 1 the pixels of ``out`` (H, W) that lie in a disc of image ``image``."""
    height, width = out.shape
    reach = _reach(radius, valid, image)
    for k in range(valid.shape[1]):
        if valid[image, k]:
            x = np.float64(points[0, image, k]) - 0.5  # pixel index whose centre is at the point
            y, r = np.float64(points[1, image, k]), np.float64(radius[image, k])
            for offset in range(-reach, reach + 1):
                row, first, stop = _run(x, y, r, offset, height, width)
                for column in range(first, stop):
                    out[row, column] = 1


@njit(cache=True, nogil=True)
def _paint_bits(points, radius, valid, image, rows):  # pragma: no cover - compiled
    """As :func:`_paint`, into one int64 bit mask per row of a 32 pixel wide image
    (bit c of ``rows[r]`` is pixel (r, c)): a run is two shifts and an or."""
    reach = _reach(radius, valid, image)
    for k in range(valid.shape[1]):
        if valid[image, k]:
            x = np.float64(points[0, image, k]) - 0.5
            y, r = np.float64(points[1, image, k]), np.float64(radius[image, k])
            for offset in range(-reach, reach + 1):
                row, first, stop = _run(x, y, r, offset, rows.shape[0], 32)
                if stop > first:
                    rows[row] |= (np.int64(1) << stop) - (np.int64(1) << first)


@njit(cache=True, nogil=True)
def _rasterize(points, radius, valid, images):  # pragma: no cover - compiled
    for image in range(images.shape[0]):
        _paint(points, radius, valid, image, images[image])


@njit(cache=True, nogil=True)
def _rasterize_counts(points, radius, valid, counts):  # pragma: no cover - compiled
    """Block counts (B, 8, 8) of 32x32 images, summed from the row bit masks in SWAR."""
    rows = np.zeros(32, np.int64)
    for image in range(counts.shape[0]):
        rows[:] = 0
        _paint_bits(points, radius, valid, image, rows)
        for i in range(8):
            even = np.int64(0)  # byte j: ink in block 2j of this block row
            odd = np.int64(0)  # byte j: ink in block 2j + 1
            for u in range(4 * i, 4 * i + 4):
                v = rows[u]
                v = v - ((v >> 1) & 0x55555555)
                v = (v & 0x33333333) + ((v >> 2) & 0x33333333)  # nibble c: ink in pixels 4c..4c+3
                even += v & 0x0F0F0F0F
                odd += (v >> 4) & 0x0F0F0F0F
            for j in range(4):
                counts[image, i, 2 * j] = (even >> (8 * j)) & 0xFF
                counts[image, i, 2 * j + 1] = (odd >> (8 * j)) & 0xFF


def _inputs(points: np.ndarray, radius: np.ndarray, valid: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (np.ascontiguousarray(points, np.float32), np.ascontiguousarray(radius, np.float32),
            np.ascontiguousarray(valid, np.bool_))


def rasterize(points: np.ndarray, radius: np.ndarray, valid: np.ndarray, height: int, width: int) -> np.ndarray:
    """Binary images (B, height, width) of discs at ``points`` (2, B, K) in pixel units
    (x then y; pixel (0, 0) covers [0, 1)^2) with radius ``radius`` (B, K); ``valid``
    (B, K) masks out padding points. Coordinates and radii are float32."""
    points, radius, valid = _inputs(points, radius, valid)
    images = np.zeros((points.shape[1], height, width), bool)
    _rasterize(points, radius, valid, images)
    return images


def rasterize_block_counts(points: np.ndarray, radius: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``block_counts(rasterize(points, radius, valid, 32, 32))`` as uint8 (B, 8, 8): the
    8x8 mode, without materializing the bitmaps."""
    points, radius, valid = _inputs(points, radius, valid)
    counts = np.empty((points.shape[1], 8, 8), np.uint8)
    _rasterize_counts(points, radius, valid, counts)
    return counts


def block_counts(bitmaps: np.ndarray, block: int = 4) -> np.ndarray:
    """On-pixels counted in ``block`` x ``block`` blocks: (B, H, W) -> (B, H/block, W/block)."""
    batch, height, width = bitmaps.shape
    # Adding whole uint8 planes is far faster than a strided multi-axis reduction.
    blocks = bitmaps.view(np.uint8).reshape(batch, height // block, block, width // block, block)
    rows = blocks.sum(axis=2, dtype=np.uint16)
    return rows.sum(axis=3, dtype=np.uint16)
