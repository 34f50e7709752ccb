"""Sampling scenes: cameras, lights, ground, objects and their motion, as arrays.

Everything random about a scene is drawn here, vectorized over the scenes of a chunk
and in a fixed order, so a chunk's generator fully determines its images. The
renderers downstream are pure functions of a :class:`SceneBatch`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from generators.render.scenes import catalog
from generators.render.scenes.camera import Cameras, look_at
from generators.render.scenes.distributions import choice, integers, uniform
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
from generators.render.scenes.sensor import blur_radius

PLACEMENTS = ("scattered", "clustered", "row")
FAMILIES = ("digits", "shapes")


def _to_channels(rgb: np.ndarray, params: dict[str, Any], rng: np.random.Generator) -> np.ndarray:
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
    return np.clip(spectrum * rng.uniform(0.85, 1.15, size=spectrum.shape), 0, 1)


def _rotation_about(axis: np.ndarray, angle: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Rodrigues rotation of ``vectors`` about unit ``axis`` (all broadcast, last axis 3)."""
    cos, sin = np.cos(angle)[..., None], np.sin(angle)[..., None]
    dot = (axis * vectors).sum(-1, keepdims=True)
    return vectors * cos + np.cross(axis, vectors) * sin + axis * dot * (1 - cos)


def _placements(rng: np.random.Generator, params: dict[str, Any], scenes: int, slots: int
                ) -> np.ndarray:
    """Ground positions (S, slots, 2) of floating objects: scattered, clustered or in a row."""
    objects = params["objects"]
    mode = choice(rng, objects["placement"], PLACEMENTS, scenes)
    spread = uniform(rng, objects["spread"], scenes)[:, None]
    radius = spread * np.sqrt(rng.random((scenes, slots)))
    angle = rng.uniform(0, 2 * np.pi, (scenes, slots))
    scattered = np.stack([radius * np.cos(angle), radius * np.sin(angle)], -1)
    cluster_centre = scattered[:, :1] * 0.5
    clustered = cluster_centre + rng.normal(0, 0.3, (scenes, slots, 2)) * spread[..., None]
    heading = rng.uniform(0, np.pi, scenes)
    along = np.linspace(-1, 1, slots)[None, :] * spread * 0.8
    row = along[..., None] * np.stack([np.cos(heading), np.sin(heading)], -1)[:, None, :]
    row = row + rng.normal(0, 0.1, (scenes, slots, 2))
    return np.select([mode[:, None, None] == 0, mode[:, None, None] == 1], [scattered, clustered], row)


def _active(rng: np.random.Generator, spec: dict[str, int], scenes: int, slots: int) -> np.ndarray:
    count = integers(rng, spec, scenes)
    return np.arange(slots)[None, :] < count[:, None]


def slot_counts(params: dict[str, Any]) -> tuple[int, int, int, int]:
    """Slots per role (targets, distractors, clutter, occluders): the most a scene can hold."""
    return (params["objects"]["count"]["max"], params["distractors"]["count"]["max"],
            params["background"]["clutter"]["max"], params["occluders"]["count"]["max"])


