"""Closing the generation feedback loop: tuners that move a generator's tunable attributes.

A plain library (no Django): :class:`ParameterSpace` maps a generator's declared tunable
attributes onto a unit box, :class:`GaussianPolicy` samples configurations inside it (never
outside the schema's bounds), and :func:`tune` runs learning-to-simulate, Meta-Sim-style
distribution matching, VADRA-style adversarial randomization or random search on it.
"""

from generators.feedback.features import RenderedFeatures
from generators.feedback.measures import median_bandwidth, mmd2, render_arrays
from generators.feedback.policy import (
           GaussianPolicy,
           NaturalEvolution,
           rank_utilities,
           score_gradient,
)
from generators.feedback.space import Coordinate, ParameterSpace
from generators.feedback.tuners import TUNERS, Budget, RealData, TuneResult, tune

__all__ = ["TUNERS", "Budget", "Coordinate", "GaussianPolicy", "NaturalEvolution", "ParameterSpace", "RealData",
           "RenderedFeatures", "TuneResult", "median_bandwidth", "mmd2", "rank_utilities", "render_arrays",
           "score_gradient", "tune"]
