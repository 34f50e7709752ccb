"""The digits renderer: batches of labelled digits, reproducible by seed, and its job spec.

Output ``digits.npz``: ``labels`` (N,) int64 and ``images`` — in "8x8" mode
(N, 8, 8) float64 with values 0..16, the block counts of a 32x32 binary bitmap
exactly as scikit-learn's ``load_digits``; in "image" mode (N, R, R) float32
binary (0 or 1) images at ``resolution``.

Images are rendered in batches of a size fixed by the resolution, each with its
own random stream derived from (seed, batch index), so the output does not
depend on how batches are spread over worker processes.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from generators.params import Distribution, distributions, validate_params
from generators.render.digits import geometry
from generators.render.digits.draws import Draws, draw
from generators.render.digits.grammar import SampledGrammar, sample_grammar
from generators.render.digits.raster import block_counts, rasterize, rasterize_block_counts
from generators.render.digits.schema import SCHEMA, check_params
from generators.render.memory import retain_freed_memory
from generators.render.sizes import npz_bytes
from generators.spec import Estimate, GenerateResult, GeneratorSpec, Progress, no_progress

BITMAP_SIZE = 32  # the real digits' bitmaps, counted in 4x4 blocks
PIXELS_PER_BATCH = 2**19  # 512 images of 32x32: the rasterizer's arrays stay in cache
POINTS_PER_PIXEL = 1.0  # stroke samples per pixel of digit height: dense enough for exact discs


@dataclass(frozen=True)
class Geometry:
    """One batch's strokes in pixels, ready to rasterize."""

    labels: np.ndarray  # (B,) int64
    points: np.ndarray  # (2, B, K) float32 pixel coordinates, x then y
    radius: np.ndarray  # (B, K) float32 disc radius in pixels
    valid: np.ndarray  # (B, K) bool
    size: int  # frame side in pixels


def frame_size(params: dict[str, Any]) -> int:
    return BITMAP_SIZE if params["mode"] == "8x8" else params["resolution"]


def image_side(params: dict[str, Any]) -> int:
    """Side of the output images: 8 (block counts) in 8x8 mode, else the frame."""
    return 8 if params["mode"] == "8x8" else frame_size(params)


