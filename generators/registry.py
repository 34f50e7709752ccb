"""The one registry of generators, read by the API, the portal, the CLI and the workers.

Built-in generators come from ``generators.render.BUILTIN_SPECS``; third-party ones through the
``synthreg.generators`` entry-point group (each entry point names a
:class:`~generators.spec.GeneratorSpec`), and a deployment's own by dotted path
(``SYNTHREG_GENERATORS``). The platform freezes the registry at start-up; registering
afterwards is an error, so every process sees the same set (``contracts.registry``).
"""

from __future__ import annotations

from typing import Any

from contracts.registry import Registry, Unknown
from generators.params import validate_params
from generators.spec import GeneratorSpec

ENTRY_POINT_GROUP = "synthreg.generators"


class UnknownGenerator(Unknown):
    pass


GENERATORS: Registry[GeneratorSpec] = Registry(
    "generator", GeneratorSpec, lambda spec: spec.slug, builtins=["generators.render.BUILTIN_SPECS"],
    entry_point_group=ENTRY_POINT_GROUP, unknown=UnknownGenerator,
)
register = GENERATORS.register
register_path = GENERATORS.register_path
freeze = GENERATORS.freeze
get = GENERATORS.get
source_of = GENERATORS.source_of
temporarily_registered = GENERATORS.temporarily_registered


def all_specs() -> list[GeneratorSpec]:
    return sorted(GENERATORS.all(), key=lambda s: s.slug)


def validate(slug: str, params: Any) -> dict[str, Any]:
    """Validate parameters for generator ``slug``; returns them completed with defaults.

    Beyond the schema and the generator's own checks, a run too large to be meant is refused.
    """
    spec = get(slug)
    filled = validate_params(spec.schema, params)
    if spec.check is not None:
        spec.check(filled)
    spec.refuse_absurd_size(filled)
    return filled
