"""The JSON schema of the scenes renderer, and the checks JSON Schema cannot express.

Every random draw of a scene comes from an attribute declared here, in the one vocabulary of
:mod:`generators.params`: a numeric attribute is ``{"distribution": "uniform", "low": a,
"high": b}`` (or normal, log_uniform, constant), drawn per scene or per object (counts are
whole numbers, both ends included); a choice is ``{"distribution": "choice", "weights":
{option: weight}}``, where an option left out weighs 0. The only other randomness is seed-only
sensor noise, scaled by ``camera.noise_std``.

Dataset-level constants (they fix array shapes): ``width``, ``height``, ``modality``,
``channels`` and ``sequence.frames``.
"""

from __future__ import annotations

from typing import Any

from generators.params import Bounds, Choice, Normal, Uniform, check_attributes
from generators.render.scenes import catalog


def _range(lo: float, hi: float, minimum: float, maximum: float, description: str,
           integer: bool = False, **declaration: Any) -> dict[str, Any]:
    """A uniform attribute by default; ``declaration`` passes ``noise`` to its schema."""
    return Uniform(lo, hi, bounds=Bounds(minimum, maximum, integer)).schema(description, **declaration)


def _normal(mean: float, std: float, minimum: float, maximum: float, description: str) -> dict[str, Any]:
    return Normal(mean, std, bounds=Bounds(minimum, maximum)).schema(description)


def _choice(weights: dict[str, float], description: str) -> dict[str, Any]:
    return Choice(weights).schema(description)


