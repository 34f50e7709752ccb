"""The digits generator's parameters: one JSON schema, defaults tuned for syn-to-real."""

from __future__ import annotations

from typing import Any

from generators.params import Bounds, Choice, Normal, Uniform, check_attributes
from generators.render.digits.grammar import ALLOGRAPHS

# Attribute name -> its distribution schema. Lengths are in digit heights unless stated.
ATTRIBUTES: dict[str, dict[str, Any]] = {
    "thickness": Uniform(0.07, 0.14, bounds=Bounds(0.005, 0.5)).schema(
        "Stroke width as a fraction of the frame height; used when stroke_width is 'thickness'."),
    "ink_fraction": Normal(0.305, 0.034, bounds=Bounds(0.02, 0.7)).schema(
        "Target fraction of ink pixels; each image's stroke width is solved to reach it "
        "(real scikit-learn digits: mean 0.305, std 0.034); used when stroke_width is 'ink_fraction'."),
    "slant": Uniform(-0.3, 0.25, bounds=Bounds(-1.0, 1.0)).schema(
        "Horizontal shear: how far the top leans right of the bottom, in digit heights."),
    "rotation": Uniform(-8, 8, bounds=Bounds(-180, 180)).schema("Rotation in degrees, counter-clockwise."),
    "scale": Uniform(0.6, 0.9, bounds=Bounds(0.05, 1.5)).schema(
        "Digit height as a fraction of the frame; used when fit is 'none'."),
    "width": Uniform(0.7, 1.2, bounds=Bounds(0.2, 3.0)).schema(
        "Horizontal stretch of the digit relative to its template."),
    "translation": Uniform(-0.1, 0.1, bounds=Bounds(-0.5, 0.5)).schema(
        "Offset of the digit's centre from the frame centre, as a fraction of the frame, "
        "drawn for x and y independently; used when fit is 'none'."),
    "jitter": Uniform(0.02, 0.08, bounds=Bounds(0.0, 0.3)).schema(
        "Standard deviation of the random displacement of each control point.",
        noise="a standard normal displacement of each control point, per axis"),
    "elastic": Uniform(0.0, 0.06, bounds=Bounds(0.0, 0.3)).schema(
        "Amplitude of a smooth random displacement field (elastic distortion).",
        noise="per axis, 4 plane sine waves of random direction, 0.5-1.5 cycles per digit height, "
              "random phase and standard normal weight"),
    "end_trim": Uniform(0.0, 0.05, bounds=Bounds(0.0, 0.4)).schema(
        "Fraction of an open stroke's length left out at each of its ends (pen lifted early "
        "or put down late), drawn for each end independently."),
    "end_taper": Uniform(0.0, 0.15, bounds=Bounds(0.0, 1.0)).schema(
        "How much thinner a stroke gets at its free ends, as a fraction of its width."),
}

# Digit -> how often it is written in each of its shapes (allographs), relative to each other.
ALLOGRAPH_WEIGHTS: dict[str, dict[str, Any]] = {
    str(digit): Choice({graph.name: graph.weight for graph in ALLOGRAPHS if graph.digit == digit}).schema(
        f"Shapes of the digit {digit}.")
    for digit in range(10)
}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "n": {"type": "integer", "minimum": 1, "maximum": 10_000_000, "default": 1000,
              "description": "Number of images."},
        "seed": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1, "default": 0,
                 "description": "Random seed; the same seed and parameters give byte-identical files."},
        "mode": {"enum": ["8x8", "image"], "default": "8x8",
                 "description": "'8x8': a 32x32 binary bitmap with on-pixels counted in 4x4 blocks, "
                                "values 0..16 (scikit-learn load_digits format); "
                                "'image': a binary image at `resolution`."},
        "resolution": {"type": "integer", "minimum": 8, "maximum": 1024, "default": 32,
                       "description": "Side of the square image in pixels ('image' mode)."},
        "fit": {"enum": ["height", "none"], "default": "height",
                "description": "'height': scale each digit to the full frame height and centre it "
                               "horizontally, as the real digits were; 'none': place it by scale and "
                               "translation."},
        "classes": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 9},
                    "minItems": 1, "uniqueItems": True, "default": list(range(10)),
                    "description": "Digits to draw, chosen uniformly."},
        "stroke_width": {"enum": ["ink_fraction", "thickness"], "default": "ink_fraction",
                         "description": "Whether each image's stroke width is solved from ink_fraction "
                                        "or drawn from thickness."},
        **ATTRIBUTES,
        "allographs": {"type": "object", "additionalProperties": False, "default": {},
                       "description": "How often each digit is written in each of its shapes.",
                       "properties": ALLOGRAPH_WEIGHTS},
    },
}


def check_params(params: dict[str, Any]) -> None:
    """Checks beyond JSON schema, on parameters already validated and default-filled."""
    check_attributes(SCHEMA, params)
