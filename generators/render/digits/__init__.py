"""Procedural handwritten digits drawn as strokes, with an exact scikit-learn 8x8 mode.

    from generators.render.digits import render
    images, labels = render({"n": 10_000, "seed": 0})  # (N, 8, 8) 0..16, like load_digits

Modules: ``grammar`` (per-digit allographs as splines through control points),
``schema`` (the parameters, in the distributions of :mod:`generators.params`), ``draws``
(every random number of a batch), ``geometry`` (batched stroke layout), ``raster``
(compiled scanline rasterizer and 4x4 block counts), ``renderer`` (batches, workers and
the job spec).
"""

from generators.render.digits.renderer import DIGITS_SPEC, render

__all__ = ["DIGITS_SPEC", "render"]
