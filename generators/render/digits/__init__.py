"""Procedural handwritten digits drawn as strokes, with an exact scikit-learn 8x8 mode."""

from generators.render.digits.renderer import DIGITS_SPEC, render

__all__ = ["DIGITS_SPEC", "render"]
