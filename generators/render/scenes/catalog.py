"""What can be in a scene: silhouettes (an atlas of masks), categories and named keypoints.

Every object is a flat card; its silhouette is a mask in the card's local coordinates
``(a, b)`` in ``[-1, 1]^2`` (``a`` to the right, ``b`` down as the glyph is read).
The atlas holds one ``ATLAS_SIZE x ATLAS_SIZE`` mask per silhouette; renderers look
pixels up in it, so every silhouette costs the same to draw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ATLAS_SIZE = 64
STROKE_HALF_WIDTH = 0.17  # digit strokes, in local units

# Digit skeletons: polylines in a unit box (x right, y down).
_DIGIT_STROKES: tuple[tuple[tuple[float, float], ...], ...] = (
    tuple((0.5 + 0.42 * np.sin(t), 0.5 - 0.5 * np.cos(t)) for t in np.linspace(0, 2 * np.pi, 17)),
    ((0.3, 0.2), (0.55, 0.0), (0.55, 1.0)),
    ((0.15, 0.25), (0.5, 0.0), (0.85, 0.25), (0.15, 1.0), (0.9, 1.0)),
    ((0.15, 0.05), (0.85, 0.1), (0.45, 0.45), (0.9, 0.7), (0.5, 1.0), (0.1, 0.9)),
    ((0.7, 1.0), (0.7, 0.0), (0.1, 0.7), (0.95, 0.7)),
    ((0.9, 0.0), (0.2, 0.0), (0.15, 0.45), (0.8, 0.5), (0.85, 0.9), (0.1, 1.0)),
    ((0.8, 0.0), (0.2, 0.45), (0.15, 0.9), (0.5, 1.0), (0.85, 0.8), (0.5, 0.5), (0.2, 0.65)),
    ((0.1, 0.0), (0.9, 0.0), (0.4, 1.0)),
    ((0.5, 0.5), (0.15, 0.25), (0.5, 0.0), (0.85, 0.25), (0.5, 0.5), (0.1, 0.78),
     (0.5, 1.0), (0.9, 0.78), (0.5, 0.5)),
    ((0.85, 0.35), (0.5, 0.55), (0.15, 0.3), (0.5, 0.0), (0.85, 0.3), (0.75, 1.0)),
)


def _local(points: np.ndarray) -> np.ndarray:
    """Unit-box points to local card coordinates, leaving room for the stroke width."""
    return (np.asarray(points, dtype=np.float64) * 2 - 1) * np.array([0.75, 0.8])


@dataclass(frozen=True)
class Category:
    id: int
    name: str
    supercategory: str
    keypoints: tuple[str, ...]
    annotated: bool  # False: in the semantic mask and scene description, not in COCO


@dataclass(frozen=True)
class Silhouette:
    category: Category
    mask: np.ndarray  # (ATLAS_SIZE, ATLAS_SIZE) bool
    keypoints: np.ndarray  # (P, 2) local (a, b) of each named keypoint


def _grid() -> tuple[np.ndarray, np.ndarray]:
    centres = (np.arange(ATLAS_SIZE) + 0.5) / ATLAS_SIZE * 2 - 1
    b, a = np.meshgrid(centres, centres, indexing="ij")
    return a, b


def _stroke_mask(points: np.ndarray) -> np.ndarray:
    a, b = _grid()
    pix = np.stack([a, b], -1)[:, :, None, :]
    start, end = points[:-1], points[1:]
    seg = end - start
    t = np.clip(((pix - start) * seg).sum(-1) / np.maximum((seg**2).sum(-1), 1e-12), 0, 1)
    distance = np.linalg.norm(pix - (start + t[..., None] * seg), axis=-1).min(-1)
    return distance <= STROKE_HALF_WIDTH


def _polygon_mask(vertices: np.ndarray) -> np.ndarray:
    """Even-odd rule on the atlas grid."""
    a, b = _grid()
    inside = np.zeros(a.shape, dtype=bool)
    for (a0, b0), (a1, b1) in zip(vertices, np.roll(vertices, -1, axis=0), strict=True):
        crosses = (b0 > b) != (b1 > b)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = a0 + (b - b0) * (a1 - a0) / (b1 - b0)
        inside ^= crosses & (a < at)
    return inside


def _radial_polygon(radii: np.ndarray, phase: float = -np.pi / 2) -> np.ndarray:
    angles = phase + np.linspace(0, 2 * np.pi, len(radii), endpoint=False)
    return np.stack([radii * np.cos(angles), radii * np.sin(angles)], -1)


def _build() -> tuple[list[Category], list[Silhouette]]:
    categories: list[Category] = []
    silhouettes: list[Silhouette] = []
    stroke_names = ("start", "middle", "end")
    for digit, stroke in enumerate(_DIGIT_STROKES):
        category = Category(digit + 1, str(digit), "digit", stroke_names, True)
        points = _local(stroke)
        keypoints = points[[0, len(points) // 2, -1]]
        categories.append(category)
        silhouettes.append(Silhouette(category, _stroke_mask(points), keypoints))

    a, b = _grid()
    star = _radial_polygon(np.tile([0.95, 0.4], 5))
    triangle = np.array([[0.0, -0.95], [0.95, 0.85], [-0.95, 0.85]])
    # Keypoints sit a little inside corners and tips, so they land on the object's pixels.
    shapes = (
        ("circle", a**2 + b**2 <= 0.95**2,
         ("center", "top", "right", "bottom", "left"),
         np.array([[0, 0], [0, -0.75], [0.75, 0], [0, 0.75], [-0.75, 0]])),
        ("square", (np.abs(a) <= 0.95) & (np.abs(b) <= 0.95),
         ("center", "top_left", "top_right", "bottom_right", "bottom_left"),
         np.array([[0, 0], [-0.8, -0.8], [0.8, -0.8], [0.8, 0.8], [-0.8, 0.8]])),
        ("triangle", _polygon_mask(triangle),
         ("apex", "right", "left"), triangle * 0.75),
        ("star", _polygon_mask(star),
         ("tip_1", "tip_2", "tip_3", "tip_4", "tip_5"), star[::2] * 0.55),
    )
    for name, mask, names, keypoints in shapes:
        category = Category(len(categories) + 1, name, "shape", names, True)
        categories.append(category)
        silhouettes.append(Silhouette(category, mask, np.asarray(keypoints, dtype=np.float64)))

    distractor = Category(len(categories) + 1, "distractor", "clutter", (), False)
    occluder = Category(len(categories) + 2, "occluder", "clutter", (), False)
    categories += [distractor, occluder]
    silhouettes.append(Silhouette(occluder, np.ones_like(a, dtype=bool), np.zeros((0, 2))))
    blob_rng = np.random.default_rng(20240611)  # fixed: blob shapes are part of the code version
    for _ in range(BLOB_VARIANTS):
        harmonics = blob_rng.normal(0, 0.12, size=(4, 2))
        phi = np.linspace(0, 2 * np.pi, 48, endpoint=False)
        radii = 0.7 + sum(h[0] * np.cos((k + 2) * phi) + h[1] * np.sin((k + 2) * phi)
                          for k, h in enumerate(harmonics))
        polygon = _radial_polygon(np.clip(radii, 0.3, 0.98))
        silhouettes.append(Silhouette(distractor, _polygon_mask(polygon), np.zeros((0, 2))))
    return categories, silhouettes


BLOB_VARIANTS = 4
CATEGORIES, SILHOUETTES = _build()
DIGIT_SILHOUETTES = tuple(range(10))
SHAPE_SILHOUETTES = tuple(range(10, 14))
DIGIT_CATEGORIES = tuple(SILHOUETTES[i].category for i in DIGIT_SILHOUETTES)
SHAPE_CATEGORIES = tuple(SILHOUETTES[i].category for i in SHAPE_SILHOUETTES)
PLANK_SILHOUETTE = 14
BLOB_SILHOUETTES = tuple(range(15, 15 + BLOB_VARIANTS))

# Flat tables the renderer indexes by silhouette.
ATLAS = np.stack([s.mask for s in SILHOUETTES]).reshape(-1)
SILHOUETTE_CATEGORY = np.array([s.category.id for s in SILHOUETTES], dtype=np.int16)
MAX_KEYPOINTS = max(len(s.keypoints) for s in SILHOUETTES)
KEYPOINTS = np.zeros((len(SILHOUETTES), MAX_KEYPOINTS, 2))
KEYPOINT_COUNT = np.array([len(s.keypoints) for s in SILHOUETTES])
for _index, _silhouette in enumerate(SILHOUETTES):
    KEYPOINTS[_index, : len(_silhouette.keypoints)] = _silhouette.keypoints
