"""The digits generator's parameters: one JSON schema, defaults tuned for syn-to-real."""

from __future__ import annotations

from typing import Any

from generators.render.digits.distributions import check_distribution, distribution_schema

# Attribute name -> its distribution schema. Lengths are in digit heights unless stated.
ATTRIBUTES: dict[str, dict[str, Any]] = {
    "thickness": distribution_schema(
        "Stroke width as a fraction of the frame height; used when stroke_width is 'thickness'.",
        minimum=0.005, maximum=0.5, low=0.07, high=0.14),
    "ink_fraction": distribution_schema(
        "Target fraction of ink pixels; each image's stroke width is solved to reach it "
        "(real scikit-learn digits: mean 0.305, std 0.034); used when stroke_width is 'ink_fraction'.",
        minimum=0.02, maximum=0.7, low=0.25, high=0.36, distribution="normal", mean=0.305, std=0.034),
    "slant": distribution_schema(
        "Horizontal shear: how far the top leans right of the bottom, in digit heights.",
        minimum=-1.0, maximum=1.0, low=-0.3, high=0.25),
    "rotation": distribution_schema(
        "Rotation in degrees, counter-clockwise.", minimum=-180, maximum=180, low=-8, high=8),
    "scale": distribution_schema(
        "Digit height as a fraction of the frame; used when fit is 'none'.",
        minimum=0.05, maximum=1.5, low=0.6, high=0.9),
    "width": distribution_schema(
        "Horizontal stretch of the digit relative to its template.", minimum=0.2, maximum=3.0, low=0.7, high=1.2),
    "translation": distribution_schema(
        "Offset of the digit's centre from the frame centre, as a fraction of the frame, "
        "drawn for x and y independently; used when fit is 'none'.",
        minimum=-0.5, maximum=0.5, low=-0.1, high=0.1),
    "jitter": distribution_schema(
        "Standard deviation of the random displacement of each control point.",
        minimum=0.0, maximum=0.3, low=0.02, high=0.08),
    "elastic": distribution_schema(
        "Amplitude of a smooth random displacement field (elastic distortion).",
        minimum=0.0, maximum=0.3, low=0.0, high=0.06),
    "end_trim": distribution_schema(
        "Fraction of an open stroke's length left out at each of its ends (pen lifted early "
        "or put down late), drawn for each end independently.",
        minimum=0.0, maximum=0.4, low=0.0, high=0.05),
    "end_taper": distribution_schema(
        "How much thinner a stroke gets at its free ends, as a fraction of its width.",
        minimum=0.0, maximum=1.0, low=0.0, high=0.15),
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
    },
}


def check_params(params: dict[str, Any]) -> None:
    """Checks beyond JSON schema, on parameters already validated and default-filled."""
    for name in ATTRIBUTES:
        check_distribution(name, params[name])
