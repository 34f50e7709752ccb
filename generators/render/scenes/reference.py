"""The straightforward renderer: one image at a time, every object over the whole frame.

This is how one would write the renderer without batching or culling. It draws the same
scenes (same sampling, same per-pixel formulas) and so produces the same images and
labels as :func:`render_scenes`; the benchmark times the two side by side and the tests
use it to check that culling never loses a pixel.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from generators.render.scenes.boxes import mask_boxes
from generators.render.scenes.camera import PixelGrid
from generators.render.scenes.raster import (
    Raster,
    card_planes,
    plane_hit,
    silhouette_cover,
    start_buffers,
)
from generators.render.scenes.render import (
    RenderedBatch,
    chunk_count,
    finish,
    next_frames,
    sample_chunk,
    select,
)
from generators.render.scenes.scene import SceneBatch


def rasterize_image(image: SceneBatch, grid: PixelGrid) -> Raster:
    """Z-buffer of one image (a batch of size 1): each slot tested on every pixel."""
    objects = image.objects
    slots = objects.active.shape[1]
    raster = start_buffers(image.cameras, image.ground, grid, slots)
    planes = card_planes(image.cameras, objects)
    focal_k = image.cameras.focal * image.cameras.distortion
    for slot in range(slots):
        if not objects.active[0, slot]:
            continue
        a, b, t, in_front = plane_hit(planes[:, slot], image.cameras.focal, focal_k, grid.xs, grid.rho_x,
                                      grid.ys, grid.rho_y, raster.w)
        z = t * raster.w
        cover = silhouette_cover(a, b, in_front, objects.silhouette[:, slot])
        wins = cover & (z < raster.depth)
        raster.depth = np.where(wins, z, raster.depth)
        raster.ids = np.where(wins, np.uint8(slot + 1), raster.ids)
        raster.a = np.where(wins, a, raster.a)
        raster.b = np.where(wins, b, raster.b)
        raster.amodal[:, slot] = cover
        raster.amodal_area[:, slot] = np.count_nonzero(cover)
        raster.amodal_boxes[:, slot] = mask_boxes(cover)
    visible = raster.ids[:, None] == np.arange(1, slots + 1, dtype=np.uint8)[:, None, None]
    raster.visible_area = np.count_nonzero(visible, axis=(2, 3))
    raster.visible_boxes = mask_boxes(visible)
    return raster


def render_scenes_per_image(params: dict[str, Any], backgrounds: np.ndarray | None = None
                            ) -> Iterator[RenderedBatch]:
    """Yield every image of validated ``params`` alone, in the order of ``render_scenes``."""
    grid = PixelGrid.for_size(params["width"], params["height"])
    sequences = params["sequence"]["frames"] > 1
    for chunk in range(chunk_count(params)):
        batch, noise = sample_chunk(params, chunk, 0 if backgrounds is None else len(backgrounds))
        for i in range(batch.size):
            index = np.array([i])
            image = select(batch, index)
            motion = next_frames(batch, index) if sequences else None
            yield finish(image, rasterize_image(image, grid), noise, index, grid, backgrounds, motion)
