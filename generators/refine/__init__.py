"""Refiners: synthetic images in, real-looking images of the same shape out, labels kept.

    from generators.refine import fit
    refined = fit("simgan", images, labels, real_pool, seed=0).refined
    new_images, same_labels = refined.refine(images, labels)

Modules: ``networks`` (residual refiner, patch discriminator), ``methods`` (SimGAN, CycleGAN,
PixelDA), ``api`` (fit, transform, save and load).
"""

from generators.refine.api import (
    Refined,
    RefineResult,
    fit,
    load_refiner,
    method_schema,
    save_refiner,
)
from generators.refine.methods import METHODS

__all__ = ["METHODS", "RefineResult", "Refined", "fit", "load_refiner", "method_schema", "save_refiner"]
