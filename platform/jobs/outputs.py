"""Publishing a job's outputs, written once for every job type.

:func:`publish` turns the job's staged files into the next version of its dataset: lineage from
the job type's declared inputs (each with its relation), the job's claim inside the publishing
transaction, and an evaluation queued for a new synthetic version. :func:`write_model` stages a
model artifact (safetensors plus a JSON card) for publishing into a model dataset.
:func:`publish_with_report` also stores a job report beside the version (refine, adapt, tune).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import save_file

from catalog import storage
from catalog.archives import archive_index
from catalog.exports import croissant
from catalog.exports.registry import FORMATS
from catalog.generator_rows import sync_generator
from catalog.models import Dataset, DatasetVersion
from catalog.publish import publish_version
from generators.spec import GeneratorSpec
from jobs.evaluate import queue_evaluation
from jobs.resolve import input_version
from jobs.types import get_job_type

logger = logging.getLogger(__name__)

MODEL_WEIGHTS = "model.safetensors"
MODEL_CARD = "card.json"


def publish(job_run, *, samples: int, staging: Path | None = None, dataset: Dataset | None = None,
            summary: dict[str, Any] | None = None, preview: str | None = None,
            generator: GeneratorSpec | None = None, parameters: dict[str, Any] | None = None,
            seed: int | None = None, format: str | None = None,
            parents: list[tuple[DatasetVersion, str]] = (),
            result: dict[str, Any] | None = None, report_size: int = 0) -> DatasetVersion:
    """Publish the job's staged files (``staging``: default the job's own folder) as the next version
    of ``dataset`` (default: the job's), linked to every declared input it read and to ``parents``
    (lineage that is no input: the version a generate job's preset was tuned on); ``result`` is the
    job's result, recorded in the same transaction; ``report_size`` the bytes of its stored report."""
    job = job_run.job
    version = publish_version(
        dataset=dataset or job.dataset, staging=staging or job_run.staging, key=str(job.pk),
        claim=lambda: job_run.complete(result), samples=samples, summary=summary, preview=preview,
        generator=sync_generator(generator) if generator else None, parameters=parameters, seed=seed,
        job=job, parents=[*lineage(job), *parents], on_published=queue_evaluation,
        format=format or (generator.format if generator else None), report_size=report_size,
    )
    # The worker reads the files once more for the archive's CRCs and digest, and writes the export
    # Croissant's record set names for its digest, so no download or description waits on them.
    # Both are derived and the version is already published: if they fail, the first request that
    # needs them computes them, and the job (succeeded) and its report stay as they are.
    try:
        archive_index(version)
        croissant.keep_record_digest(version, FORMATS)
    except Exception as exc:  # noqa: BLE001 - best effort, named in the log by type only (no data)
        logger.warning("version %s: precomputing its archive index or export digest failed (%s); "
                       "the first request will", version.pk, type(exc).__name__)
    return version


def publish_with_report(job_run, report: Path, *, summary: dict[str, Any] | None = None,
                        **publish_kwargs: Any) -> DatasetVersion:
    """Store the files ``report/report.<kind>`` under the job's own report prefix, then :func:`publish`
    with their paths as ``summary["report"]`` (served by ``api:version-job-report``, linked on the
    version page); the report goes again if publishing fails, so none outlives a missing version."""
    # Beside the version, not in it: the version's files must match its format exactly.
    prefix = report_prefix(job_run.job)
    files, size = storage.publish_report(report, prefix)
    try:
        return publish(job_run, summary={**(summary or {}), "report": files}, report_size=size, **publish_kwargs)
    except BaseException:
        storage.remove_tree(prefix)
        raise


def report_prefix(job) -> str:
    """Where a job's report is stored, beside its version's files."""
    return f"{job.dataset.slug}/{job.pk}-report"


def lineage(job) -> list[tuple[DatasetVersion, str]]:
    """(version, relation) for each declared input with a relation that the job read."""
    parents = []
    for declared in get_job_type(job.type).inputs:
        if declared.relation and (version := input_version(job, declared)) is not None:
            parents.append((version, declared.relation))
    return parents


def write_model(staging: Path, tensors: dict[str, np.ndarray], card: dict[str, Any]) -> None:
    """Stage a model artifact: its weights as safetensors (never a pickle) and its card as JSON."""
    save_file({name: np.ascontiguousarray(value) for name, value in tensors.items()}, staging / MODEL_WEIGHTS)
    (staging / MODEL_CARD).write_text(json.dumps(card, indent=1, sort_keys=True))
