"""Batched stroke geometry: from allograph control points to stroke points in pixels.

Points travel as one (2, B, K) array, x then y (y down): each coordinate is
contiguous per image, which keeps the per-image reductions fast. All functions
work on a whole batch. Steps made of plain arithmetic and comparisons run as small
numba kernels that loop over images and points, each in float32 operation for
operation as numpy computed it (no fast-math), so the output is unchanged to the
bit; sines, cosines, matrix products and sums stay in numpy, whose results depend
on its own implementations and summation order. Before placement the unit of
length is one digit height.
"""

from __future__ import annotations

import numpy as np

from generators.render.digits.grammar import SampledGrammar
from generators.render.digits.jit import njit

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
    phases = np.empty((*control.shape, waves.shape[3]), np.float32)  # (B, C, 2, W)
    _wave_phases(np.ascontiguousarray(control, np.float32), np.ascontiguousarray(waves, np.float32), phases)
    field = np.sin(phases, out=phases)
    field *= waves[:, None, 3]  # weight
    return control + field.sum(axis=3)


@njit(cache=True, nogil=True)
def _wave_phases(control, waves, phases):  # pragma: no cover - compiled
    """``x * fx + y * fy + phase`` of every control point and wave, float32 step by step."""
    for b in range(phases.shape[0]):
        for c in range(phases.shape[1]):
            x, y = control[b, c, 0], control[b, c, 1]
            for axis in range(phases.shape[2]):
                for w in range(phases.shape[3]):
                    phases[b, c, axis, w] = np.float32(np.float32(x * waves[b, 0, axis, w])
                                                       + np.float32(y * waves[b, 1, axis, w])) + waves[b, 2, axis, w]


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
    count, size_k = len(allograph), grammar.along.shape[1]
    valid, width = np.empty((count, size_k), bool), np.empty((count, size_k), np.float32)
    _trim_and_taper(grammar.along, grammar.open_stroke, grammar.valid, allograph,
                    trim_start.astype(np.float32), trim_end.astype(np.float32),
                    taper.astype(np.float32), valid, width)
    return valid, width


@njit(cache=True, nogil=True)
def _trim_and_taper(along, open_stroke, kept, allograph, trim_start, trim_end, taper, valid, width
                    ):  # pragma: no cover - compiled
    """Per image and point, in float32 step by step as numpy computed it before:
    ``valid = kept & (~open | (start <= along <= end))`` with ``end = 1 - trim_end``, and
    ``width = 1 - taper * clip(1 - min(along - start, end - along) / TAPER_ZONE, 0, 1)``
    on open strokes, 1 elsewhere."""
    zone = np.float32(TAPER_ZONE)
    for b in range(allograph.shape[0]):
        graph = allograph[b]
        start = trim_start[b]
        end = np.float32(1.0 - trim_end[b])
        for k in range(along.shape[1]):
            position = along[graph, k]
            if open_stroke[graph, k]:
                valid[b, k] = kept[graph, k] and position >= start and position <= end
                to_end = np.float32(min(np.float32(position - start), np.float32(end - position)) / zone)
                thinning = np.float32(taper[b] * min(max(np.float32(1.0 - to_end), np.float32(0.0)),
                                                     np.float32(1.0)))
                width[b, k] = np.float32(1.0 - thinning)
            else:
                valid[b, k] = kept[graph, k]
                width[b, k] = 1.0


def shape(points: np.ndarray, width: np.ndarray, slant: np.ndarray, rotation_deg: np.ndarray) -> np.ndarray:
    """Stretch horizontally, shear (top to the right for positive slant), then rotate
    counter-clockwise, all about the template centre."""
    theta = np.deg2rad(rotation_deg.astype(np.float32))
    out = np.empty(points.shape, np.float32)
    _shape(np.ascontiguousarray(points, np.float32), width.astype(np.float32), slant.astype(np.float32),
           np.cos(theta), np.sin(theta), out)
    return out


@njit(cache=True, nogil=True)
def _shape(points, width, slant, cos, sin, out):  # pragma: no cover - compiled
    """Float32 step by step, as numpy computed it: x = (x0 - cx) * width; y = y0 - cy;
    x -= slant * y; then the rotation (x cos + y sin, y cos - x sin)."""
    centre_x, centre_y = np.float32(TEMPLATE_CENTRE[0]), np.float32(TEMPLATE_CENTRE[1])
    for b in range(points.shape[1]):
        for k in range(points.shape[2]):
            x = np.float32(np.float32(points[0, b, k] - centre_x) * width[b])
            y = np.float32(points[1, b, k] - centre_y)
            x = np.float32(x - np.float32(slant[b] * y))
            out[0, b, k] = np.float32(x * cos[b]) + np.float32(y * sin[b])
            out[1, b, k] = np.float32(y * cos[b]) - np.float32(x * sin[b])


def stroke_length(points: np.ndarray, valid: np.ndarray, joined: np.ndarray) -> np.ndarray:
    """Total drawn length (B,) of the strokes, counting only kept, joined neighbours."""
    steps = np.hypot(np.diff(points[0], axis=1), np.diff(points[1], axis=1))
    return (steps * (joined & valid[:, 1:] & valid[:, :-1])).sum(axis=1)


def bounding_box(points: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-image (2, B) minimum and maximum corner of the valid points (inf and -inf for
    an image without any)."""
    low = np.empty((2, points.shape[1]), points.dtype)
    high = np.empty_like(low)
    _bounding_box(np.ascontiguousarray(points), np.ascontiguousarray(valid), low, high)
    return low, high


@njit(cache=True, nogil=True)
def _bounding_box(points, valid, low, high):  # pragma: no cover - compiled
    for axis in range(points.shape[0]):
        for b in range(points.shape[1]):
            smallest, largest = np.inf, -np.inf
            for k in range(points.shape[2]):
                if valid[b, k]:
                    smallest = min(smallest, points[axis, b, k])
                    largest = max(largest, points[axis, b, k])
            low[axis, b], high[axis, b] = smallest, largest


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
