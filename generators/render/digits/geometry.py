"""Batched stroke geometry: from allograph control points to stroke points in pixels.

Points travel as one (2, B, K) array, x then y (y down): each coordinate is
contiguous per image, which keeps the per-image reductions fast. All functions
work on a whole batch and never loop over images. Before placement the unit of
length is one digit height.
"""

from __future__ import annotations

import numpy as np

from generators.render.digits.grammar import SampledGrammar

TEMPLATE_CENTRE = (0.35, 0.5)
ELASTIC_WAVES = 4  # sine waves summed per displacement axis
TAPER_ZONE = 0.15  # fraction of a stroke, at each free end, over which it thins


def jittered_control(grammar: SampledGrammar, allograph: np.ndarray, jitter: np.ndarray,
                     noise: np.ndarray) -> np.ndarray:
    """Each image's control points (B, C, 2), moved independently by ``jitter`` (B,) times
    standard normal ``noise`` (B, C, 2)."""
    return grammar.control[allograph] + jitter[:, None, None] * noise


def elastic_waves(rng: np.random.Generator, amplitude: np.ndarray) -> np.ndarray:
    """Random plane sine waves (B, 4, 2, W) for :func:`elastic_displacement`: per image,
    per displacement axis, W waves' x and y angular frequency (0.5-1.5 cycles per digit
    height in a random direction), phase and weight, the weights scaled so each axis
    moves by RMS ``amplitude``."""
    shape = (len(amplitude), 2, ELASTIC_WAVES)
    angle = rng.uniform(0, 2 * np.pi, shape)
    frequency = 2 * np.pi * rng.uniform(0.5, 1.5, shape)
    phase = rng.uniform(0, 2 * np.pi, shape)
    weight = rng.standard_normal(shape) * np.sqrt(2.0 / ELASTIC_WAVES) * amplitude[:, None, None]
    waves = [frequency * np.cos(angle), frequency * np.sin(angle), phase, weight]
    return np.stack(waves, axis=1).astype(np.float32)


def elastic_displacement(control: np.ndarray, waves: np.ndarray) -> np.ndarray:
    """Move control points (B, C, 2) by the smooth displacement field summed from ``waves``.
    The field varies slowly between neighbouring control points, so warping them warps
    the spline through them, at C rather than K sines per image."""
    fx, fy, phase, weight = (part[:, None] for part in np.moveaxis(waves, 1, 0))  # (B, 1, 2, W)
    x, y = control[..., 0, None, None], control[..., 1, None, None]  # (B, C, 1, 1)
    field = np.sin(x * fx + y * fy + phase)
    field *= weight
    return control + field.sum(axis=3)


def stroke_points(grammar: SampledGrammar, allograph: np.ndarray, control: np.ndarray) -> np.ndarray:
    """Sample the splines of each image's allograph through its control points (B, C, 2)
    -> (2, B, K) points."""
    points = np.empty((2, len(allograph), grammar.basis.shape[1]), np.float32)
    # One matrix product per allograph: far faster than a batched product of tiny matrices.
    for index in np.unique(allograph):
        members = np.nonzero(allograph == index)[0]
        ctrl = control[members].transpose(1, 0, 2).reshape(control.shape[1], -1)
        sampled = grammar.basis[index] @ ctrl  # (K, members * 2)
        points[:, members] = sampled.reshape(-1, len(members), 2).transpose(2, 1, 0)
    return points


def trim_and_taper(grammar: SampledGrammar, allograph: np.ndarray, trim_start: np.ndarray,
                   trim_end: np.ndarray, taper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Leave out the first/last fraction of each open stroke and thin its new ends.
    Returns the valid mask (B, K) and a per-point width factor (B, K)."""
    along = grammar.along[allograph]
    is_open = grammar.open_stroke[allograph]
    start, end = trim_start[:, None], 1.0 - trim_end[:, None]
    valid = grammar.valid[allograph] & (~is_open | ((along >= start) & (along <= end)))
    to_end = np.minimum(along - start, end - along) / TAPER_ZONE
    thinning = taper[:, None] * np.clip(1.0 - to_end, 0.0, 1.0)
    return valid, np.where(is_open, 1.0 - thinning, 1.0).astype(np.float32)


def shape(points: np.ndarray, width: np.ndarray, slant: np.ndarray, rotation_deg: np.ndarray) -> np.ndarray:
    """Stretch horizontally, shear (top to the right for positive slant), then rotate
    counter-clockwise, all about the template centre."""
    x = (points[0] - TEMPLATE_CENTRE[0]) * width[:, None]
    y = points[1] - TEMPLATE_CENTRE[1]
    x = x - slant[:, None] * y
    theta = np.deg2rad(rotation_deg)[:, None].astype(np.float32)
    cos, sin = np.cos(theta), np.sin(theta)
    return np.stack([x * cos + y * sin, y * cos - x * sin])


def stroke_length(points: np.ndarray, valid: np.ndarray, joined: np.ndarray) -> np.ndarray:
    """Total drawn length (B,) of the strokes, counting only kept, joined neighbours."""
    steps = np.hypot(np.diff(points[0], axis=1), np.diff(points[1], axis=1))
    return (steps * (joined & valid[:, 1:] & valid[:, :-1])).sum(axis=1)


def bounding_box(points: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-image (2, B) minimum and maximum corner of the valid points."""
    low = np.stack([np.where(valid, axis, np.inf).min(axis=1) for axis in points])
    high = np.stack([np.where(valid, axis, -np.inf).max(axis=1) for axis in points])
    return low, high


def radius_for_ink(ink_area: np.ndarray, length: np.ndarray, extent: np.ndarray | None,
                   frame: int, pixels_per_unit: np.ndarray | None = None) -> np.ndarray:
    """Stroke radius in pixels giving about ``ink_area`` pixels of ink for strokes of
    ``length`` (digit units), modelled as 2 r L_px + pi r^2 (a sausage with round caps).

    With ``extent`` (fit to the frame) the scale depends on the radius itself,
    L_px = L (frame - 2 r) / extent, which keeps the equation quadratic in r.
    """
    if extent is None:
        a = np.full_like(length, np.pi)
        b = 2 * pixels_per_unit * length
    else:
        a = np.pi - 4 * length / extent
        b = 2 * length * frame / extent
    # The numerically stable root of a r^2 + b r - A = 0.
    root = np.sqrt(np.maximum(b * b + 4 * a * ink_area, 0.0))
    return (2 * ink_area / (b + root)).astype(np.float32)
