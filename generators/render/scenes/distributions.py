"""Drawing from the schema's ranges and choices, vectorized over scenes or objects."""

from __future__ import annotations

from typing import Any

import numpy as np


def uniform(rng: np.random.Generator, spec: dict[str, float], size: Any) -> np.ndarray:
    """Uniform draws in ``[spec.min, spec.max]`` (float64)."""
    return rng.uniform(spec["min"], spec["max"], size=size)


def integers(rng: np.random.Generator, spec: dict[str, int], size: Any) -> np.ndarray:
    """Integer draws in ``spec.min..spec.max``, both ends included."""
    return rng.integers(spec["min"], spec["max"] + 1, size=size)


def choice(rng: np.random.Generator, spec: dict[str, float], options: tuple[str, ...],
           size: Any) -> np.ndarray:
    """Indices into ``options`` drawn with the spec's weights (a missing option weighs 0)."""
    weights = np.array([float(spec.get(name, 0.0)) for name in options])
    return rng.choice(len(options), size=size, p=weights / weights.sum())
