"""Every random number one batch of digits needs, drawn up front in a fixed order.

Separating the draws from the (deterministic) layout lets a batch be re-laid
out image by image, e.g. by the per-image reference loop of the benchmark, and
keeps each attribute's values independent of the other attributes' settings.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from generators.params import Distribution, choose, distributions
from generators.render.digits import geometry
from generators.render.digits.grammar import SampledGrammar
from generators.render.digits.schema import ATTRIBUTES, SCHEMA


@dataclass(frozen=True)
class Draws:
    """One batch's random choices; every array has the batch on its first axis."""

    labels: np.ndarray  # (B,) int64
    allograph: np.ndarray  # (B,) index into the grammar's allographs
    attributes: dict[str, np.ndarray]  # attribute name -> (B,) float32 values
    trim_end: np.ndarray  # (B,) second end_trim draw (the first is for stroke starts)
    shift_y: np.ndarray  # (B,) second translation draw (the first is for x)
    noise: np.ndarray  # (B, C, 2) standard normal control-point noise
    waves: np.ndarray  # (B, 4, 2, W) elastic displacement waves

    def subset(self, index: slice | np.ndarray) -> Draws:
        """The draws of the images selected by ``index``."""
        arrays = {f.name: getattr(self, f.name)[index] for f in fields(self) if f.name != "attributes"}
        attributes = {name: values[index] for name, values in self.attributes.items()}
        return Draws(attributes=attributes, **arrays)


def draw(params: dict[str, Any], grammar: SampledGrammar, batch_index: int, count: int,
         found: dict[str, Distribution] | None = None) -> Draws:
    """Draw batch ``batch_index`` from its own stream, seeded by (seed, batch index).

    ``found`` are the attributes' distributions (``distributions(SCHEMA, params)``), parsed once
    by a caller drawing many batches. Beside them, the labels come from ``classes`` (uniformly)
    and two draws are seed-only noise that attributes scale: control-point noise (jitter) and
    waves (elastic).
    """
    rng = np.random.default_rng([params["seed"], batch_index])
    found = distributions(SCHEMA, params) if found is None else found
    classes = np.asarray(params["classes"], dtype=np.int64)
    labels = classes[rng.integers(0, len(classes), count)]
    shapes = [found[f"allographs.{digit}"] for digit in range(10)]
    allograph = grammar.options[labels, choose(shapes, labels, rng)]

    def values(name: str) -> np.ndarray:
        return found[name].sample(rng, count).astype(np.float32)

    attributes = {name: values(name) for name in sorted(ATTRIBUTES)}
    trim_end = values("end_trim")  # the other end of each stroke (the first is for its start)
    shift_y = values("translation")  # the y offset (the first is for x)
    noise = rng.standard_normal((count, *grammar.control.shape[1:]), dtype=np.float32)
    waves = geometry.elastic_waves(rng, attributes["elastic"])
    return Draws(labels, allograph, attributes, trim_end, shift_y, noise, waves)

