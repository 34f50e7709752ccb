"""Checks on the arrays the adaptation and refinement APIs accept, naming the bad argument."""

from __future__ import annotations

from typing import Any

import numpy as np

from generators.adapt.schema import require


def check_images(name: str, images: Any, side: int | None = None) -> np.ndarray:
    """``images`` as an N×H×W array of finite numbers, square, side a multiple of 4 (and ``side``
    when given); ParameterError naming ``name`` otherwise."""
    array = np.asarray(images)
    require(array.ndim == 3 and len(array) > 0, name, f"must be N×H×W images, got shape {array.shape}")
    require(array.shape[1] == array.shape[2] and array.shape[1] % 4 == 0, name,
            f"images must be square with a side divisible by 4, got {array.shape[1]}×{array.shape[2]}")
    require(np.issubdtype(array.dtype, np.number) and bool(np.isfinite(array).all()), name,
            "must hold finite numbers")
    if side is not None:
        require(array.shape[1] == side, name, f"images are {array.shape[1]} pixels wide, the source's "
                f"are {side}: both domains need the same shape")
    return array


def check_labels(name: str, labels: Any, count: int) -> np.ndarray:
    """One integer label 0..9 per image, as int64."""
    require(labels is not None, name, "labels are required")
    array = np.asarray(labels)
    require(array.shape == (count,), name, f"need one label per image ({count}), got shape {array.shape}")
    require(np.issubdtype(array.dtype, np.integer) and bool(((array >= 0) & (array < 10)).all()), name,
            "labels must be integers 0..9")
    return array.astype(np.int64)
