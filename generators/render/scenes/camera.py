"""The camera: look-at pose, intrinsics, a division-model lens and projection.

Camera frame: x right, y down, z forward (the optical axis). World frame: the ground
is ``z = 0``, up is ``+z``, and the camera looks at the world origin.

The lens is the one-parameter division model (Fitzgibbon 2001), normalised to the
image's half diagonal ``R``: the pixel at offset ``(x, y)`` from the centre sees the
ray ``(x, y, f * (1 - k * (x^2 + y^2) / R^2))``. ``k = 0`` is a pinhole; ``k = 1``
bends the corner rays to 90 degrees (a full-frame fisheye); with ``k > 1`` the
corners fall outside the image circle and see nothing. Only ``+ - * /`` per pixel,
so the batched and the per-image renderers agree bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Cameras:
    """One camera per image; every field has the image axis first."""

    focal: np.ndarray  # (M,) pixels
    distortion: np.ndarray  # (M,) k of the division model
    rotation: np.ndarray  # (M, 3, 3) world -> camera rows (right, down, forward)
    position: np.ndarray  # (M, 3) world
    width: int
    height: int

    def intrinsics(self) -> np.ndarray:
        """(M, 3, 3) pinhole matrices; the distortion is stored beside them."""
        k = np.zeros((len(self.focal), 3, 3), dtype=np.float32)
        k[:, 0, 0] = k[:, 1, 1] = self.focal
        k[:, 0, 2], k[:, 1, 2], k[:, 2, 2] = self.width / 2, self.height / 2, 1
        return k

    def pose(self) -> np.ndarray:
        """(M, 3, 4) world -> camera ``[R | t]``."""
        t = -np.einsum("mij,mj->mi", self.rotation, self.position)
        return np.concatenate([self.rotation, t[:, :, None]], axis=2).astype(np.float32)

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """World points (M, ..., 3) to the camera frame."""
        shape = points.shape
        flat = points.reshape(shape[0], -1, 3) - self.position[:, None, :]
        return np.einsum("mij,mpj->mpi", self.rotation, flat).reshape(shape)

    def to_camera_direction(self, vectors: np.ndarray) -> np.ndarray:
        shape = vectors.shape
        flat = vectors.reshape(shape[0], -1, 3)
        return np.einsum("mij,mpj->mpi", self.rotation, flat).reshape(shape)

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Camera-frame points (M, ..., 3) to pixel coordinates (M, ..., 2) and an in-front flag."""
        extra = (slice(None),) + (None,) * (points.ndim - 2)
        x, y, in_front = project_points(points[..., 0], points[..., 1], points[..., 2],
                                        self.focal[extra], self.distortion[extra],
                                        self.width, self.height)
        return np.stack([x, y], -1), in_front


def project_points(x: np.ndarray, y: np.ndarray, z: np.ndarray, focal: np.ndarray, k: np.ndarray,
                   width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Elementwise projection of camera-frame points to pixel coordinates.

    Inverts the division model in closed form: a point at normalised radius ``r`` lands
    at pixel radius ``2 f r / (1 + sqrt(1 + 4 k f^2 r^2 / R^2))``.
    """
    in_front = z > 1e-6
    safe_z = np.where(in_front, z, 1)
    xn, yn = x / safe_z, y / safe_z
    half_diagonal_sq = (width / 2) ** 2 + (height / 2) ** 2
    scale = 2 * focal / (1 + np.sqrt(1 + 4 * k * focal**2 * (xn**2 + yn**2) / half_diagonal_sq))
    return xn * scale + width / 2, yn * scale + height / 2, in_front


def look_at(elevation: np.ndarray, azimuth: np.ndarray, distance: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """Rotation (M, 3, 3) and position (M, 3) of cameras aimed at the origin (radians)."""
    ce, se, ca, sa = np.cos(elevation), np.sin(elevation), np.cos(azimuth), np.sin(azimuth)
    position = distance[:, None] * np.stack([ce * ca, ce * sa, se], -1)
    forward = -position / distance[:, None]
    # Defined from the azimuth alone, so a top-down view (elevation 90) is not degenerate.
    right = np.stack([sa, -ca, np.zeros_like(sa)], -1)
    down = np.cross(forward, right)
    return np.stack([right, down, forward], axis=1), position


@dataclass(frozen=True)
class PixelGrid:
    """Pixel-centre offsets from the image centre, shared by every image of a size."""

    xs: np.ndarray  # (W,) float32
    ys: np.ndarray  # (H,) float32
    rho_x: np.ndarray  # (W,) xs^2 / R^2
    rho_y: np.ndarray  # (H,) ys^2 / R^2

    @classmethod
    def for_size(cls, width: int, height: int) -> PixelGrid:
        xs = (np.arange(width) + 0.5 - width / 2).astype(np.float32)
        ys = (np.arange(height) + 0.5 - height / 2).astype(np.float32)
        r2 = np.float32((width / 2) ** 2 + (height / 2) ** 2)
        return cls(xs, ys, xs * xs / r2, ys * ys / r2)


def ray_depth_component(focal: np.ndarray, focal_k: np.ndarray, rho_sq: np.ndarray) -> np.ndarray:
    """Third component ``w`` of each pixel's ray; ``w <= 0`` is outside the image circle."""
    return focal - focal_k * rho_sq