def _heading(description: str, hi: float = 360) -> dict[str, Any]:
    """A direction on the ground, uniform over all of them by default."""
    return _range(0, hi, -360, 720, f"{description}, degrees.")


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
            "noise_std": _range(0.0, 0.03, 0, 0.5, "Sensor noise standard deviation (0..1 scale).",
                                noise="a few Gaussian fields per chunk, each image a random shift and "
                                      "sign of one"),
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
            "rotation_deg": _heading("Rotation of the ground texture about the vertical"),
            "scale": _range(0.4, 2.0, 0.05, 20, "Texture period, world units."),
            "contrast": _range(0.1, 0.5, 0, 1, "Texture contrast."),
            "colour": _range(0.6, 1.0, 0, 1, "Each RGB channel of the ground colour, before brightness "
                                             "scales it."),
            "brightness": _range(0.2, 0.7, 0, 1, "Ground albedo."),
            "sky_brightness": _range(0.7, 1.1, 0, 2, "Sky radiance, as a factor of a pale blue (each "
                                                     "channel at most 1)."),
            "temperature": _range(0.1, 0.35, 0, 1, "Infrared only: how bright the ground is."),
            "clutter": _range(0, 4, 0, MAX_CLUTTER, "Flat distractor blobs lying on the ground.",
                              integer=True),
            "clutter_position": _range(-1.6, 1.6, -10, 10, "Where ground clutter lies, per ground axis, "
                                                          "in units of objects.spread."),
            "image": Uniform(0, 1, bounds=Bounds(0, 1), tunable=False).schema(
                "Which provided background image a scene shows, as a position in the image dataset "
                "(0 the first, 1 the last; uniform: each alike). Not for tuners: the order means nothing."),
        }),
        "objects": _group("Target objects (the annotated ones).", {
            "count": _range(2, 6, 0, MAX_OBJECTS, "Objects per scene.", integer=True),
            "classes": _choice({"digits": 1.0, "shapes": 1.0}, "Object family."),
            "placement": _choice({"scattered": 2.0, "clustered": 1.0, "row": 1.0},
                                 "How objects sit relative to each other."),
            "spread": _range(2.5, 3.5, 0.1, 50, "Placement radius, world units."),
            "scatter_area": _range(0, 1, 0, 1, "Scattered placement: the share of the placement disc "
                                               "(radius spread) nearer its centre than the object; "
                                               "uniform 0..1 spreads objects evenly over the disc."),
            "scatter_angle_deg": _heading("Scattered placement: the object's direction from the scene "
                                          "centre"),
            "cluster_offset": _normal(0, 0.3, -3, 3, "Clustered placement: offset from the cluster "
                                                     "centre, per ground axis, in units of spread."),
            "row_heading_deg": _heading("Row placement: the direction of the row", hi=180),
            "row_offset": _normal(0, 0.1, -2, 2, "Row placement: offset from the row's even spacing, "
                                                 "per ground axis, world units."),
            "digits": _choice({category.name: 1.0 for category in catalog.DIGIT_CATEGORIES},
                              "The digit an object of the digits family shows."),
            "shapes": _choice({category.name: 1.0 for category in catalog.SHAPE_CATEGORIES},
                              "The shape an object of the shapes family shows."),
            "size": _range(0.6, 1.0, 0.05, 10, "Half extent, world units."),
            "aspect": _range(0.85, 1.15, 0.2, 5, "Width / height."),
            "rotation_deg": _range(-180, 180, -360, 360, "In-plane rotation."),
            "tilt_deg": _range(0, 25, 0, 80, "Tilt of the object plane from the ground."),
            "tilt_heading_deg": _heading("Direction the object plane tilts towards"),
            "height": _range(0.0, 1.2, 0, 20, "Height above the ground."),
        }),
        "surface": _group("Material of objects.", {
            "colour": _range(0, 1, 0, 1, "Each RGB channel of an object's colour, before it is raised "
                                         "to the power 1.5 (favouring saturated colours) and scaled so "
                                         "its brightest channel is the albedo."),
            "albedo": _range(0.5, 1.0, 0, 1, "Brightness of the object colour."),
            "specular": _range(0.0, 0.4, 0, 2, "Specular strength."),
            "shininess_log2": _range(3, 6, 0, 8, "Specular exponent is 2**this.", integer=True),
            "relief": _range(0.0, 0.4, 0, 2, "Domed surface relief (bends the normals)."),
            "pattern": _choice({"plain": 2.0, "stripes": 1.0, "checker": 1.0}, "Surface pattern."),
            "pattern_contrast": _range(0.1, 0.4, 0, 1, "Pattern contrast."),
            "pattern_frequency": _range(1.0, 3.0, 0.1, 20, "Pattern cycles per unit of the object's "
                                                           "local coordinates (its half extent)."),
            "band_gain": _range(0.85, 1.15, 0, 2, "Multispectral only: a factor on each band of every "
                                                  "reflectance (objects, ground, sky): texture across bands."),
            "temperature": _range(0.55, 1.0, 0, 1, "Infrared only: how bright an object is (warm bodies)."),
        }),
        "distractors": _group("Unannotated blobs floating among the objects.", {
            "count": _range(0, 2, 0, MAX_DISTRACTORS, "Distractors per scene.", integer=True),
            "shapes": _choice({f"blob_{i + 1}": 1.0 for i in range(catalog.BLOB_VARIANTS)},
                              "Outline of distractors and ground clutter."),
        }),
        "occluders": _group("Planks between the camera and the objects.", {
            "count": _range(0, 1, 0, MAX_OCCLUDERS, "Occluders per scene.", integer=True),
            "length": _range(2.0, 4.0, 0.1, 20, "Half length, world units."),
            "width": _range(0.2, 0.4, 0.05, 5, "Half width, world units."),
            "height": _range(2.0, 3.5, 0, 50, "Height above the ground."),
            "position": _range(-0.64, 0.64, -10, 10, "Where an occluder crosses the scene, per ground "
                                                    "axis, in units of objects.spread."),
        }),
        "sequence": _group("Dynamic sequences: objects move over frames with stable ids.", {
            "frames": {"type": "integer", "minimum": 1, "maximum": 64, "default": 1,
                       "description": "Frames per scene; 1 gives still images."},
            "speed": _range(0.05, 0.25, 0, 10, "Object speed, world units per frame."),
            "heading_deg": _heading("Direction an object moves in"),
            "spin_deg": _range(-10, 10, -180, 180, "Object spin, degrees per frame."),
        }),
    },
}


def check_distributions(params: dict[str, Any]) -> None:
    """Raise :class:`ParameterError` naming an attribute JSON Schema cannot fault (low > high, no
    positive weight, ...)."""
    check_attributes(SCHEMA, params)
