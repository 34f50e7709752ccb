"""Helpers for the scenes tests: small renders and an independent float64 ray caster."""

from __future__ import annotations

from typing import Any

import numpy as np

from generators.params import validate_params
from generators.render.scenes import SCHEMA, render_scenes
from generators.render.scenes.render import RenderedBatch


def constant(value: float) -> dict[str, Any]:
    return {"distribution": "constant", "value": value}


def only(option: str) -> dict[str, Any]:
    """A choice that always picks ``option``."""
    return {"weights": {option: 1}}


# Ambient light only, plain materials and a clean sensor: every surface shows its albedo.
FLAT: dict[str, Any] = {
    "lighting": {"type": only("ambient"), "ambient": constant(1.0)},
    "surface": {"specular": constant(0), "relief": constant(0), "pattern": only("plain")},
    "camera": {"exposure_ev": constant(0), "white_balance": constant(0), "hue_deg": constant(0),
               "saturation": constant(1), "noise_std": constant(0), "blur_sigma": constant(0),
               "distortion": constant(0)},
    "background": {"texture": only("plain")},
}


def params(**overrides: Any) -> dict[str, Any]:
    return validate_params(SCHEMA, {"n": 16, "width": 64, "height": 64, **overrides})


def render(p: dict[str, Any], backgrounds: np.ndarray | None = None) -> list[RenderedBatch]:
    return list(render_scenes(p, backgrounds))


def ray_depths(batch: RenderedBatch, i: int, pixels: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """Camera z of the planes of ``slots`` along the rays of ``pixels`` (P, 2) as (x, y), in float64.

    Written from the camera matrices alone (pinhole matrix, division-model k, pose), not
    from the renderer's plane coefficients.
    """
    cams, obj = batch.batch.cameras, batch.batch.objects
    k_matrix = cams.intrinsics()[i].astype(np.float64)
    pose = cams.pose()[i].astype(np.float64)
    rotation, translation = pose[:, :3], pose[:, 3]
    origin = -rotation.T @ translation
    dx = pixels[:, 0] + 0.5 - k_matrix[0, 2]
    dy = pixels[:, 1] + 0.5 - k_matrix[1, 2]
    rho_sq = (dx**2 + dy**2) / (k_matrix[0, 2] ** 2 + k_matrix[1, 2] ** 2)
    w = k_matrix[0, 0] * (1 - float(cams.distortion[i]) * rho_sq)
    ray_cam = np.stack([dx, dy, w], -1)
    ray_world = ray_cam @ rotation  # R^T d for each row
    normal = np.cross(obj.axis_u[i, slots], obj.axis_v[i, slots])  # (S, 3)
    offset = ((obj.center[i, slots] - origin) * normal).sum(-1)  # (S,)
    t = offset[None, :] / (ray_world @ normal.T)  # (P, S)
    return t * w[:, None]
