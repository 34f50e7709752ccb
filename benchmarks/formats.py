"""Format validation from headers, side by side with loading the arrays to check them.

- ours: ``contracts.formats.validate("images/1", folder)`` (NPZ member headers via zipfile);
- load: ``np.load`` every array and check the same facts (dtypes, shapes, rows), the way a
  check that reads the data would.
Both run on the same folder of labelled images, written once.

    python benchmarks/formats.py [--n 50000] [--side 32]

The last line printed is JSON with every figure.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from contracts import formats


def load_and_check(folder: Path) -> int:
    rows = 0
    for path in sorted(folder.glob("*.npz")):
        with np.load(path, allow_pickle=False) as arrays:
            images, labels = arrays["images"], arrays["labels"]
            assert images.ndim in (3, 4) and labels.ndim == 1 and len(images) == len(labels)
            assert labels.dtype.kind in "iu" and images.dtype.kind in "fiu"
            rows += len(labels)
    return rows


def best_of(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000, help="images in the folder")
    parser.add_argument("--side", type=int, default=32, help="image side in pixels")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rng = np.random.default_rng(0)
        np.savez(folder / "images.npz", images=rng.random((args.n, args.side, args.side), np.float32),
                 labels=rng.integers(0, 10, args.n))
        size = (folder / "images.npz").stat().st_size
        assert formats.validate("images/1", folder)["samples"] == load_and_check(folder) == args.n
        ours, load = best_of(lambda: formats.validate("images/1", folder)), best_of(lambda: load_and_check(folder))
    figures = {"bytes": size, "samples": args.n, "ours_s": round(ours, 5), "load_s": round(load, 4),
               "load_over_ours": round(load / ours, 1)}
    print(f"{size / 1e6:,.0f} MB of images: headers {ours * 1e3:.2f} ms, loading {load * 1e3:.0f} ms "
          f"({figures['load_over_ours']}x)")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
