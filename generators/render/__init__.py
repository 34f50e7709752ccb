"""Procedural renderers with labels for free."""

from generators.render.digits import DIGITS_SPEC
from generators.render.scenes import SCENES_SPEC

BUILTIN_SPECS = [DIGITS_SPEC, SCENES_SPEC]
