"""The JSON schema of the scenes renderer, and the checks JSON Schema cannot express.

Two kinds of randomized parameter, used the same way everywhere:

* a **range** ``{"min": a, "max": b}``: drawn uniformly per scene (or per object);
  ``min == max`` makes it a constant. Integer ranges (counts) include both ends.
* a **choice** ``{"option": weight, ...}``: drawn per scene (or per object) with
  probability proportional to the weights; a weight of 0 switches an option off.

Dataset-level constants (they fix array shapes): ``width``, ``height``, ``modality``,
``channels`` and ``sequence.frames``.
"""

from __future__ import annotations

from typing import Any

from generators.params import ParameterError


def _range(lo: float, hi: float, minimum: float, maximum: float, description: str,
           integer: bool = False) -> dict[str, Any]:
    bound = {"type": "integer" if integer else "number", "minimum": minimum, "maximum": maximum}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["min", "max"],
        "properties": {"min": dict(bound), "max": dict(bound)},
        "default": {"min": lo, "max": hi},
        "description": f"{description} Range {{min, max}}, drawn uniformly.",
    }


def _choice(weights: dict[str, float], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "properties": {name: {"type": "number", "minimum": 0} for name in weights},
        "default": dict(weights),
        "description": f"{description} Choice {{option: weight}}, drawn by weight.",
    }


def _group(description: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "description": description,
            "properties": properties, "default": {}}


