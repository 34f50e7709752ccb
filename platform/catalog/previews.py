"""Preview grids for image versions: what a person sees first on a dataset's page."""

from __future__ import annotations

from pathlib import Path

import numpy as np

PREVIEW_NAME = "preview.png"


def image_grid(images: np.ndarray, labels: np.ndarray | None = None, columns: int = 16, rows: int = 4) -> np.ndarray:
    """Tile the first images into one grayscale canvas, scaled to 0..1 (one-pixel gutters)."""
    count = min(len(images), columns * rows)
    tiles = images[:count].astype(np.float64)
    if tiles.ndim == 4:  # N, H, W, C -> gray
        tiles = tiles.mean(axis=-1)
    low, high = tiles.min(), tiles.max()
    tiles = (tiles - low) / (high - low) if high > low else np.zeros_like(tiles)
    height, width = tiles.shape[1:3]
    rows = -(-count // columns)
    canvas = np.ones((rows * (height + 1) + 1, columns * (width + 1) + 1))
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        canvas[1 + r * (height + 1): 1 + r * (height + 1) + height, 1 + c * (width + 1): 1 + c * (width + 1) + width] = 1 - tile
    return canvas


def write_preview(folder: Path) -> str | None:
    """Write a preview of the first NPZ with ``images`` under ``folder``; returns its name."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    for path in sorted(folder.rglob("*.npz")):
        with np.load(path, allow_pickle=False) as arrays:
            if "images" not in arrays.files:
                continue
            canvas = image_grid(arrays["images"])
        scale = max(1, 512 // canvas.shape[1])
        plt.imsave(folder / PREVIEW_NAME, np.kron(canvas, np.ones((scale, scale))), cmap="gray", vmin=0, vmax=1)
        return PREVIEW_NAME
    return None
