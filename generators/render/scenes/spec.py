"""The scenes generator as the registry sees it: schema, run() and its files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from generators.render.memory import retain_freed_memory
from generators.render.scenes.estimate import estimate
from generators.render.scenes.output import SceneWriter
from generators.render.scenes.render import (
    RenderedBatch,
    chunk_count,
    render_scenes,
    scenes_per_chunk,
)
from generators.render.scenes.scene import channel_count
from generators.render.scenes.schema import SCHEMA, check_distributions
from generators.spec import GenerateResult, GeneratorSpec, Progress, no_progress


def write_scenes(params: dict[str, Any], out_dir: Path, progress: Progress = no_progress,
                 backgrounds: np.ndarray | None = None) -> GenerateResult:
    """Render validated ``params`` with :func:`render_scenes` into ``out_dir`` (layout in :mod:`.output`).

    ``backgrounds`` are passed through to :func:`render_scenes` (real images behind the objects).
    """
    check_distributions(params)
    retain_freed_memory()  # a worker renders batch after batch of the same sizes
    writer = SceneWriter(out_dir, params)
    per_chunk = scenes_per_chunk(params)
    parts: list[RenderedBatch] = []
    try:
        # Batches arrive in order; a shard is written once its chunk is complete.
        for batch in render_scenes(params, backgrounds, progress):
            chunk = int(batch.batch.scene[0]) // per_chunk
            if parts and int(parts[0].batch.scene[0]) // per_chunk != chunk:
                writer.add_chunk(chunk - 1, parts)
                parts = []
            parts.append(batch)
        writer.add_chunk(chunk_count(params) - 1, parts)
    except BaseException:
        writer.abort()
        raise
    summary = writer.close()
    summary.update({
        "scenes": params["n"], "frames": params["sequence"]["frames"], "shards": chunk_count(params),
        "shape": [channel_count(params), params["height"], params["width"]],
        "labels": ["class", "visible_box", "amodal_box", "visible_mask", "amodal_mask", "semantic",
                   "keypoints", "depth", "normals", "camera", "scene_description"]
                  + (["flow"] if params["sequence"]["frames"] > 1 else []),
    })
    return GenerateResult(samples=summary["images"], summary=summary, preview="preview.png")


def run(params: dict[str, Any], out_dir: Path, progress: Progress,
        backgrounds: np.ndarray | None = None) -> GenerateResult:
    """The job entry point: procedural backgrounds, or a registered image dataset's images."""
    return write_scenes(params, out_dir, progress, backgrounds=backgrounds)


SCENES_SPEC = GeneratorSpec(
    slug="scenes",
    title="Scenes with pixel-perfect labels",
    kind="renderer",
    modality="scene",
    version="2.0.0",
    description=("Digits, shapes, distractors and occluders on a textured ground, seen through a "
                 "randomized camera (lens up to fisheye, RGB/gray/infrared/multispectral); boxes, "
                 "visible and amodal masks, keypoints, depth, normals, flow, COCO export."),
    schema=SCHEMA,
    run=run,
    estimate=estimate,
    format="scenes/1",
    check=check_distributions,
    inputs=("backgrounds",),
    size_parameters=("n", "width", "height", "channels", "sequence.frames"),
)
