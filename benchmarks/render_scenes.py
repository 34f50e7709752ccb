"""Scenes render throughput, side by side in one run (128x128, default parameters).

- ours: the batched renderer (``render_scenes``) producing images and every label in memory;
- per-image loop: the same scenes drawn one image at a time, every object ray-cast over
  the whole frame (``reference.render_scenes_per_image``), the way one writes it in
  numpy without batching or culling; shading, sensor and labels are the same per-pixel
  formulas (shared code, run on one image), so its output is compared with ours image
  for image and label for label (``identical``); ``ratio`` from wall clock,
  ``ratio_cpu`` from CPU time (steadier on a shared machine);
- ours with 2 worker processes (chunks are independent), and ours writing the files of
  a job (NPZ shards, streamed COCO, scene description).

    python benchmarks/render_scenes.py [--n 1000] [--loop-n 200]

The last line printed is JSON with every figure. Wall-clock figures on a shared
machine: compare the numbers of one run with each other; the CPU milliseconds per
image say what one core does regardless of what else runs, and the ``cpu_bound``
figures turn them into images/s on cores that nothing else uses (two processes:
twice the images per CPU second of the workers, as chunks are independent).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from generators.params import validate_params
from generators.render.memory import retain_freed_memory
from generators.render.scenes import SCENES_SPEC, SCHEMA, render_scenes
from generators.render.scenes.reference import render_scenes_per_image
from generators.render.scenes.render import chunk_count, render_chunk
from generators.spec import no_progress

COMPARED = ("images", "instance_ids", "depth", "normals", "amodal_masks")
COMPARED_LABELS = ("visible_boxes", "amodal_boxes", "keypoints", "visible_fraction", "semantic")


def _params(n: int) -> dict[str, Any]:
    return validate_params(SCHEMA, {"n": n, "seed": 1})


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1)


def _render_chunk(args: tuple[dict[str, Any], int]) -> tuple[int, float]:
    """Images of one chunk and the CPU seconds the worker spent on them."""
    retain_freed_memory()
    cpu = time.process_time()
    count = sum(len(batch) for batch in render_chunk(*args))
    return count, time.process_time() - cpu


def _warm(_: int) -> None:
    retain_freed_memory()
    time.sleep(0.05)  # keep this worker busy so that the other one takes the other task


def _identical(count: int) -> bool:
    """Whether both renderers give the same images and labels for the first ``count`` scenes."""
    params = _params(count)
    ours, loop = list(render_scenes(params)), list(render_scenes_per_image(params))

    def stack(parts: list[Any], get: Any) -> np.ndarray:
        return np.concatenate([get(p) for p in parts])

    fields = [lambda p, f=f: getattr(p, f) for f in COMPARED]
    fields += [lambda p, f=f: getattr(p.labels, f) for f in COMPARED_LABELS]
    return all(np.array_equal(stack(ours, get), stack(loop, get), equal_nan=True) for get in fields)


def _timed(batches: Any) -> tuple[int, float, float]:
    """Images rendered, wall seconds and CPU seconds; batches are dropped as they come."""
    started, cpu = time.perf_counter(), time.process_time()
    count = sum(len(batch) for batch in batches)
    return count, time.perf_counter() - started, time.process_time() - cpu


def scenes_figures(n: int, loop_n: int | None = None) -> dict[str, Any]:
    """Images/s of the batched renderer and of the per-image loop, their ratio, and more."""
    loop_n = min(n, loop_n or max(64, n // 5))
    params = _params(n)
    retain_freed_memory()  # as run() does in a worker; helps both renderers alike
    same = _identical(min(loop_n, 64))  # also warms caches and imports outside the timings

    ours, ours_s, ours_cpu = _timed(render_scenes(params))
    loop, loop_s, loop_cpu = _timed(render_scenes_per_image(_params(loop_n)))

    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_warm, range(2)))  # both workers started before the clock
        started = time.perf_counter()
        chunks = list(pool.map(_render_chunk, [(params, c) for c in range(chunk_count(params))]))
        two_s = time.perf_counter() - started
    done, two_cpu = sum(c[0] for c in chunks), sum(c[1] for c in chunks)

    with tempfile.TemporaryDirectory() as out:
        started, cpu = time.perf_counter(), time.process_time()
        SCENES_SPEC.run(params, Path(out), no_progress)
        files_s, files_cpu = time.perf_counter() - started, time.process_time() - cpu

    ours_rate, loop_rate = _rate(ours, ours_s), _rate(loop, loop_s)
    return {
        "resolution": [params["height"], params["width"]],
        "scenes": n,
        "ours_images_per_s": ours_rate,
        "per_image_loop_images_per_s": loop_rate,
        "per_image_loop_scenes": loop,
        "ratio": round(ours_rate / loop_rate, 2),
        "ratio_cpu": round((loop_cpu / loop) / (ours_cpu / ours), 2),  # the same, from CPU times
        # CPU time of this process: what one core gives when other work shares the machine.
        "ours_cpu_ms_per_image": round(1000 * ours_cpu / ours, 3),
        "per_image_loop_cpu_ms_per_image": round(1000 * loop_cpu / loop, 3),
        "identical": same,
        "ours_2_processes_images_per_s": _rate(done, two_s),
        "ours_2_processes_cpu_ms_per_image": round(1000 * two_cpu / done, 3),
        # What the CPU times give on cores not shared with other work: 1 and 2 processes.
        "ours_cpu_bound_images_per_s": _rate(ours, ours_cpu),
        "ours_2_processes_cpu_bound_images_per_s": _rate(2 * done, two_cpu),
        "ours_with_files_images_per_s": _rate(n, files_s),
        "ours_with_files_cpu_ms_per_image": round(1000 * files_cpu / n, 3),
        "labels": ["class", "visible/amodal boxes", "visible/amodal masks", "semantic", "keypoints",
                   "depth", "normals", "camera"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="scenes for the batched renderer")
    parser.add_argument("--loop-n", type=int, default=None, help="scenes for the per-image loop")
    args = parser.parse_args()
    print(json.dumps(scenes_figures(args.n, args.loop_n)))


if __name__ == "__main__":
    main()
