"""The per-digit stroke grammar: control points and the strokes drawn through them.

Each digit has a few allographs (the shapes people actually write: a 1 with or
without a flag, a 7 with or without a crossbar, an open or a closed 4, ...).
An allograph is a set of control points in a unit box (x right, y down, height
1) and strokes that pass through them as uniform Catmull-Rom splines, i.e.
cubic Bezier curves whose handles follow from neighbouring points. Strokes
that share a control point index stay joined when the points are jittered; a
sharp corner is two strokes meeting at one shared point.

Because a spline is linear in its control points, sampling an allograph is one
fixed matrix per allograph: ``points = basis @ control_points``. Padding every
basis to the same shape lets a whole batch of mixed digits be sampled with one
``einsum``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

Point = tuple[float, float]


@dataclass(frozen=True)
class Stroke:
    points: tuple[int, ...]  # indices into the allograph's control points
    closed: bool = False


@dataclass(frozen=True)
class Allograph:
    digit: int
    name: str
    control: tuple[Point, ...]
    strokes: tuple[Stroke, ...]
    weight: float = 1.0  # default of how often it is drawn, relative to the digit's other allographs


def _ellipse(cx: float, cy: float, rx: float, ry: float, count: int, start_deg: float = -90) -> list[Point]:
    """Points around an ellipse, clockwise on screen, starting at ``start_deg`` (-90 = top)."""
    angles = np.deg2rad(start_deg + 360.0 * np.arange(count) / count)
    return [(cx + rx * float(np.cos(a)), cy + ry * float(np.sin(a))) for a in angles]


def _chain(start: int, count: int) -> tuple[int, ...]:
    return tuple(range(start, start + count))


def _build() -> tuple[Allograph, ...]:
    graphs: list[Allograph] = []

    def add(digit: int, name: str, control: list[Point], strokes: list[Stroke], weight: float = 1.0) -> None:
        graphs.append(Allograph(digit, name, tuple(control), tuple(strokes), weight))

    oval = _ellipse(0.35, 0.5, 0.26, 0.5, 8)
    add(0, "oval", oval, [Stroke(_chain(0, 8), closed=True)])

    add(1, "bar", [(0.35, 0.0), (0.35, 1.0)], [Stroke((0, 1))])
    add(1, "flag", [(0.08, 0.3), (0.4, 0.0), (0.38, 1.0)], [Stroke((0, 1)), Stroke((1, 2))])
    add(1, "long_flag", [(0.0, 0.5), (0.45, 0.0), (0.42, 1.0)], [Stroke((0, 1)), Stroke((1, 2))], weight=2.0)
    add(1, "flag_base", [(0.05, 0.35), (0.4, 0.0), (0.38, 1.0), (0.02, 1.0), (0.75, 1.0)],
        [Stroke((0, 1)), Stroke((1, 2)), Stroke((3, 2, 4))], weight=1.5)
    add(1, "bowed", [(0.45, 0.0), (0.22, 0.5), (0.4, 1.0)], [Stroke((0, 1, 2))])
    add(1, "right_foot", [(0.1, 0.4), (0.45, 0.0), (0.35, 0.98), (0.15, 1.0), (0.8, 0.96)],
        [Stroke((0, 1)), Stroke((1, 2)), Stroke((3, 2, 4))])

    add(2, "plain", [(0.04, 0.2), (0.28, 0.0), (0.5, 0.12), (0.48, 0.38), (0.3, 0.66), (0.1, 0.97), (0.76, 0.96)],
        [Stroke((0, 1, 2, 3, 4, 5)), Stroke((5, 6))])
    add(2, "loop", [(0.05, 0.22), (0.3, 0.0), (0.58, 0.15), (0.5, 0.45), (0.15, 0.85), (0.08, 0.98), (0.2, 0.88),
                    (0.45, 0.95), (0.68, 0.98)],
        [Stroke((0, 1, 2, 3, 4, 5, 6, 7, 8))])

    add(3, "round", [(0.04, 0.12), (0.33, 0.0), (0.6, 0.15), (0.52, 0.37), (0.25, 0.47), (0.6, 0.6), (0.62, 0.85),
                     (0.35, 1.0), (0.03, 0.88)],
        [Stroke((0, 1, 2, 3, 4)), Stroke((4, 5, 6, 7, 8))])
    add(3, "flat_top", [(0.04, 0.0), (0.62, 0.0), (0.25, 0.42), (0.6, 0.58), (0.62, 0.85), (0.35, 1.0),
                        (0.03, 0.88)],
        [Stroke((0, 1)), Stroke((1, 2)), Stroke((2, 3, 4, 5, 6))])

    add(4, "open", [(0.45, 0.0), (0.02, 0.66), (0.72, 0.66), (0.55, 0.22), (0.55, 1.0)],
        [Stroke((0, 1)), Stroke((1, 2)), Stroke((3, 4))])
    add(4, "closed", [(0.55, 1.0), (0.55, 0.0), (0.02, 0.66), (0.72, 0.66)],
        [Stroke((0, 1)), Stroke((1, 2)), Stroke((2, 3))])

    add(5, "plain", [(0.7, 0.0), (0.18, 0.0), (0.12, 0.45), (0.35, 0.38), (0.62, 0.55), (0.6, 0.85), (0.33, 1.0),
                     (0.03, 0.9)],
        [Stroke((0, 1)), Stroke((1, 2)), Stroke((2, 3, 4, 5, 6, 7))])

    add(6, "plain", [(0.42, 0.0), (0.22, 0.3), (0.1, 0.62), (0.15, 0.92), (0.38, 1.0), (0.6, 0.85), (0.58, 0.62),
                     (0.35, 0.52), (0.1, 0.66)],
        [Stroke(_chain(0, 9))])

    add(7, "plain", [(0.12, 0.03), (0.7, 0.0), (0.48, 0.45), (0.25, 1.0)],
        [Stroke((0, 1)), Stroke((1, 2, 3))])
    add(7, "crossbar", [(0.12, 0.03), (0.7, 0.0), (0.48, 0.45), (0.25, 1.0), (0.18, 0.55), (0.66, 0.52)],
        [Stroke((0, 1)), Stroke((1, 2, 3)), Stroke((4, 5))], weight=2.0)
    add(7, "serif", [(0.05, 0.22), (0.12, 0.02), (0.7, 0.0), (0.48, 0.45), (0.25, 1.0), (0.18, 0.55), (0.66, 0.52)],
        [Stroke((0, 1)), Stroke((1, 2)), Stroke((2, 3, 4)), Stroke((5, 6))])

    add(8, "figure", [(0.56, 0.12), (0.35, 0.0), (0.12, 0.14), (0.18, 0.36), (0.5, 0.6), (0.58, 0.82), (0.35, 1.0),
                      (0.12, 0.82), (0.2, 0.6), (0.52, 0.36)],
        [Stroke(_chain(0, 10), closed=True)])
    upper = _ellipse(0.35, 0.24, 0.22, 0.24, 6, start_deg=90)
    lower = _ellipse(0.35, 0.74, 0.25, 0.26, 6, start_deg=-90)
    add(8, "two_loops", upper + lower, [Stroke(_chain(0, 6), closed=True), Stroke(_chain(6, 6), closed=True)])

    head = _ellipse(0.35, 0.25, 0.28, 0.25, 6, start_deg=0)
    add(9, "straight", [*head, (0.63, 0.22), (0.45, 1.0)],
        [Stroke(_chain(0, 6), closed=True), Stroke((6, 7))])
    add(9, "hooked", [*head, (0.63, 0.22), (0.6, 0.7), (0.45, 0.97), (0.2, 0.95), (0.08, 0.78)],
        [Stroke(_chain(0, 6), closed=True), Stroke((6, 7, 8, 9, 10))], weight=2.0)
    small_head = _ellipse(0.38, 0.2, 0.24, 0.2, 6, start_deg=0)
    add(9, "small_head", [*small_head, (0.62, 0.18), (0.5, 1.0)],
        [Stroke(_chain(0, 6), closed=True), Stroke((6, 7))])
    return tuple(graphs)


ALLOGRAPHS: tuple[Allograph, ...] = _build()


def _catmull_rom_weights(t: np.ndarray) -> np.ndarray:
    """Weights of the four neighbouring control points at parameters ``t`` (T,) -> (T, 4)."""
    t2, t3 = t * t, t * t * t
    return 0.5 * np.stack([-t + 2 * t2 - t3, 2 - 5 * t2 + 3 * t3, t + 4 * t2 - 3 * t3, -t2 + t3], axis=1)


def _stroke_segments(stroke: Stroke) -> list[tuple[int, int, int, int]]:
    """The four control indices (previous, from, to, next) of each spline segment."""
    idx = list(stroke.points)
    if stroke.closed:
        m = len(idx)
        return [(idx[i - 1], idx[i], idx[(i + 1) % m], idx[(i + 2) % m]) for i in range(m)]
    padded = [idx[0], *idx, idx[-1]]  # a repeated end point makes the spline end there
    return [tuple(padded[i : i + 4]) for i in range(len(idx) - 1)]  # type: ignore[misc]


@dataclass(frozen=True)
class SampledGrammar:
    """Every allograph sampled at ``points`` positions, padded to common shapes."""

    basis: np.ndarray  # (A, K, C) float32: point k of allograph a = basis[a, k] @ control[a]
    control: np.ndarray  # (A, C, 2) float32 control points, zero-padded
    valid: np.ndarray  # (A, K) bool: False for padding
    along: np.ndarray  # (A, K) float32: position along its stroke, 0 at the start, 1 at the end
    open_stroke: np.ndarray  # (A, K) bool: True on strokes with free ends (not closed loops)
    joined: np.ndarray  # (A, K-1) bool: points k and k+1 lie on the same stroke
    digit: np.ndarray  # (A,) int64
    options: np.ndarray  # (10, M) int64: digit d's allographs, padded with its last one


@cache
def sample_grammar(points_per_unit: int) -> SampledGrammar:
    """Sample every allograph at about ``points_per_unit`` points per digit height of stroke."""
    per_graph = []
    for graph in ALLOGRAPHS:
        control = np.asarray(graph.control, dtype=np.float64)
        rows, along, ends = [], [], []
        for stroke in graph.strokes:
            segments = _stroke_segments(stroke)
            chords = [float(np.linalg.norm(control[b] - control[a])) for _, a, b, _ in segments]
            total = sum(chords)
            done = 0.0
            for (p, a, b, q), chord in zip(segments, chords, strict=True):
                count = max(2, int(np.ceil(chord * points_per_unit)) + 1)
                t = np.linspace(0.0, 1.0, count)
                weights = np.zeros((count, len(control)))
                for column, index in enumerate((p, a, b, q)):
                    weights[:, index] += _catmull_rom_weights(t)[:, column]
                rows.append(weights)
                along.append((done + t * chord) / total)
                ends.append(np.full(count, not stroke.closed))
                done += chord
        per_graph.append((control, np.concatenate(rows), np.concatenate(along), np.concatenate(ends)))
    size_k = max(basis.shape[0] for _, basis, _, _ in per_graph)
    size_c = max(control.shape[0] for control, _, _, _ in per_graph)
    count = len(per_graph)
    basis = np.zeros((count, size_k, size_c), np.float32)
    control = np.zeros((count, size_c, 2), np.float32)
    valid = np.zeros((count, size_k), bool)
    along = np.zeros((count, size_k), np.float32)
    open_stroke = np.zeros((count, size_k), bool)
    for a, (ctrl, rows, pos, ends) in enumerate(per_graph):
        k, c = rows.shape
        basis[a, :k, :c] = rows
        control[a, :c] = ctrl
        valid[a, :k] = True
        along[a, :k] = pos
        open_stroke[a, :k] = ends
    # Along-stroke position only falls where a new stroke starts.
    joined = valid[:, 1:] & valid[:, :-1] & (along[:, 1:] >= along[:, :-1])
    digit = np.array([graph.digit for graph in ALLOGRAPHS], dtype=np.int64)
    per_digit = [np.nonzero(digit == d)[0] for d in range(10)]
    most = max(len(indices) for indices in per_digit)
    options = np.array([np.pad(indices, (0, most - len(indices)), mode="edge") for indices in per_digit])
    return SampledGrammar(basis, control, valid, along, open_stroke, joined, digit, options)
