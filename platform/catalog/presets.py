"""Generator presets: named parameter sets a generate job starts from.

A preset is registered once (by hand, or by a tuning job with the version it was tuned on) and
named by a generate job's ``preset`` parameter: its parameters are the base, and each top-level
parameter the request names replaces the preset's (whole: a distribution object is not merged
key by key, so a request's ``choice`` weights mean exactly what they say). ``defaults`` is
implicit: the generator's own hand-tuned defaults (its schema's), with nothing overridden.

Visibility is simple: a preset is visible to its owner, and to everyone when public. One tuned on
restricted data is never public (its parameters were learnt from real records).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from catalog.generator_rows import sync_generator
from catalog.models import Dataset, DatasetVersion, GeneratorPreset, VersionParent
from generators import registry
from generators.params import ParameterError

# The implicit preset every generator has: its schema defaults.
DEFAULTS = "defaults"
# Where a generate job keeps the id of the version its preset was tuned on (its lineage parent).
TUNED_ON_KEY = "preset_tuned_on_version"
SLUG = re.compile(r"^[-a-z0-9_]+$")


class PresetError(ParameterError):
    """A preset that cannot be registered; ``field`` names the offending argument."""


class UnknownPreset(LookupError):
    """No preset of that name the user can see (HTTP 404, like an unknown generator)."""


def register_preset(generator_slug: str, name: str, parameters: dict[str, Any], owner, job=None,
                    tuned_on: DatasetVersion | None = None, *, public: bool = False,
                    description: str = "") -> GeneratorPreset:
    """Save ``parameters`` (checked against the generator's schema) as preset ``name``.

    Registering a name its owner already holds replaces that preset (a re-run tuning job updates
    its result); a name another user holds is refused. Raises UnknownGenerator or PresetError.
    """
    spec = registry.get(generator_slug)
    if not isinstance(name, str) or not SLUG.match(name) or len(name) > 100:
        raise PresetError("name", "must be a slug: lowercase letters, digits, '-' and '_', at most 100 characters")
    if name == DEFAULTS:
        raise PresetError("name", f"{DEFAULTS!r} is the generator's own defaults; choose another name")
    try:
        registry.validate(spec.slug, parameters)
    except ParameterError as exc:
        raise PresetError(f"parameters.{exc.field}", exc.message) from None
    if public and tuned_on is not None and tuned_on.dataset.access == Dataset.Access.RESTRICTED:
        raise PresetError("public", f"it was tuned on {tuned_on}, which is restricted (real data): "
                                    "a preset learnt from real records stays private to its owner")
    values = {"parameters": copy.deepcopy(parameters), "owner": owner, "public": public,
              "description": description, "created_by": job, "tuned_on": tuned_on}
    try:
        with transaction.atomic():
            generator = sync_generator(spec)
            existing = GeneratorPreset.objects.select_for_update().filter(generator=generator, name=name).first()
            if existing is None:
                return GeneratorPreset.objects.create(generator=generator, name=name, **values)
            if existing.owner_id != owner.pk:
                raise PresetError("name", f"{spec.slug} already has a preset {name!r} of another user; choose another name")
            for key, value in values.items():
                setattr(existing, key, value)
            existing.save()
            return existing
    except IntegrityError:  # another request registered the same name since we looked
        raise PresetError("name", f"{spec.slug} already has a preset {name!r}; choose another name") from None


def visible_presets(generator_slug: str, user) -> QuerySet[GeneratorPreset]:
    """The presets of a generator ``user`` may see and use: their own and the public ones."""
    mine = Q(owner=user) if user is not None and user.is_authenticated else Q(pk__in=[])
    return (GeneratorPreset.objects.filter(generator__slug=generator_slug).filter(mine | Q(public=True))
            .select_related("generator", "owner", "tuned_on__dataset"))


def get_preset(generator_slug: str, name: str, user) -> GeneratorPreset | None:
    """The named preset row (None for the implicit ``defaults``); raises UnknownPreset."""
    if name == DEFAULTS:
        return None
    preset = visible_presets(generator_slug, user).filter(name=name).first()
    if preset is None:
        raise UnknownPreset(f"no preset {name!r} of generator {generator_slug!r} you can use")
    return preset


def resolve_preset(generator_slug: str, name: str, user) -> dict[str, Any]:
    """The parameters of preset ``name`` (``defaults``: none, the schema fills them in)."""
    preset = get_preset(generator_slug, name, user)
    return copy.deepcopy(preset.parameters) if preset is not None else {}


def apply_preset(base: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """The request's parameters over the preset's, one top-level parameter at a time."""
    return {**copy.deepcopy(base), **copy.deepcopy(request)}


def preset_parents(parameters: dict[str, Any]) -> list[tuple[DatasetVersion, str]]:
    """Lineage a generate job's version records for its preset: tuned-on the preset's version."""
    pk = parameters.get(TUNED_ON_KEY)
    version = DatasetVersion.objects.filter(pk=pk).first() if pk is not None else None
    return [(version, VersionParent.Relation.TUNED_ON)] if version is not None else []
