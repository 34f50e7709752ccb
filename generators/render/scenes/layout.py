"""Sampling scenes: cameras, lights, ground, objects and their motion, as arrays.

Everything random about a scene is drawn here, vectorized over the scenes of a chunk
and in a fixed order, each value from an attribute the schema declares, so a chunk's
generator fully determines its images and a tuner sees every distribution. The
renderers downstream are pure functions of a :class:`SceneBatch`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from generators.params import Distribution, distributions
from generators.render.scenes import catalog
from generators.render.scenes.camera import Cameras, look_at
from generators.render.scenes.scene import (
    LIGHT_TYPES,
    ROLE_CLUTTER,
    ROLE_DISTRACTOR,
    ROLE_NONE,
    ROLE_OCCLUDER,
    ROLE_TARGET,
    TEXTURES,
    Ground,
    Lights,
    Objects,
    SceneBatch,
    Sensor,
    channel_count,
)
from generators.render.scenes.schema import SCHEMA
from generators.render.scenes.sensor import blur_radius

PLACEMENTS = ("scattered", "clustered", "row")
FAMILIES = ("digits", "shapes")
PATTERNS = ("plain", "stripes", "checker")
SKY_RGB = np.array([0.55, 0.7, 0.9])


class Draw:
    """Values of the schema's attributes, by dotted path, from one generator in call order."""

    def __init__(self, params: dict[str, Any], rng: np.random.Generator) -> None:
        self.found: dict[str, Distribution] = distributions(SCHEMA, params)
        self.rng = rng

    def __call__(self, path: str, size: int | tuple[int, ...]) -> np.ndarray:
        return self.found[path].sample(self.rng, size)

    def choice(self, path: str, options: tuple[str, ...], size: int | tuple[int, ...]) -> np.ndarray:
        """Indices into ``options`` (the renderer's order) of a choice attribute's draws."""
        drawn = self.found[path].sample(self.rng, size)
        order = np.array([options.index(name) for name in self.found[path].options])
        return order[drawn]


def _to_channels(rgb: np.ndarray, params: dict[str, Any], draw: Draw) -> np.ndarray:
    """Map RGB reflectances to the sensor's bands."""
    modality = params["modality"]
    if modality == "rgb":
        return rgb
    if modality in ("grayscale", "infrared"):
        return rgb.mean(-1, keepdims=True)
    # Multispectral: a smooth spectrum through blue, green and red, with per-band texture.
    bands = np.linspace(0, 2, params["channels"])
    low = np.floor(bands).clip(0, 1).astype(int)
    frac = bands - low
    spectrum = rgb[..., 2 - low] * (1 - frac) + rgb[..., 2 - low - 1] * frac
    return np.clip(spectrum * draw("surface.band_gain", spectrum.shape), 0, 1)


