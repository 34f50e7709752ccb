"""The batched scenes renderer: sample a chunk, z-buffer, shade, expose, label.

Scenes are drawn in chunks of :func:`scenes_per_chunk` from a generator seeded by
``(seed, chunk)``, so any chunk can be rendered alone (a shard task) and the same
parameters always give the same images. A chunk holds about ``CHUNK_PIXELS`` pixels
(256 images at 128x128) and is rendered in batches of about ``BATCH_PIXELS`` (32 such
images), which keeps the working set small at any resolution.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from generators.params import ParameterError
from generators.render.scenes.camera import PixelGrid
from generators.render.scenes.labels import Labels, compute_labels, optical_flow
from generators.render.scenes.layout import sample_scenes
from generators.render.scenes.raster import ObjectPixels, Raster, fisheye, rasterize
from generators.render.scenes.scene import Objects, SceneBatch, channel_count
from generators.render.scenes.schema import check_distributions
from generators.render.scenes.sensor import NoiseSource, expose, mix_pixels, sensor_mix
from generators.render.scenes.shading import shade, surface_tables
from generators.spec import Progress, no_progress

CHUNK_PIXELS = 256 * 128 * 128
BATCH_PIXELS = 32 * 128 * 128


@dataclass
class RenderedBatch:
    """Images and every label of consecutive images (M of them, K object slots)."""

    batch: SceneBatch
    images: np.ndarray  # (M, C, H, W) uint8, channels first
    instance_ids: np.ndarray  # (M, H, W) uint8: 0 background, k + 1 slot k (visible mask)
    depth: np.ndarray  # (M, H, W) float32 camera z; inf where no surface
    normals: np.ndarray  # (M, 3, H, W) float32 camera frame; 0 where no surface
    amodal_masks: np.ndarray  # (M, K, H, W) bool
    flow: np.ndarray | None  # (M, 2, H, W) float32 forward flow (dx, dy), sequences only
    labels: Labels
    # What ``normals`` is made of (ground normal per image, object pixels and their
    # normals), for :meth:`half_normals`; None: unknown.
    normal_parts: tuple[np.ndarray, ObjectPixels, tuple[np.ndarray, ...]] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.images)

    def half_normals(self) -> np.ndarray:
        """``normals.astype(np.float16)`` (what the shards store), converting far fewer values.

        Ground pixels hold one normal per image and pixels without a surface hold 0, so
        only the object pixels' normals need converting one by one.
        """
        if self.normal_parts is None:
            return self.normals.astype(np.float16)
        ground, pixels, objects = self.normal_parts
        m, _, height, width = self.normals.shape
        half = np.empty(self.normals.shape, dtype=np.float16)
        for i in range(3):
            half[:, i] = ground[:, i, None, None].astype(np.float16)
        plane = height * width
        flat = pixels.image * (3 * plane) + pixels.pixel
        for i in range(3):
            half.reshape(-1)[flat + i * plane] = objects[i].astype(np.float16)
        blank = np.isinf(self.depth)  # no surface, or a provided background: normal 0
        if blank.any():
            np.copyto(half, np.float16(0), where=blank[:, None])
        return half


def scenes_per_chunk(params: dict[str, Any]) -> int:
    pixels = params["width"] * params["height"] * params["sequence"]["frames"]
    return max(1, CHUNK_PIXELS // pixels)


def chunk_count(params: dict[str, Any]) -> int:
    return -(-params["n"] // scenes_per_chunk(params))


def sample_chunk(params: dict[str, Any], chunk: int, backgrounds: int = 0
                 ) -> tuple[SceneBatch, NoiseSource]:
    """The scenes of one chunk and their sensor noise."""
    per_chunk = scenes_per_chunk(params)
    first = chunk * per_chunk
    scenes = min(per_chunk, params["n"] - first)
    batch = sample_scenes(params, first, scenes, np.random.default_rng([params["seed"], chunk]), backgrounds)
    noise = NoiseSource.draw(np.random.default_rng([params["seed"], chunk, 1]), batch.size,
                             channel_count(params), params["height"], params["width"])
    return batch, noise


def check_backgrounds(backgrounds: np.ndarray | None) -> None:
    if backgrounds is None:
        return
    if backgrounds.ndim not in (3, 4) or len(backgrounds) == 0:
        raise ParameterError("backgrounds", "expected a non-empty (N, H, W) or (N, H, W, C) image array")


def background_radiance(backgrounds: np.ndarray, index: np.ndarray, height: int, width: int,
                        channels: int) -> np.ndarray:
    """Provided images picked by ``index``, resized (nearest) to the frame and the sensor's bands."""
    images = backgrounds if backgrounds.ndim == 4 else backgrounds[..., None]
    src_h, src_w = images.shape[1:3]
    rows = ((np.arange(height) + 0.5) * src_h / height).astype(np.intp)
    cols = ((np.arange(width) + 0.5) * src_w / width).astype(np.intp)
    picked = np.moveaxis(images[index][:, rows][:, :, cols], -1, 1).astype(np.float32)
    if np.issubdtype(backgrounds.dtype, np.integer):
        picked /= np.float32(255)
    if picked.shape[1] != channels:
        picked = np.repeat(picked.mean(1, keepdims=True), channels, axis=1)
    return picked ** np.float32(2)  # undo the display gamma: radiance is linear