def batch_size(params: dict[str, Any]) -> int:
    return max(1, PIXELS_PER_BATCH // frame_size(params) ** 2)


def grammar_for(params: dict[str, Any]) -> SampledGrammar:
    return sample_grammar(int(np.ceil(POINTS_PER_PIXEL * frame_size(params))))


def layout(params: dict[str, Any], draws: Draws) -> Geometry:
    """Lay out the strokes of a batch from its draws (vectorized, deterministic)."""
    grammar = grammar_for(params)
    size = frame_size(params)
    count = len(draws.labels)
    values = draws.attributes
    control = geometry.jittered_control(grammar, draws.allograph, values["jitter"], draws.noise)
    control = geometry.elastic_displacement(control, draws.waves)
    points = geometry.stroke_points(grammar, draws.allograph, control)
    valid, width_factor = geometry.trim_and_taper(grammar, draws.allograph, values["end_trim"],
                                                  draws.trim_end, values["end_taper"])
    points = geometry.shape(points, values["width"], values["slant"], values["rotation"])

    low, high = geometry.bounding_box(points, valid)
    centre = (low + high) / 2
    length = geometry.stroke_length(points, valid, grammar.joined[draws.allograph])
    # The sausage model ignores where strokes cross and thin ends; measured on rendered
    # digits that loses about 5% + 12% x the ink fraction, so ask for that much more.
    ink_area = values["ink_fraction"] / (0.95 - 0.12 * values["ink_fraction"]) * size * size
    if params["fit"] == "height":
        extent = np.maximum((high - low).max(axis=0), 1e-3)
        if params["stroke_width"] == "ink_fraction":
            radius = geometry.radius_for_ink(ink_area, length, extent, size)
        else:
            radius = values["thickness"] * size / 2
        scale = (size - 2 * radius) / extent
        offset = np.full((2, count), size / 2, np.float32)
    else:
        scale = values["scale"] * size
        if params["stroke_width"] == "ink_fraction":
            radius = geometry.radius_for_ink(ink_area, length, None, size, pixels_per_unit=scale)
        else:
            radius = values["thickness"] * size / 2
        offset = size / 2 + size * np.stack([values["translation"], draws.shift_y])
    pixels = (points - centre[:, :, None]) * scale[None, :, None] + offset[:, :, None]
    return Geometry(draws.labels, pixels.astype(np.float32),
                    (radius[:, None] * width_factor).astype(np.float32), valid, size)


def _render_compact(args: tuple[dict[str, Any], dict[str, Distribution], int, int]
                    ) -> tuple[np.ndarray, np.ndarray]:
    """One batch with its images as uint8 block counts (8x8 mode) or bool bitmaps: an
    eighth of the bytes to pass back from a worker process."""
    params, found, batch_index, count = args
    shape = layout(params, draw(params, grammar_for(params), batch_index, count, found))
    if params["mode"] == "8x8":  # the block counts straight from the strokes, no bitmaps
        return rasterize_block_counts(shape.points, shape.radius, shape.valid), shape.labels
    return rasterize(shape.points, shape.radius, shape.valid, shape.size, shape.size), shape.labels


def output_dtype(params: dict[str, Any]) -> type:
    return np.float64 if params["mode"] == "8x8" else np.float32


def to_output(params: dict[str, Any], bitmaps: np.ndarray) -> np.ndarray:
    """Binary bitmaps (B, S, S) -> the output format of ``params['mode']``."""
    if params["mode"] == "8x8":
        return block_counts(bitmaps).astype(np.float64)
    return bitmaps.astype(np.float32)


def render(params: dict[str, Any], progress: Progress | None = None, workers: int = 1
           ) -> tuple[np.ndarray, np.ndarray]:
    """Render ``params['n']`` digits; returns (images, labels). ``params`` may be partial:
    they are validated and completed with defaults. ``workers`` > 1 renders batches in
    that many processes; the output is identical."""
    params = validate_params(SCHEMA, params)
    check_params(params)
    progress = progress or no_progress
    n, per_batch = params["n"], batch_size(params)
    found = distributions(SCHEMA, params)  # parsed once, not per batch
    jobs = [(params, found, index, min(per_batch, n - start)) for index, start in enumerate(range(0, n, per_batch))]
    side = image_side(params)
    images = np.empty((n, side, side), output_dtype(params))  # filled batch by batch, converting
    labels, done = [], 0
    executor = ProcessPoolExecutor(workers, initializer=retain_freed_memory) if workers > 1 else None
    try:
        results = executor.map(_render_compact, jobs) if executor else map(_render_compact, jobs)
        for batch_images, batch_labels in results:
            images[done : done + len(batch_labels)] = batch_images
            labels.append(batch_labels)
            done += len(batch_labels)
            progress(done / n, f"rendered {done} of {n} digits")
    finally:
        if executor:
            executor.shutdown()
    return images, np.concatenate(labels)


def run(params: dict[str, Any], out_dir: Path, progress: Progress) -> GenerateResult:
    retain_freed_memory()  # a worker renders batch after batch of the same sizes
    images, labels = render(params, progress)
    with open(Path(out_dir) / "digits.npz", "wb") as fh:
        np.savez(fh, images=images, labels=labels)
    counts = np.bincount(labels, minlength=10).tolist()
    return GenerateResult(samples=len(labels), summary={
        "class_counts": counts, "shape": list(images.shape[1:]), "mode": params["mode"]})


def estimate(params: dict[str, Any]) -> Estimate:
    """``digits.npz`` to the byte; the cost is the pixels of the bitmaps drawn (32x32 in 8x8 mode)."""
    n, side = params["n"], image_side(params)
    size = npz_bytes({"images": (n * side * side, output_dtype(params)), "labels": (n, np.int64)})
    return Estimate(output_bytes=size, samples=n, cost=n * frame_size(params) ** 2)


DIGITS_SPEC = GeneratorSpec(
    slug="digits",
    title="Handwritten digits",
    kind="renderer",
    modality="image",
    version="1.1.0",
    description="Digits 0-9 drawn as strokes from a per-digit spline grammar with a distribution "
                "for every attribute; an exact scikit-learn 8x8 mode for syn-to-real.",
    schema=SCHEMA,
    run=run,
    estimate=estimate,
    format="images/1",
    check=check_params,
    size_parameters=("n", "resolution"),
)
