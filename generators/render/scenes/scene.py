"""What a batch of scenes is made of: per-image arrays of camera, objects, ground, light, sensor.

Produced by :mod:`.layout` (all the randomness), consumed by the renderers, which are
pure functions of a :class:`SceneBatch`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from generators.render.scenes.camera import Cameras

ROLE_NONE, ROLE_TARGET, ROLE_DISTRACTOR, ROLE_CLUTTER, ROLE_OCCLUDER = range(5)
ROLE_NAMES = ("none", "target", "distractor", "clutter", "occluder")
LIGHT_TYPES = ("directional", "point", "ambient")
TEXTURES = ("plain", "stripes", "checker", "noise")


@dataclass(frozen=True)
class Objects:
    """Per image (M) and slot (K); a slot keeps its object across a sequence's frames."""

    active: np.ndarray  # (M, K) bool
    role: np.ndarray  # (M, K) uint8, ROLE_*
    silhouette: np.ndarray  # (M, K) index into catalog.SILHOUETTES
    category: np.ndarray  # (M, K) int16 category id (0 for empty slots)
    center: np.ndarray  # (M, K, 3) world
    axis_u: np.ndarray  # (M, K, 3) unit, along local a
    axis_v: np.ndarray  # (M, K, 3) unit, along local b
    half_u: np.ndarray  # (M, K) half extent along axis_u
    half_v: np.ndarray  # (M, K)
    albedo: np.ndarray  # (M, K, C)
    specular: np.ndarray  # (M, K)
    shininess_log2: np.ndarray  # (M, K) int
    relief: np.ndarray  # (M, K)
    pattern: np.ndarray  # (M, K) index into TEXTURES
    pattern_contrast: np.ndarray  # (M, K)
    pattern_frequency: np.ndarray  # (M, K) cycles per local unit


@dataclass(frozen=True)
class Ground:
    axis_u: np.ndarray  # (M, 3) texture axes on the ground plane (a random rotation)
    axis_v: np.ndarray
    texture: np.ndarray  # (M,) index into TEXTURES
    frequency: np.ndarray  # (M,) cycles per world unit
    contrast: np.ndarray  # (M,)
    albedo: np.ndarray  # (M, C)
    sky: np.ndarray  # (M, C) radiance where a ray misses the ground


@dataclass(frozen=True)
class Lights:
    kind: np.ndarray  # (M,) index into LIGHT_TYPES
    vector: np.ndarray  # (M, 3) world: unit direction towards the light, or its position
    intensity: np.ndarray  # (M,)
    ambient: np.ndarray  # (M,)
    reference_distance: np.ndarray  # (M,) point lights give `intensity` at this distance


@dataclass(frozen=True)
class Sensor:
    exposure_gain: np.ndarray  # (M,)
    colour_matrix: np.ndarray  # (M, C, C) white balance, hue and saturation
    blur_sigma: np.ndarray  # (M,)
    blur_radius: int  # taps each side, fixed per dataset
    noise_std: np.ndarray  # (M,)
    emissive: float  # share of radiance emitted rather than reflected (infrared)


@dataclass(frozen=True)
class SceneBatch:
    cameras: Cameras
    objects: Objects
    ground: Ground
    lights: Lights
    sensor: Sensor
    background_index: np.ndarray  # (M,) index into provided backgrounds, -1 for procedural
    scene: np.ndarray  # (M,) scene number within the whole dataset
    frame: np.ndarray  # (M,) frame within the scene's sequence

    @property
    def size(self) -> int:
        return len(self.scene)


def channel_count(params: dict[str, Any]) -> int:
    return {"rgb": 3, "grayscale": 1, "infrared": 1}.get(params["modality"], params["channels"])
