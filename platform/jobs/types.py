"""Every job type, declared once: its queue, named inputs, outputs, parameter schema and functions.

A job type is one :class:`JobType` in one module, registered in :data:`JOB_TYPES`: built-ins by
dotted path, third parties under the ``synthreg.job_types`` entry-point group, a deployment's own
through ``SYNTHREG_JOB_TYPES`` (jobs/apps.py freezes the registry at start-up). The API, the OpenAPI
schema, the portal's forms, the command line and the worker all read it. What every job shares is
written once: resolving inputs and the target dataset (jobs/resolve.py), the privacy ledger
(jobs/service.py) and publishing outputs with their lineage (jobs/outputs.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from contracts.registry import Registry, Unknown
from generators.spec import Estimate

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from catalog.models import Dataset, DatasetVersion
    from jobs.runner import JobRun

ENTRY_POINT_GROUP = "synthreg.job_types"
# The Celery queues workers listen on (`celery worker -Q cpu,gpu`).
QUEUES = ("cpu", "gpu")


class JobParameterError(ValueError):
    """Invalid job parameters; ``field`` is the dotted name of the offending parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class JobLimitExceeded(JobParameterError):
    """The job is larger than one job may be (HTTP 400, like any parameter error); the message names the cap."""


class QuotaExceeded(JobParameterError):
    """The user's quota has no room for the job: ``quota`` names the setting, ``used`` and ``limit``
    say where it stands, ``status`` is the HTTP status (429: wait for jobs to finish; 403: storage full)."""

    def __init__(self, quota: str, message: str, used: int, limit: int, status: int) -> None:
        super().__init__("quota", message)
        self.quota, self.used, self.limit, self.status = quota, used, limit, status


class JobTargetNotFound(LookupError):
    """A named generator, dataset or version does not exist (or is not visible): HTTP 404."""


@dataclass(frozen=True)
class Input:
    """A dataset version the job reads, named by parameter ``name``: a dataset's slug (its latest
    ready version) or a version's id."""

    name: str
    description: str = ""
    # Accepted modalities and formats ("images/1", "table/1", ...); empty: any.
    modalities: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    # "reference" or "synthetic" (or "model"): the dataset kind it must be; None: any.
    kind: str | None = None
    required: bool = False
    # The lineage relation each output version records to it (VersionParent.Relation); None: none.
    relation: str | None = None
    # Differential-privacy epsilon spent on it when it is restricted: a number, or the name of
    # the parameter that holds it.
    epsilon: float | str = 0.0
    # The parameter the resolved version's id is kept under (jobs.resolve writes it).
    version_key: str = ""

    @property
    def key(self) -> str:
        return self.version_key or f"{self.name}_version"

    def epsilon_for(self, parameters: dict[str, Any]) -> float:
        return float(parameters.get(self.epsilon, 0.0)) if isinstance(self.epsilon, str) else float(self.epsilon)


@dataclass(frozen=True)
class Output:
    """What a job publishes: a dataset ``version`` of a format, a ``model`` artifact (a version of a
    model dataset, format "model/1"), or a ``report``."""

    kind: Literal["version", "model", "report"]
    # The format's name ("images/1", "model/1"); None: chosen at run time (generate: its generator's).
    format: str | None = None
    description: str = ""


@dataclass
class PreparedJob:
    """A validated request, ready to be saved as a Job row."""

    parameters: dict[str, Any]
    # None: the job type's declared queue.
    queue: str | None = None
    dataset: Dataset | None = None
    # The versions it reads, by input name (jobs.resolve.resolve_inputs).
    inputs: dict[str, DatasetVersion] = field(default_factory=dict)


@dataclass(frozen=True)
class Sizing:
    """A job's estimate, and what a refusal names: the parameter to change, and how."""

    estimate: Estimate
    field: str
    remedy: str


@dataclass(frozen=True)
class JobType:
    name: str
    title: str
    description: str
    # JSON Schema of the job's parameters (the outer object; nested generator
    # parameters are checked against the generator's own schema by ``prepare``).
    schema: dict[str, Any]
    # Validate and resolve a request for ``user``, given its declared inputs already resolved
    # (jobs.resolve); raises JobParameterError / JobTargetNotFound.
    prepare: Callable[[AbstractBaseUser, dict[str, Any], dict[str, DatasetVersion]], PreparedJob]
    # Runs inside the worker; publishes outputs through jobs.outputs (or ``run.complete``).
    run: Callable[[JobRun], None]
    # What the job will write and cost, from its prepared parameters (those saved on the Job row).
    estimate: Callable[[dict[str, Any]], Sizing]
    # The queue it runs on; ``prepare`` may choose another (generate takes its generator's).
    queue: str = "cpu"
    inputs: tuple[Input, ...] = ()
    outputs: tuple[Output, ...] = ()
    # Created by other jobs only (a large job's shards): never offered, never submitted.
    internal: bool = False

    def input(self, name: str) -> Input:
        for declared in self.inputs:
            if declared.name == name:
                return declared
        raise KeyError(f"job type {self.name!r} declares no input {name!r}")


class UnknownJobType(Unknown, JobParameterError):
    """An unknown job type is the request's fault: HTTP 400 naming ``type``."""

    def __init__(self, what: str, key: str, known: list[str]) -> None:
        Unknown.__init__(self, what, key, known)
        self.field, self.message = "type", str(self.args[0])


JOB_TYPES: Registry[JobType] = Registry(
    "job type", JobType, lambda job_type: job_type.name,
    builtins=["jobs.generate.GENERATE", "jobs.shards.GENERATE_SHARD", "jobs.evaluate.EVALUATE",
              "jobs.synthesize.SYNTHESIZE", "jobs.refine.REFINE", "jobs.adapt.ADAPT"],
    entry_point_group=ENTRY_POINT_GROUP, unknown=UnknownJobType,
)
get_job_type = JOB_TYPES.get


def submittable() -> list[JobType]:
    """The job types users submit (API, portal, command line, OpenAPI schema): all but internal ones."""
    return [job_type for job_type in JOB_TYPES.all() if not job_type.internal]
