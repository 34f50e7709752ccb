"""Render throughput, side by side in one run.

Digits in the 8x8 mode with the default parameters:
- ours: the batched renderer (``generators.render.digits.render``);
- per-image loop: the same random draws laid out one image at a time and drawn the
  way a user would write it, every pixel's distance to every stroke point in numpy,
  producing the same images (checked, and reported as ``identical_images``);
- ours with 1 and with 2 worker processes.
If ``benchmarks/render_scenes.py`` exists, its ``scenes_figures(n)`` is merged
under "scenes".

    python benchmarks/render.py [--n 100000] [--loop-n 2000] [--scenes-n 1000]

The last line printed is JSON with every figure.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from generators.params import validate_params
from generators.render.digits import render
from generators.render.digits.draws import draw
from generators.render.digits.renderer import SCHEMA, batch_size, grammar_for, layout, to_output
from generators.render.memory import retain_freed_memory

SCENES = Path(__file__).with_name("render_scenes.py")


def per_image_loop(params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The straightforward loop: one image at a time, pixels tested against every point."""
    params = validate_params(SCHEMA, params)
    grammar, n, per_batch = grammar_for(params), params["n"], batch_size(params)
    images, labels = [], []
    for batch_index, start in enumerate(range(0, n, per_batch)):
        draws = draw(params, grammar, batch_index, min(per_batch, n - start))
        for i in range(len(draws.labels)):
            one = layout(params, draws.subset(slice(i, i + 1)))
            size = one.size
            ys, xs = np.mgrid[0:size, 0:size] + 0.5
            bitmap = np.zeros((size, size), bool)
            for k in np.nonzero(one.valid[0])[0]:
                x, y, r = one.points[0, 0, k], one.points[1, 0, k], one.radius[0, k]
                bitmap |= (xs - x) ** 2 + (ys - y) ** 2 <= r * r
            images.append(to_output(params, bitmap[None])[0])
            labels.append(one.labels[0])
    return np.stack(images), np.array(labels)


def timed(function, *args, **kwargs) -> tuple[Any, float, float]:
    """Result, wall seconds and this process's CPU seconds."""
    started, cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started, time.process_time() - cpu


def digits_figures(n: int, loop_n: int) -> dict[str, Any]:
    retain_freed_memory()  # as run() does in a worker; helps both renderers alike
    render({"n": 64, "seed": 0})  # warm the grammar cache, imports and compiled kernels
    _, ours_s, ours_cpu = timed(render, {"n": n, "seed": 1})
    (loop, loop_labels), loop_s, loop_cpu = timed(per_image_loop, {"n": loop_n, "seed": 1})
    _, two_s, _ = timed(render, {"n": n, "seed": 1}, workers=2)
    same, same_labels = render({"n": loop_n, "seed": 1})
    identical = (same == loop).all(axis=(1, 2)) & (same_labels == loop_labels)
    ours_rate, loop_rate = n / ours_s, loop_n / loop_s
    return {
        "images": n,
        "ours_images_per_s": round(ours_rate),
        "per_image_loop_images": loop_n,
        "per_image_loop_images_per_s": round(loop_rate, 1),
        "ratio_ours_to_loop": round(ours_rate / loop_rate, 1),
        # The same ratio from CPU time: steadier when other work shares the machine.
        "ratio_ours_to_loop_cpu": round((loop_cpu / loop_n) / (ours_cpu / n), 1),
        "ours_cpu_us_per_image": round(1e6 * ours_cpu / n, 1),
        "per_image_loop_cpu_us_per_image": round(1e6 * loop_cpu / loop_n, 1),
        "identical_images": float(identical.mean()),
        "workers_1_images_per_s": round(ours_rate),
        "workers_2_images_per_s": round(n / two_s),
        "ratio_2_to_1_workers": round(ours_s / two_s, 2),
    }


def scenes_figures(n: int) -> dict[str, Any] | None:
    if not SCENES.exists():
        return None
    spec = importlib.util.spec_from_file_location("render_scenes", SCENES)
    module = importlib.util.module_from_spec(spec)
    sys.modules["render_scenes"] = module  # its worker processes pickle its functions by name
    spec.loader.exec_module(module)
    return module.scenes_figures(n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="digits rendered by ours")
    parser.add_argument("--loop-n", type=int, default=2000, help="digits rendered by the per-image loop")
    parser.add_argument("--scenes-n", type=int, default=1000, help="scenes, if the scenes benchmark exists")
    args = parser.parse_args()
    figures: dict[str, Any] = {"digits_8x8": digits_figures(args.n, min(args.loop_n, args.n))}
    print(json.dumps(figures), flush=True)
    scenes = scenes_figures(args.scenes_n)
    if scenes is not None:
        figures["scenes"] = scenes
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