def _rotation_about(axis: np.ndarray, angle: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Rodrigues rotation of ``vectors`` about unit ``axis`` (all broadcast, last axis 3)."""
    cos, sin = np.cos(angle)[..., None], np.sin(angle)[..., None]
    dot = (axis * vectors).sum(-1, keepdims=True)
    return vectors * cos + np.cross(axis, vectors) * sin + axis * dot * (1 - cos)


def _placements(draw: Draw, spread: np.ndarray, scenes: int, slots: int) -> np.ndarray:
    """Ground positions (S, slots, 2) of floating objects: scattered, clustered or in a row."""
    deg = np.pi / 180
    mode = draw.choice("objects.placement", PLACEMENTS, scenes)
    spread = spread[:, None]
    radius = spread * np.sqrt(draw("objects.scatter_area", (scenes, slots)))
    angle = draw("objects.scatter_angle_deg", (scenes, slots)) * deg
    scattered = np.stack([radius * np.cos(angle), radius * np.sin(angle)], -1)
    cluster_centre = scattered[:, :1] * 0.5
    clustered = cluster_centre + draw("objects.cluster_offset", (scenes, slots, 2)) * spread[..., None]
    heading = draw("objects.row_heading_deg", scenes) * deg
    along = np.linspace(-1, 1, slots)[None, :] * spread * 0.8
    row = along[..., None] * np.stack([np.cos(heading), np.sin(heading)], -1)[:, None, :]
    row = row + draw("objects.row_offset", (scenes, slots, 2))
    return np.select([mode[:, None, None] == 0, mode[:, None, None] == 1], [scattered, clustered], row)


COUNTS = ("objects.count", "distractors.count", "background.clutter", "occluders.count")


def _counts(params: dict[str, Any]) -> list[Any]:
    """The count distributions of the four roles (targets, distractors, clutter, occluders)."""
    found = distributions(SCHEMA, params)
    return [found[path] for path in COUNTS]


def slot_counts(params: dict[str, Any]) -> tuple[int, ...]:
    """Slots per role (targets, distractors, clutter, occluders): the most a scene can hold."""
    return tuple(int(count.support[1]) for count in _counts(params))


def expected_counts(params: dict[str, Any]) -> tuple[float, ...]:
    """Objects per role a scene holds on average (targets, distractors, clutter, occluders)."""
    return tuple(count.expected_value() for count in _counts(params))


def sample_scenes(params: dict[str, Any], first_scene: int, scenes: int,
                  rng: np.random.Generator, backgrounds: int = 0) -> SceneBatch:
    """Draw ``scenes`` scenes (numbered from ``first_scene``), each ``sequence.frames`` images."""
    draw = Draw(params, rng)
    counts = slot_counts(params)
    s, k = scenes, sum(counts)
    deg = np.pi / 180

    # Camera.
    fov = draw("camera.fov_deg", s) * deg
    focal = params["width"] / 2 / np.tan(fov / 2)
    distortion = draw("camera.distortion", s)
    rotation, position = look_at(draw("camera.elevation_deg", s) * deg, draw("camera.azimuth_deg", s) * deg,
                                 draw("camera.distance", s))

    # Slots: targets, then floating distractors, ground clutter, occluders.
    n_target = counts[0]
    role = np.repeat([ROLE_TARGET, ROLE_DISTRACTOR, ROLE_CLUTTER, ROLE_OCCLUDER], counts)
    role = np.broadcast_to(role, (s, k)).copy()
    active = np.concatenate([np.arange(slots)[None, :] < draw(path, s)[:, None]
                             for path, slots in zip(COUNTS, counts, strict=True)], axis=1)
    role[~active] = ROLE_NONE

    family = draw.choice("objects.classes", FAMILIES, (s, k))
    digit = np.array(catalog.DIGIT_SILHOUETTES)[draw("objects.digits", (s, k))]
    shape = np.array(catalog.SHAPE_SILHOUETTES)[draw("objects.shapes", (s, k))]
    blob = np.array(catalog.BLOB_SILHOUETTES)[draw("distractors.shapes", (s, k))]
    silhouette = np.where(family == 0, digit, shape)
    silhouette[:, n_target:] = blob[:, n_target:]
    silhouette[role == ROLE_OCCLUDER] = catalog.PLANK_SILHOUETTE

    size = draw("objects.size", (s, k))
    aspect = draw("objects.aspect", (s, k))
    half_u, half_v = size * np.sqrt(aspect), size / np.sqrt(aspect)
    clutter = role == ROLE_CLUTTER
    half_u[clutter] *= 0.6
    half_v[clutter] *= 0.6
    plank_length, plank_width = draw("occluders.length", (s, k)), draw("occluders.width", (s, k))
    occluder = role == ROLE_OCCLUDER
    half_u[occluder], half_v[occluder] = plank_length[occluder], plank_width[occluder]

    spread = draw("objects.spread", s)
    ground_xy = _placements(draw, spread, s, k)
    # Clutter lies anywhere on the visible ground; occluders cross the middle of the scene.
    ground_xy = np.where(clutter[..., None], draw("background.clutter_position", (s, k, 2)) * spread[:, None, None],
                         ground_xy)
    ground_xy = np.where(occluder[..., None], draw("occluders.position", (s, k, 2)) * spread[:, None, None],
                         ground_xy)
    height = draw("objects.height", (s, k))
    height[clutter] = 0.01
    height[occluder] = draw("occluders.height", (s, k))[occluder]
    rotation_angle = draw("objects.rotation_deg", (s, k)) * deg
    tilt = draw("objects.tilt_deg", (s, k)) * deg
    tilt[clutter] = 0.0
    tilt[occluder] *= 0.3
    tilt_heading = draw("objects.tilt_heading_deg", (s, k)) * deg

    speed = draw("sequence.speed", (s, k))
    heading = draw("sequence.heading_deg", (s, k)) * deg
    velocity = speed[..., None] * np.stack([np.cos(heading), np.sin(heading)], -1)
    velocity[clutter] = 0.0
    spin = draw("sequence.spin_deg", (s, k)) * deg
    spin[clutter] = 0.0

    # Surfaces.
    rgb = draw("surface.colour", (s, k, 3)) ** 1.5
    rgb = rgb / np.maximum(rgb.max(-1, keepdims=True), 1e-6) * draw("surface.albedo", (s, k))[..., None]
    specular = draw("surface.specular", (s, k))
    shininess = draw("surface.shininess_log2", (s, k))
    relief = draw("surface.relief", (s, k))
    pattern = draw.choice("surface.pattern", PATTERNS, (s, k))
    pattern_contrast = draw("surface.pattern_contrast", (s, k))
    pattern_frequency = draw("surface.pattern_frequency", (s, k))

    # Ground and sky.
    texture = draw.choice("background.texture", TEXTURES, s)
    ground_angle = draw("background.rotation_deg", s) * deg
    frequency = 1 / draw("background.scale", s)
    contrast = draw("background.contrast", s)
    ground_rgb = draw("background.colour", (s, 3)) * draw("background.brightness", s)[:, None]
    sky_rgb = np.clip(SKY_RGB * draw("background.sky_brightness", (s, 1)), 0, 1)

    # Light.
    kind = draw.choice("lighting.type", LIGHT_TYPES, s)
    l_el, l_az = draw("lighting.elevation_deg", s) * deg, draw("lighting.azimuth_deg", s) * deg
    direction = np.stack([np.cos(l_el) * np.cos(l_az), np.cos(l_el) * np.sin(l_az), np.sin(l_el)], -1)
    l_height = draw("lighting.height", s)
    # A point light sits at `height`, offset along the same heading as the elevation implies.
    point = direction * (l_height / np.maximum(direction[:, 2], 1e-3))[:, None]
    intensity = draw("lighting.intensity", s)
    ambient = draw("lighting.ambient", s)

    # Sensor.
    gain = 2.0 ** draw("camera.exposure_ev", s)
    colour = _colour_matrices(draw("camera.white_balance", s), draw("camera.hue_deg", s) * deg,
                              draw("camera.saturation", s), channel_count(params))
    blur = draw("camera.blur_sigma", s)
    noise = draw("camera.noise_std", s)

    # Draws only some modalities or inputs use come last: the rest do not depend on them.
    if params["modality"] == "infrared":  # warm bodies on a cool ground, under a cold sky
        albedo, ground_albedo = draw("surface.temperature", (s, k, 1)), draw("background.temperature", (s, 1))
        sky = np.full((s, 1), 0.05)
    else:
        albedo, ground_albedo, sky = (_to_channels(x, params, draw) for x in (rgb, ground_rgb, sky_rgb))
    background_index = (np.minimum((draw("background.image", s) * backgrounds).astype(np.int64), backgrounds - 1)
                        if backgrounds else np.full(s, -1))

    # Expand scenes to frames; objects move on the ground and spin about their normal.
    frames = params["sequence"]["frames"]
    t = np.tile(np.arange(frames), s).astype(np.float64)
    per_scene = np.repeat(np.arange(s), frames)
    tt = t[:, None]
    xy = ground_xy[per_scene] + velocity[per_scene] * tt[..., None]
    angle = rotation_angle[per_scene] + spin[per_scene] * tt
    u0 = np.stack([np.cos(angle), np.sin(angle), np.zeros_like(angle)], -1)
    # v0 is chosen so u x v points into the ground: glyphs read unmirrored from above.
    v0 = np.stack([np.sin(angle), -np.cos(angle), np.zeros_like(angle)], -1)
    axis = np.stack([np.cos(tilt_heading), np.sin(tilt_heading), np.zeros_like(tilt_heading)], -1)[per_scene]
    axis_u = _rotation_about(axis, tilt[per_scene], u0)
    axis_v = _rotation_about(axis, tilt[per_scene], v0)
    # Lift tilted cards so no corner sinks into the ground.
    lift = np.sin(tilt) * np.hypot(half_u, half_v)
    center = np.concatenate([xy, (height + lift)[per_scene][..., None]], -1)

    f32 = np.float32
    g_cos, g_sin = np.cos(ground_angle), np.sin(ground_angle)
    zeros = np.zeros(s)
    return SceneBatch(
        cameras=Cameras(focal=focal[per_scene].astype(f32), distortion=distortion[per_scene].astype(f32),
                        rotation=rotation[per_scene], position=position[per_scene],
                        width=params["width"], height=params["height"]),
        objects=Objects(
            active=active[per_scene], role=role[per_scene].astype(np.uint8),
            silhouette=silhouette[per_scene],
            category=np.where(active, catalog.SILHOUETTE_CATEGORY[silhouette], 0)[per_scene].astype(np.int16),
            center=center, axis_u=axis_u, axis_v=axis_v,
            half_u=half_u[per_scene], half_v=half_v[per_scene],
            albedo=albedo[per_scene].astype(f32), specular=specular[per_scene].astype(f32),
            shininess_log2=shininess[per_scene], relief=relief[per_scene].astype(f32),
            pattern=pattern[per_scene], pattern_contrast=pattern_contrast[per_scene].astype(f32),
            pattern_frequency=pattern_frequency[per_scene].astype(f32),
        ),
        ground=Ground(
            axis_u=np.stack([g_cos, g_sin, zeros], -1)[per_scene],
            axis_v=np.stack([g_sin, -g_cos, zeros], -1)[per_scene],
            texture=texture[per_scene], frequency=frequency[per_scene].astype(f32),
            contrast=contrast[per_scene].astype(f32), albedo=ground_albedo[per_scene].astype(f32),
            sky=sky[per_scene].astype(f32),
        ),
        lights=Lights(kind=kind[per_scene], vector=np.where((kind == 1)[:, None], point, direction)[per_scene],
                      intensity=intensity[per_scene].astype(f32), ambient=ambient[per_scene].astype(f32),
                      reference_distance=l_height[per_scene]),
        sensor=Sensor(exposure_gain=gain[per_scene].astype(f32), colour_matrix=colour[per_scene].astype(f32),
                      blur_sigma=blur[per_scene],
                      blur_radius=blur_radius(draw.found["camera.blur_sigma"].support[1]),
                      noise_std=noise[per_scene].astype(f32),
                      emissive=0.7 if params["modality"] == "infrared" else 0.0),
        background_index=background_index[per_scene],
        scene=first_scene + per_scene,
        frame=t.astype(np.int32),
    )


def _colour_matrices(white_balance: np.ndarray, hue: np.ndarray, saturation: np.ndarray,
                     channels: int) -> np.ndarray:
    """(S, C, C): RGB gets white balance, hue rotation and saturation; other bands the identity."""
    if channels != 3:
        return np.broadcast_to(np.eye(channels), (len(hue), channels, channels)).copy()
    # Hue rotation and saturation in YIQ, where luma is separate from chroma.
    c, s = np.cos(hue) * saturation, np.sin(hue) * saturation
    chroma = np.zeros((len(hue), 3, 3))
    chroma[:, 0, 0] = 1
    chroma[:, 1, 1], chroma[:, 1, 2], chroma[:, 2, 1], chroma[:, 2, 2] = c, -s, s, c
    balance = np.stack([1 + white_balance, np.ones_like(white_balance), 1 - white_balance], -1)
    # einsum, not matmul: a BLAS call here leaves OpenBLAS's threads spinning, which
    # costs a render worker more CPU time than the whole product.
    return np.einsum("ij,sjk,kl->sil", _FROM_YIQ, chroma, _TO_YIQ) * balance[:, None, :]


_TO_YIQ = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
_FROM_YIQ = np.linalg.inv(_TO_YIQ)