def sample_scenes(params: dict[str, Any], first_scene: int, scenes: int,
                  rng: np.random.Generator, backgrounds: int = 0) -> SceneBatch:
    """Draw ``scenes`` scenes (numbered from ``first_scene``), each ``sequence.frames`` images."""
    counts = slot_counts(params)
    s, k = scenes, sum(counts)
    cam, light, bg = params["camera"], params["lighting"], params["background"]
    obj, surf, occ, seq = params["objects"], params["surface"], params["occluders"], params["sequence"]
    deg = np.pi / 180

    # Camera.
    fov = uniform(rng, cam["fov_deg"], s) * deg
    focal = params["width"] / 2 / np.tan(fov / 2)
    distortion = uniform(rng, cam["distortion"], s)
    rotation, position = look_at(uniform(rng, cam["elevation_deg"], s) * deg,
                                 uniform(rng, cam["azimuth_deg"], s) * deg,
                                 uniform(rng, cam["distance"], s))

    # Slots: targets, then floating distractors, ground clutter, occluders.
    n_target = counts[0]
    role = np.repeat([ROLE_TARGET, ROLE_DISTRACTOR, ROLE_CLUTTER, ROLE_OCCLUDER], counts)
    role = np.broadcast_to(role, (s, k)).copy()
    specs = (obj["count"], params["distractors"]["count"], bg["clutter"], occ["count"])
    active = np.concatenate([_active(rng, spec, s, count) for spec, count in zip(specs, counts, strict=True)],
                            axis=1)
    role[~active] = ROLE_NONE

    family = choice(rng, obj["classes"], FAMILIES, (s, k))
    digit = rng.choice(np.array(catalog.DIGIT_SILHOUETTES), (s, k))
    shape = rng.choice(np.array(catalog.SHAPE_SILHOUETTES), (s, k))
    blob = rng.choice(np.array(catalog.BLOB_SILHOUETTES), (s, k))
    silhouette = np.where(family == 0, digit, shape)
    silhouette[:, n_target:] = blob[:, n_target:]
    silhouette[role == ROLE_OCCLUDER] = catalog.PLANK_SILHOUETTE

    size = uniform(rng, obj["size"], (s, k))
    aspect = uniform(rng, obj["aspect"], (s, k))
    half_u, half_v = size * np.sqrt(aspect), size / np.sqrt(aspect)
    clutter = role == ROLE_CLUTTER
    half_u[clutter] *= 0.6
    half_v[clutter] *= 0.6
    plank_length, plank_width = uniform(rng, occ["length"], (s, k)), uniform(rng, occ["width"], (s, k))
    occluder = role == ROLE_OCCLUDER
    half_u[occluder], half_v[occluder] = plank_length[occluder], plank_width[occluder]

    ground_xy = _placements(rng, params, s, k)
    # Clutter lies anywhere on the visible ground; occluders cross the middle of the scene.
    wide = rng.uniform(-1.6, 1.6, (s, k, 2)) * uniform(rng, obj["spread"], s)[:, None, None]
    ground_xy = np.where(clutter[..., None], wide, ground_xy)
    ground_xy = np.where(occluder[..., None], wide * 0.4, ground_xy)
    height = uniform(rng, obj["height"], (s, k))
    height[clutter] = 0.01
    height[occluder] = uniform(rng, occ["height"], (s, k))[occluder]
    rotation_angle = uniform(rng, obj["rotation_deg"], (s, k)) * deg
    tilt = uniform(rng, obj["tilt_deg"], (s, k)) * deg
    tilt[clutter] = 0.0
    tilt[occluder] *= 0.3
    tilt_heading = rng.uniform(0, 2 * np.pi, (s, k))

    speed = uniform(rng, seq["speed"], (s, k))
    heading = rng.uniform(0, 2 * np.pi, (s, k))
    velocity = speed[..., None] * np.stack([np.cos(heading), np.sin(heading)], -1)
    velocity[clutter] = 0.0
    spin = uniform(rng, seq["spin_deg"], (s, k)) * deg
    spin[clutter] = 0.0

    # Surfaces.
    rgb = rng.random((s, k, 3)) ** 1.5
    rgb = rgb / np.maximum(rgb.max(-1, keepdims=True), 1e-6) * uniform(rng, surf["albedo"], (s, k))[..., None]
    albedo = _to_channels(rgb, params, rng)
    if params["modality"] == "infrared":
        albedo = rng.uniform(0.55, 1.0, (s, k, 1))  # warm bodies
    specular = uniform(rng, surf["specular"], (s, k))
    shininess = integers(rng, surf["shininess_log2"], (s, k))
    relief = uniform(rng, surf["relief"], (s, k))
    pattern = np.array([0, 1, 2])[choice(rng, surf["pattern"], ("plain", "stripes", "checker"), (s, k))]
    pattern_contrast = uniform(rng, surf["pattern_contrast"], (s, k))
    pattern_frequency = rng.uniform(1.0, 3.0, (s, k))

    # Ground and sky.
    texture = choice(rng, bg["texture"], TEXTURES, s)
    ground_angle = rng.uniform(0, 2 * np.pi, s)
    frequency = 1 / uniform(rng, bg["scale"], s)
    contrast = uniform(rng, bg["contrast"], s)
    ground_rgb = 0.6 + 0.4 * rng.random((s, 3))
    ground_rgb *= uniform(rng, bg["brightness"], s)[:, None]
    sky_rgb = np.clip(np.array([0.55, 0.7, 0.9]) * rng.uniform(0.7, 1.1, (s, 1)), 0, 1)
    ground_albedo, sky = _to_channels(ground_rgb, params, rng), _to_channels(sky_rgb, params, rng)
    if params["modality"] == "infrared":
        ground_albedo, sky = rng.uniform(0.1, 0.35, (s, 1)), np.full((s, 1), 0.05)

    # Light.
    kind = choice(rng, light["type"], LIGHT_TYPES, s)
    l_el, l_az = uniform(rng, light["elevation_deg"], s) * deg, uniform(rng, light["azimuth_deg"], s) * deg
    direction = np.stack([np.cos(l_el) * np.cos(l_az), np.cos(l_el) * np.sin(l_az), np.sin(l_el)], -1)
    l_height = uniform(rng, light["height"], s)
    # A point light sits at `height`, offset along the same heading as the elevation implies.
    point = direction * (l_height / np.maximum(direction[:, 2], 1e-3))[:, None]
    intensity = uniform(rng, light["intensity"], s)
    ambient = uniform(rng, light["ambient"], s)

    # Sensor.
    gain = 2.0 ** uniform(rng, cam["exposure_ev"], s)
    colour = _colour_matrices(uniform(rng, cam["white_balance"], s), uniform(rng, cam["hue_deg"], s) * deg,
                              uniform(rng, cam["saturation"], s), channel_count(params))
    blur = uniform(rng, cam["blur_sigma"], s)
    noise = uniform(rng, cam["noise_std"], s)
    background_index = rng.integers(0, backgrounds, s) if backgrounds else np.full(s, -1)

    # Expand scenes to frames; objects move on the ground and spin about their normal.
    frames = seq["frames"]
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
                      blur_sigma=blur[per_scene], blur_radius=blur_radius(cam["blur_sigma"]["max"]),
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
