"""Resolving what a job names: its declared inputs (with access checked) and the dataset it writes.

Written once for every job type: service.submit resolves each declared input before the type's
``prepare`` runs, and ``prepare`` calls :func:`target_dataset` for the dataset it publishes into.
A refusal is a JobParameterError naming ``parameters.<input>``.
"""

from __future__ import annotations

from typing import Any

from access import policy
from catalog.models import Dataset, DatasetVersion
from jobs.types import Input, JobParameterError, JobTargetNotFound, JobType

# How an input's refusal names what it takes ("not images").
_PLURAL = {"image": "images", "scene": "scenes", "tabular": "tables"}


def resolve_inputs(user, job_type: JobType, parameters: dict[str, Any]) -> dict[str, DatasetVersion]:
    """The version each named input stands for, by input name (absent optional inputs left out)."""
    resolved = {}
    for declared in job_type.inputs:
        value = parameters.get(declared.name)
        if value is None or value == "":
            if declared.required:
                raise JobParameterError(f"parameters.{declared.name}", "required: name a dataset or a version")
            continue
        resolved[declared.name] = resolve_input(user, declared, value)
    return resolved


def resolve_input(user, declared: Input, value: str | int) -> DatasetVersion:
    """A dataset's slug stands for its latest ready version; an integer is a version's id (one that
    does not exist, or that the user may not use, is not found: HTTP 404, as for any version id)."""
    field = f"parameters.{declared.name}"
    if isinstance(value, int) and not isinstance(value, bool):
        version = DatasetVersion.objects.select_related("dataset").filter(pk=value).first()
        # A version the release gate holds from the user is as good as absent (access.gate).
        if version is None or not policy.can_use_as_input(user, version.dataset) or policy.held_from(user, version):
            raise JobTargetNotFound(f"no dataset version {value}")
        if version.status != DatasetVersion.Status.READY:
            raise JobParameterError(field, f"{version} is {version.status}; only ready versions can be read")
        dataset = version.dataset
    else:
        dataset = Dataset.objects.filter(slug=str(value)).first()
        if dataset is None or not policy.can_use_as_input(user, dataset):
            raise JobParameterError(field, f"no dataset {value!r} you can use")
        version = None
    if declared.kind and dataset.kind != declared.kind:
        raise JobParameterError(field, f"{dataset.slug} is a {dataset.kind} dataset; {declared.name} takes "
                                       f"only {declared.kind} versions")
    if declared.modalities and dataset.modality not in declared.modalities:
        wanted = " or ".join(_PLURAL.get(m, f"{m} data") for m in declared.modalities)
        raise JobParameterError(field, f"{dataset.slug} holds {dataset.modality} data, not {wanted}")
    if declared.formats and dataset.data_format not in declared.formats:
        raise JobParameterError(field, f"{dataset.slug} holds {dataset.data_format}; {declared.name} takes "
                                       f"{' or '.join(declared.formats)}")
    if version is None:
        version = (policy.visible_versions(user).filter(dataset=dataset, status=DatasetVersion.Status.READY)
                   .order_by("-number").first())
        if version is None:
            raise JobParameterError(field, f"{dataset.slug} has no ready version")
    return version


def input_version(job, declared: Input) -> DatasetVersion | None:
    """The version a saved job reads for ``declared`` (None: the optional input was not given)."""
    pk = job.parameters.get(declared.key)
    return None if pk is None else DatasetVersion.objects.select_related("dataset").get(pk=pk)


def target_dataset(
    user, parameters: dict[str, Any], inputs: dict[str, DatasetVersion], *, kind: str, modality: str,
    default_slug: str, title: str, maker: str, format: str, card: str = "", tags: tuple[str, ...] = (),
    reference: Dataset | None = None, gated: bool = False,
) -> Dataset:
    """The dataset a job publishes into: ``parameters["dataset"]`` (or ``default_slug``), which the
    user must manage, of the job's kind, modality and data format; a new one is returned unsaved (service.submit
    saves it with the job). Output made from a restricted input is restricted: real content may
    show in it (composites show real pixels; a model may memorise records). With ``gated`` (a
    synthesizer whose output is evaluated) it is private instead, and the release gate holds each
    version made from restricted data until its evaluation passes (access.gate)."""
    restricted_from = None if gated else next((name for name, version in inputs.items()
                                               if version.dataset.access == Dataset.Access.RESTRICTED), None)
    access = Dataset.Access.RESTRICTED if restricted_from else parameters.get("access", Dataset.Access.PRIVATE)
    slug = parameters.get("dataset") or default_slug
    dataset = Dataset.objects.filter(slug=slug).first()
    if dataset is None:
        return Dataset(slug=slug, title=parameters.get("title") or title, modality=modality, kind=kind,
                       format=format, access=access, owner=user, reference=reference, tags=list(tags), card=card)
    if not policy.can_manage(user, dataset):
        raise JobParameterError("parameters.dataset", f"dataset {slug!r} belongs to someone else; choose another slug")
    if dataset.kind != kind or dataset.modality != modality:
        raise JobParameterError("parameters.dataset", f"dataset {slug!r} is a {dataset.modality} {dataset.kind} "
                                                      f"dataset; {maker} makes {modality} {kind} data")
    # One that declares none yet takes the format of its first version (catalog.publish).
    if dataset.format and dataset.format != format:
        raise JobParameterError("parameters.dataset", f"dataset {slug!r} holds {dataset.format}; "
                                                      f"{maker} writes {format}")
    if access == Dataset.Access.RESTRICTED and dataset.access != Dataset.Access.RESTRICTED:
        raise JobParameterError(
            f"parameters.{restricted_from}",
            f"{inputs[restricted_from].dataset.slug} is restricted, so the output must be too; {slug!r} is "
            f"{dataset.access}. Name a new dataset slug (it will be created restricted) or a restricted dataset.",
        )
    return dataset
