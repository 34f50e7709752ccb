"""The GPU path of the refine and adapt jobs' libraries, checked against the CPU: one refiner fit and
one adaptation fit with the same seed on cuda and on cpu, their results compared within tolerance.

    python benchmarks/gpu_check.py [--n 2000] [--refiner simgan] [--method coral] [--epochs 2]

GPU kernels are not bitwise those of the CPU (cuDNN picks its own algorithms, reductions run in
another order), so the two runs drift apart step by step; what must agree is what a user reads:
the test-half accuracy (within ``--accuracy-tolerance``, default 2 points) and the refined images
(mean absolute difference within ``--pixel-tolerance`` of the 0..16 range, default 0.5). Without
cuda it says so and runs the CPU side only. The last line printed is JSON with every figure.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np
import torch

from generators import adapt, refine
from generators.render.digits.renderer import render


def one_device(device: torch.device, images: np.ndarray, labels: np.ndarray, args: argparse.Namespace
               ) -> dict[str, Any]:
    real = adapt.TargetProtocol.digits()
    pool = real.pool()
    budget = {"epochs": args.epochs, "steps_per_epoch": args.steps}
    started = time.perf_counter()
    refined = refine.fit(args.refiner, images, labels, pool, budget, args.seed, device=device).refined
    refine_seconds = time.perf_counter() - started
    started = time.perf_counter()
    fitted = adapt.fit(args.method, images, labels, pool, budget, args.seed, device=device)
    adapt_seconds = time.perf_counter() - started
    return {"refined": refined.transform(images[: args.compare], seed=args.seed),
            "accuracy": real.evaluate(fitted.model.predict),
            "history": fitted.history, "refine_seconds": refine_seconds, "adapt_seconds": adapt_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="rendered training digits")
    parser.add_argument("--refiner", default="simgan")
    parser.add_argument("--method", default="coral")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--steps", type=int, default=100, help="steps per epoch")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compare", type=int, default=500, help="refined images compared")
    parser.add_argument("--accuracy-tolerance", type=float, default=0.02)
    parser.add_argument("--pixel-tolerance", type=float, default=0.5)
    args = parser.parse_args()

    images, labels = render({"n": args.n, "seed": args.seed})
    cpu = one_device(torch.device("cpu"), images, labels, args)
    result: dict[str, Any] = {"cuda": torch.cuda.is_available(), "refiner": args.refiner, "method": args.method,
                              "seed": args.seed, "epochs": args.epochs, "steps_per_epoch": args.steps,
                              "cpu_accuracy": cpu["accuracy"], "cpu_refine_seconds": round(cpu["refine_seconds"], 2),
                              "cpu_adapt_seconds": round(cpu["adapt_seconds"], 2)}
    if result["cuda"]:
        gpu = one_device(torch.device("cuda"), images, labels, args)
        pixel_gap = float(np.abs(gpu["refined"] - cpu["refined"]).mean())
        accuracy_gap = abs(gpu["accuracy"] - cpu["accuracy"])
        last_losses = {key: (cpu["history"][-1][key], gpu["history"][-1][key])
                       for key in cpu["history"][-1] if key.startswith("loss")}
        result.update({
            "device_name": torch.cuda.get_device_name(0), "gpu_accuracy": gpu["accuracy"],
            "accuracy_gap": accuracy_gap, "refined_mean_abs_pixel_gap": pixel_gap,
            "last_epoch_losses_cpu_gpu": last_losses,
            "gpu_refine_seconds": round(gpu["refine_seconds"], 2), "gpu_adapt_seconds": round(gpu["adapt_seconds"], 2),
            "speedup_refine": round(cpu["refine_seconds"] / gpu["refine_seconds"], 2),
            "speedup_adapt": round(cpu["adapt_seconds"] / gpu["adapt_seconds"], 2),
            "within_tolerance": accuracy_gap <= args.accuracy_tolerance and pixel_gap <= args.pixel_tolerance,
        })
        print(f"{'':<22} {'cpu':>10} {'cuda':>10} {'ratio':>8}")
        print(f"{'test accuracy':<22} {cpu['accuracy']:>10.4f} {gpu['accuracy']:>10.4f}")
        print(f"{'refine seconds':<22} {cpu['refine_seconds']:>10.1f} {gpu['refine_seconds']:>10.1f} "
              f"{result['speedup_refine']:>8}")
        print(f"{'adapt seconds':<22} {cpu['adapt_seconds']:>10.1f} {gpu['adapt_seconds']:>10.1f} "
              f"{result['speedup_adapt']:>8}")
        print(f"refined images: mean |cuda - cpu| = {pixel_gap:.4f} (tolerance {args.pixel_tolerance})")
    else:
        print("no cuda device: only the CPU side ran")
    print(json.dumps(result, default=float))


if __name__ == "__main__":
    main()