MAX_OBJECTS = 12
MAX_DISTRACTORS = 6
MAX_CLUTTER = 12
MAX_OCCLUDERS = 4

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        # About 280 kB a scene at the default size: the default run writes about 29 MB.
        "n": {"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 100,
              "description": "Number of scenes (each has `sequence.frames` images)."},
        "seed": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1, "default": 0},
        "width": {"type": "integer", "minimum": 16, "maximum": 1024, "default": 128},
        "height": {"type": "integer", "minimum": 16, "maximum": 1024, "default": 128},
        "modality": {"enum": ["rgb", "grayscale", "infrared", "multispectral"], "default": "rgb",
                     "description": "infrared: warm objects emit, shading matters little."},
        "channels": {"type": "integer", "minimum": 2, "maximum": 16, "default": 5,
                     "description": "Bands of the multispectral modality (ignored otherwise)."},
        "min_visible_fraction": {
            "type": "number", "minimum": 0, "maximum": 1, "default": 0.1,
            "description": "COCO keeps objects at least this visible; arrays and the scene "
                           "description keep every object."},
        "camera": _group("Camera and sensor.", {
            "fov_deg": _range(45, 65, 10, 150, "Horizontal field of view, degrees."),
            "distortion": _range(0.0, 0.3, 0.0, 2.0,
                                 "Lens distortion: 0 pinhole, 1 fisheye reaching the corners, "
                                 ">1 circular fisheye."),
            "elevation_deg": _range(55, 90, 5, 90, "Capture angle above the ground; 90 is top-down."),
            "azimuth_deg": _range(0, 360, -360, 720, "Camera heading around the scene."),
            "distance": _range(8, 11, 2, 100, "Camera distance to the scene centre."),
            "exposure_ev": _range(-0.5, 0.5, -4, 4, "Exposure in stops."),
            "white_balance": _range(-0.1, 0.1, -0.5, 0.5, "Warm (+) / cool (-) cast, RGB only."),
            "hue_deg": _range(-8, 8, -180, 180, "Hue rotation, RGB only."),
            "saturation": _range(0.8, 1.2, 0, 3, "Saturation factor, RGB only."),
            "noise_std": _range(0.0, 0.03, 0, 0.5, "Sensor noise standard deviation (0..1 scale)."),
            "blur_sigma": _range(0.0, 0.7, 0, 1.5, "Gaussian blur, pixels."),
        }),
        "lighting": _group("Light source and shading.", {
            "type": _choice({"directional": 1.0, "point": 1.0, "ambient": 0.1}, "Light type."),
            "elevation_deg": _range(35, 90, 5, 90, "Light elevation (direction or position)."),
            "azimuth_deg": _range(0, 360, -360, 720, "Light azimuth."),
            "height": _range(5, 10, 1, 50, "Height of a point light above the ground."),
            "intensity": _range(0.7, 1.1, 0, 4, "Light intensity."),
            "ambient": _range(0.2, 0.4, 0, 1, "Ambient light level."),
        }),
        "background": _group("Ground plane (or a provided image) behind the objects.", {
            "texture": _choice({"checker": 1.0, "stripes": 1.0, "noise": 1.0, "plain": 0.5},
                               "Procedural ground texture."),
            "scale": _range(0.4, 2.0, 0.05, 20, "Texture period, world units."),
            "contrast": _range(0.1, 0.5, 0, 1, "Texture contrast."),
            "brightness": _range(0.2, 0.7, 0, 1, "Ground albedo."),
            "clutter": _range(0, 4, 0, MAX_CLUTTER, "Flat distractor blobs lying on the ground.",
                              integer=True),
        }),
        "objects": _group("Target objects (the annotated ones).", {
            "count": _range(2, 6, 0, MAX_OBJECTS, "Objects per scene.", integer=True),
            "classes": _choice({"digits": 1.0, "shapes": 1.0}, "Object family."),
            "placement": _choice({"scattered": 2.0, "clustered": 1.0, "row": 1.0},
                                 "How objects sit relative to each other."),
            "spread": _range(2.5, 3.5, 0.1, 50, "Placement radius, world units."),
            "size": _range(0.6, 1.0, 0.05, 10, "Half extent, world units."),
            "aspect": _range(0.85, 1.15, 0.2, 5, "Width / height."),
            "rotation_deg": _range(-180, 180, -360, 360, "In-plane rotation."),
            "tilt_deg": _range(0, 25, 0, 80, "Tilt of the object plane from the ground."),
            "height": _range(0.0, 1.2, 0, 20, "Height above the ground."),
        }),
        "surface": _group("Material of objects.", {
            "albedo": _range(0.5, 1.0, 0, 1, "Brightness of the object colour."),
            "specular": _range(0.0, 0.4, 0, 2, "Specular strength."),
            "shininess_log2": _range(3, 6, 0, 8, "Specular exponent is 2**this.", integer=True),
            "relief": _range(0.0, 0.4, 0, 2, "Domed surface relief (bends the normals)."),
            "pattern": _choice({"plain": 2.0, "stripes": 1.0, "checker": 1.0}, "Surface pattern."),
            "pattern_contrast": _range(0.1, 0.4, 0, 1, "Pattern contrast."),
        }),
        "distractors": _group("Unannotated blobs floating among the objects.", {
            "count": _range(0, 2, 0, MAX_DISTRACTORS, "Distractors per scene.", integer=True),
        }),
        "occluders": _group("Planks between the camera and the objects.", {
            "count": _range(0, 1, 0, MAX_OCCLUDERS, "Occluders per scene.", integer=True),
            "length": _range(2.0, 4.0, 0.1, 20, "Half length, world units."),
            "width": _range(0.2, 0.4, 0.05, 5, "Half width, world units."),
            "height": _range(2.0, 3.5, 0, 50, "Height above the ground."),
        }),
        "sequence": _group("Dynamic sequences: objects move over frames with stable ids.", {
            "frames": {"type": "integer", "minimum": 1, "maximum": 64, "default": 1,
                       "description": "Frames per scene; 1 gives still images."},
            "speed": _range(0.05, 0.25, 0, 10, "Object speed, world units per frame."),
            "spin_deg": _range(-10, 10, -180, 180, "Object spin, degrees per frame."),
        }),
    },
}

_GROUPS = ("camera", "lighting", "background", "objects", "surface", "distractors",
           "occluders", "sequence")


def check_distributions(params: dict[str, Any]) -> None:
    """Raise :class:`ParameterError` for ranges with min > max or choices without weight."""
    for group in _GROUPS:
        for name, value in params[group].items():
            if not isinstance(value, dict):
                continue
            field = f"{group}.{name}"
            if set(value) == {"min", "max"}:
                if value["min"] > value["max"]:
                    raise ParameterError(field, "min must not exceed max")
            elif sum(value.values()) <= 0:
                raise ParameterError(field, "at least one option needs a positive weight")
