"""System checks over every registered generator spec (ids catalog.E010..), run at start-up.

A spec that breaks its contract (generators/spec.py) is reported with its slug before any job
can trip over it, as is one that names a data format no one declared (contracts.formats).
"""

from __future__ import annotations

from typing import Any

from django.core import checks
from jsonschema import Draft202012Validator, SchemaError

from contracts import formats
from generators import registry
from generators.params import ATTRIBUTE_KEY, ParameterError, check_attributes, validate_params
from generators.spec import Estimate, GeneratorSpec


def _error(spec: GeneratorSpec, message: str, hint: str, number: int) -> checks.Error:
    source = registry.source_of(spec.slug)
    return checks.Error(f"generator {spec.slug!r} ({source}): {message}", hint=hint, obj=spec.slug,
                        id=f"catalog.E{number:03d}")


def _undefaulted(schema: dict[str, Any], path: str = "") -> list[str]:
    """Dotted names of the properties, nested groups' included, that have no default (an attribute's
    object has one as a whole: a choice's weights leave options out on purpose)."""
    missing = []
    for name, prop in schema.get("properties", {}).items():
        if "default" not in prop:
            missing.append(path + name)
        if prop.get("type") == "object" and ATTRIBUTE_KEY not in prop:
            missing.extend(_undefaulted(prop, f"{path}{name}."))
    return missing


def format_errors(spec: GeneratorSpec) -> list[checks.Error]:
    """A format that is not registered, or that holds another modality than the generator makes."""
    try:
        declared = formats.get(spec.format)
    except formats.UnknownFormat as exc:
        return [_error(spec, f"it writes format {spec.format!r}, which is not registered ({exc})",
                       "Name a format of contracts.formats, or register yours (entry point "
                       f"{formats.ENTRY_POINT_GROUP!r} or SYNTHREG_FORMATS).", 15)]
    if declared.modality != spec.modality:
        return [_error(spec, f"it makes {spec.modality} data but writes {spec.format}, a {declared.modality} format",
                       "Declare the format the generator's files are in.", 16)]
    return []


def spec_errors(spec: GeneratorSpec) -> list[checks.Error]:
    """Every way ``spec`` breaks the contract; later checks need the earlier ones to pass."""
    errors = format_errors(spec)
    try:
        Draft202012Validator.check_schema(spec.schema)
    except SchemaError as exc:
        return [*errors, _error(spec, f"its parameter schema is no valid JSON Schema (draft 2020-12): {exc.message}",
                                "Fix the schema; jsonschema.Draft202012Validator.check_schema(schema) names the fault.",
                                10)]
    if missing := _undefaulted(spec.schema):
        errors.append(_error(spec, f"parameters without a default: {', '.join(missing)}",
                             "Give every property a default, so `{}` is a complete request.", 11))
    try:
        filled = validate_params(spec.schema, {})
        if spec.check is not None:
            spec.check(filled)
    except ParameterError as exc:
        return [*errors, _error(spec, f"its defaults are refused: {exc}",
                                "Make every default valid against its property's schema and the spec's check.", 12)]
    try:
        estimate = spec.estimate(filled)
        if not isinstance(estimate, Estimate) or min(estimate.output_bytes, estimate.samples, estimate.cost) < 0:
            raise ValueError(f"it returned {estimate!r}, not an Estimate of counts >= 0")
    except Exception as exc:  # any failure is the spec's fault, reported with its slug
        errors.append(_error(spec, f"estimate() fails on the defaults: {exc}",
                             "Make estimate(params) return an Estimate for every valid parameter set.", 13))
    try:
        check_attributes(spec.schema, filled)
        outside = [f"{p.path} = {p.value}" for item in spec.tunable(filled) for p in item.parameters
                   if not p.minimum <= p.value <= p.maximum]
        if outside:
            raise ParameterError(outside[0], f"is outside its bounds ({len(outside)} such)")
    except ParameterError as exc:
        errors.append(_error(spec, f"its attributes are inconsistent: {exc}",
                             "Declare attributes with generators.params distributions whose defaults lie in "
                             "their bounds (generators.params.check_attributes names the fault).", 14))
    return errors


@checks.register()
def check_generator_specs(app_configs, **kwargs) -> list[checks.CheckMessage]:
    return [error for spec in registry.all_specs() for error in spec_errors(spec)]
