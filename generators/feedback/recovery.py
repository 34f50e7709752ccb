"""Recovery of known parameters: Meta-Sim matched to "real" data rendered from hidden parameters.

No real scene data ships, so the scenes renderer's tunable attributes are checked this way: the
"real" images are rendered from a hidden point θ* of the parameter box, distribution matching
starts elsewhere, and the figure is how close the tuned point gets to θ* (distances in unit-box
coordinates of the tuned attributes). What is shown is that the objective and the tuner recover
a renderer's own parameters from its images alone, not a match to any real scene.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from generators.feedback.measures import render_arrays
from generators.feedback.space import ParameterSpace
from generators.feedback.tuners import Budget, RealData, tune
from generators.spec import GeneratorSpec


def recover_hidden(spec: GeneratorSpec, attributes: Sequence[str], hidden: np.ndarray, start: np.ndarray, *,
                   base: dict[str, Any] | None = None, real_n: int = 500, value_max: float = 16.0,
                   budget: Budget | None = None, seed: int = 0) -> dict[str, Any]:
    """Meta-Sim from ``start`` toward images rendered at ``hidden`` (both unit-box points of
    ``attributes``); returns the distances to θ* before and after, and the tuned point."""
    space = ParameterSpace(spec, base, attributes)
    real_images, _ = render_arrays(spec, space.params(np.asarray(hidden), n=real_n, seed=987_654))
    result = tune("meta-sim", space, RealData(real_images, None, value_max=value_max),
                  start=np.asarray(start), budget=budget or Budget(), seed=seed)
    tuned = np.asarray(result.unit)
    return {"attributes": list(attributes), "hidden": [float(v) for v in hidden],
            "start": [float(v) for v in start], "tuned": [float(v) for v in tuned],
            "distance_start": float(np.abs(np.asarray(start) - hidden).max()),
            "distance_tuned": float(np.abs(tuned - hidden).max()),
            "mmd_start": result.history[0]["objective"], "mmd_tuned": result.history[result.chosen_iteration]["objective"],
            "distance": "largest coordinate difference in the unit box", "tuner": result.details}


# The scenes row: brightness of the ground and the light's intensity, each a (centre, spread) pair.
SCENE_ATTRIBUTES = ("background.brightness", "lighting.intensity")
SCENE_HIDDEN = np.array([0.8, 0.1, 0.7, 0.1])
SCENE_BASE = {"width": 32, "height": 32}


def scenes_recovery(iterations: int = 15, seed: int = 0) -> dict[str, Any]:
    """:func:`recover_hidden` on the scenes renderer at 32x32, from the generic start."""
    from generators.render.scenes import SCENES_SPEC

    space = ParameterSpace(SCENES_SPEC, SCENE_BASE, SCENE_ATTRIBUTES)
    return recover_hidden(SCENES_SPEC, SCENE_ATTRIBUTES, SCENE_HIDDEN, space.generic_start(), base=SCENE_BASE,
                          real_n=128, value_max=255.0, seed=seed,
                          budget=Budget(iterations=iterations, pairs=2, images=128, sigma=0.08))
