"""Keeping the catalog's Generator rows in step with the generator registry."""

from catalog.models import Generator
from generators import registry
from generators.spec import GeneratorSpec


def sync_generator(spec: GeneratorSpec) -> Generator:
    row, _ = Generator.objects.update_or_create(
        slug=spec.slug,
        defaults={
            "title": spec.title, "kind": spec.kind, "modality": spec.modality,
            "description": spec.description, "parameter_schema": spec.schema,
            "code_version": spec.version, "source": registry.source_of(spec.slug),
        },
    )
    return row


def sync_all_generators() -> list[Generator]:
    return [sync_generator(spec) for spec in registry.all_specs()]
