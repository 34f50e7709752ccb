"""The one registry of generators, read by the API, the portal, the CLI and the workers.

Built-in generators register on import of this module; third-party ones through
the ``synthreg.generators`` entry-point group (each entry point names a
:class:`~generators.spec.GeneratorSpec`). :func:`freeze` is called once at
start-up by the platform; registering afterwards is an error, so every process
sees the same set.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import entry_points
from typing import Any

from generators.params import validate_params
from generators.spec import GeneratorSpec

ENTRY_POINT_GROUP = "synthreg.generators"

_registry: dict[str, GeneratorSpec] = {}
# Where each generator came from: "builtin", a plugin's distribution name, or a dotted path.
_sources: dict[str, str] = {}
_frozen = False


class UnknownGenerator(LookupError):
    def __init__(self, slug: str) -> None:
        known = ", ".join(sorted(_registry)) or "none"
        super().__init__(f"unknown generator {slug!r}; known generators: {known}")
        self.slug = slug


def register(spec: GeneratorSpec, source: str = "builtin") -> GeneratorSpec:
    if _frozen:
        raise RuntimeError(f"generator registry is frozen; cannot register {spec.slug!r}")
    if spec.slug in _registry and _registry[spec.slug] is not spec:
        raise ValueError(f"generator {spec.slug!r} is registered twice")
    _registry[spec.slug] = spec
    _sources[spec.slug] = source
    return spec


def load_plugins() -> None:
    """Register every generator published under the entry-point group."""
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        spec = entry.load()
        if not isinstance(spec, GeneratorSpec):
            raise TypeError(f"entry point {entry.name!r} must name a GeneratorSpec, got {type(spec)!r}")
        register(spec, source=entry.dist.name if entry.dist else entry.value)


def source_of(slug: str) -> str:
    return _sources.get(slug, "builtin")


@contextmanager
def temporarily_registered(spec: GeneratorSpec) -> Iterator[GeneratorSpec]:
    """Make ``spec`` available inside the block, even after :func:`freeze` (tests, notebooks)."""
    if spec.slug in _registry:
        raise ValueError(f"generator {spec.slug!r} is already registered")
    _registry[spec.slug] = spec
    try:
        yield spec
    finally:
        del _registry[spec.slug]


def freeze() -> None:
    global _frozen
    _frozen = True


def get(slug: str) -> GeneratorSpec:
    try:
        return _registry[slug]
    except KeyError:
        raise UnknownGenerator(slug) from None


def all_specs() -> list[GeneratorSpec]:
    return sorted(_registry.values(), key=lambda s: s.slug)


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


def _register_builtins() -> None:
    from generators.render import BUILTIN_SPECS

    for spec in BUILTIN_SPECS:
        register(spec)


_register_builtins()
