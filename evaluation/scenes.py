"""Scene versions against real images: fidelity and privacy of the images; utility waits.

Detection and segmentation TSTR need a real scene reference (real images with boxes and masks)
and none exists yet. Until one does, a scene version is compared with a real *image* reference,
the way an image version is: each scene image becomes a greyscale image of the reference's size
and pixel range (the mean of its first three bands, or its one band, area-resized and scaled from
0..255 to 0..the reference's maximum), and the image report's fidelity and privacy metrics run on
those. Utility is null, with the reason. A scene version is never compared with itself: its own
images would score perfect fidelity and say nothing of privacy.
"""

from __future__ import annotations

import numpy as np

from evaluation.errors import InputError
from evaluation.report import Progress, _image_report, _thresholds, image_context
from evaluation.threads import limit_threads
from evaluation.utility import IMAGE_MODELS

UTILITY_REASON = ("detection and segmentation TSTR need a real scene reference (real images with boxes and "
                  "masks); none exists yet, so no model is trained")
CHUNK = 1024  # scene images converted at a time, so a large version is never held as floats at once


def as_reference_images(images: np.ndarray, shape: tuple[int, int], scale: float) -> np.ndarray:
    """(N, C, H, W) uint8 scene images as (N, h, w) greyscale floats on 0..``scale``.

    Area resizing averages each output pixel's footprint (exact block means when H, W are
    multiples of h, w).
    """
    import torch
    from torch.nn import functional

    if images.ndim != 4:
        raise InputError(f"scene images must be an N x C x H x W array, got {images.ndim} dimensions")
    out = np.empty((len(images), *shape), np.float64)
    for start in range(0, len(images), CHUNK):
        bands = torch.from_numpy(np.ascontiguousarray(images[start: start + CHUNK, :3])).float()
        grey = bands.mean(dim=1, keepdim=True)
        out[start: start + CHUNK] = functional.interpolate(grey, size=shape, mode="area")[:, 0].double().numpy()
    return out * (scale / 255.0)


def build_scene_report(
    real_train_images: np.ndarray, real_train_labels: np.ndarray, real_holdout_images: np.ndarray,
    real_holdout_labels: np.ndarray, scene_images: np.ndarray, *, thresholds: dict | None = None,
    random_state: int = 0, progress: Progress = None, fidelity_rows: int = 3000, n_samples: int = 25,
    n_threads: int | None = 1, include_samples: bool = True,
) -> dict:
    """The image report's fidelity and privacy for scene images (N x C x H x W, uint8) against
    real images (N x H x W); utility is null with :data:`UTILITY_REASON`."""
    real_train = np.asarray(real_train_images, float)
    if real_train.ndim != 3:
        raise InputError(f"real_train images must be an N x H x W array, got {real_train.ndim} dimensions")
    shape = real_train.shape[1:]
    scale = float(real_train.max()) or 1.0
    synthetic = as_reference_images(np.asarray(scene_images), shape, scale)
    ctx = image_context(real_train, real_train_labels, real_holdout_images, real_holdout_labels, synthetic,
                        np.full(len(synthetic), "scene"), random_state=random_state, progress=progress,
                        models=IMAGE_MODELS, fidelity_rows=fidelity_rows, utility_reason=UTILITY_REASON)
    with limit_threads(n_threads):
        report = _image_report(ctx, _thresholds(thresholds), n_samples if include_samples else None)
    report["scene_images"] = {
        "compared_as": f"greyscale {shape[0]} x {shape[1]} images on the reference's pixel range",
        "conversion": "mean of the first three bands (or the one band), area-resized, scaled from 0..255 to "
                      "0..the real training maximum",
        "images": len(synthetic),
    }
    return report