def next_frames(chunk: SceneBatch, images: np.ndarray) -> tuple[Objects, np.ndarray]:
    """Objects of each image's next frame in the chunk, and whether there is one."""
    following = np.minimum(images + 1, chunk.size - 1)
    has_next = (images + 1 < chunk.size) & (chunk.scene[following] == chunk.scene[images])
    return select(chunk, following).objects, has_next


def finish(batch: SceneBatch, raster: Raster, noise: NoiseSource, index: np.ndarray, grid: PixelGrid,
           backgrounds: np.ndarray | None, motion: tuple[Objects, np.ndarray] | None) -> RenderedBatch:
    """Everything after the z-buffer, shared by the batched and the per-image renderers.

    ``index`` are the images' positions in the chunk (for their sensor ``noise``);
    ``motion`` (from :func:`next_frames`) is given for sequences and yields optical flow.
    """
    mix = sensor_mix(batch.sensor)
    pixels = raster.object_pixels()
    shaded = shade(batch, raster, grid.xs, grid.ys[:, None], surface_tables(batch), mix, pixels)
    radiance, depth, normals = shaded.radiance, raster.depth, shaded.normals
    valid = raster.w > 0 if fisheye(raster.w) else None  # pixels inside the lens's image circle
    if backgrounds is not None:
        # Composited onto real images: their depth and normals are unknown.
        behind = (raster.ids == 0) if valid is None else (raster.ids == 0) & valid
        real = background_radiance(backgrounds, batch.background_index, *raster.ids.shape[1:],
                                   radiance.shape[1])
        radiance = np.where(behind[:, None], mix_pixels(mix, real), radiance)
        depth = np.where(behind, np.float32(np.inf), depth)
        normals = np.where(behind[:, None], np.float32(0), normals)
    return RenderedBatch(
        batch=batch,
        images=expose(radiance, batch.sensor, valid, noise, index),
        instance_ids=raster.ids,
        depth=depth,
        normals=normals,
        amodal_masks=raster.amodal,
        flow=None if motion is None else optical_flow(batch.cameras, *motion, raster, grid.xs, grid.ys[:, None]),
        labels=compute_labels(batch, raster, pixels),
        normal_parts=(shaded.ground_normal, pixels, shaded.object_normals),
    )


def _slices(size: int, step: int) -> Iterator[slice]:
    for start in range(0, size, step):
        yield slice(start, min(size, start + step))


def render_chunk(params: dict[str, Any], chunk: int, backgrounds: np.ndarray | None = None
                 ) -> Iterator[RenderedBatch]:
    """Render one chunk, batch by batch (each batch holds whole sequences)."""
    batch, noise = sample_chunk(params, chunk, 0 if backgrounds is None else len(backgrounds))
    grid = PixelGrid.for_size(params["width"], params["height"])
    frames = params["sequence"]["frames"]
    step = max(1, BATCH_PIXELS // (params["width"] * params["height"] * frames)) * frames
    for part in _slices(batch.size, step):
        sub = select(batch, part)
        raster = rasterize(sub.cameras, sub.objects, sub.ground, grid)
        images = np.arange(part.start, part.stop)
        motion = next_frames(batch, images) if frames > 1 else None
        yield finish(sub, raster, noise, images, grid, backgrounds, motion)


def render_scenes(params: dict[str, Any], backgrounds: np.ndarray | None = None,
                  progress: Progress = no_progress) -> Iterator[RenderedBatch]:
    """Render every scene of validated ``params`` as a stream of :class:`RenderedBatch`.

    ``backgrounds`` (N, H, W[, C]) uint8 or 0..1 floats replaces the procedural ground
    and sky with real images, picked per scene (synthetic objects on real backgrounds).
    """
    check_distributions(params)
    check_backgrounds(backgrounds)
    chunks = chunk_count(params)
    for chunk in range(chunks):
        yield from render_chunk(params, chunk, backgrounds)
        progress((chunk + 1) / chunks, f"rendered chunk {chunk + 1} of {chunks}")


def select(batch: SceneBatch, part: slice | np.ndarray) -> SceneBatch:
    """The images ``part`` of a batch (every per-image array sliced alike)."""
    def cut(obj: Any) -> Any:
        fields = {}
        for name, value in vars(obj).items():
            fields[name] = value[part] if isinstance(value, np.ndarray) else value
        return type(obj)(**fields)

    return SceneBatch(cameras=cut(batch.cameras), objects=cut(batch.objects), ground=cut(batch.ground),
                      lights=cut(batch.lights), sensor=cut(batch.sensor),
                      background_index=batch.background_index[part], scene=batch.scene[part],
                      frame=batch.frame[part])
