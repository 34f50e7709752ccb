"""The `evaluate` job: score a synthetic version against a real reference and keep the report.

The reference is split once, by a recorded seed, into equal real-train and real-holdout
halves; the library computes utility (TSTR vs TRTR), fidelity and privacy. The report
(JSON, HTML, PDF) holds aggregates only, never real records.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from access import gate
from catalog import storage
from catalog.lineage import derived_from_restricted
from catalog.loaders import load_arrays, load_table
from catalog.models import Dataset, DatasetVersion, Evaluation
from contracts import formats
from generators.spec import Estimate
from jobs import service
from jobs.models import Job
from jobs.resolve import resolve_input
from jobs.types import (
    Input,
    JobParameterError,
    JobTargetNotFound,
    JobType,
    Output,
    PreparedJob,
    Sizing,
)

log = logging.getLogger(__name__)

# The version scored, and the real reference it is scored against: read, never copied into the
# report (which holds aggregates only), so neither is a lineage parent.
VERSION = Input("version", description="Id of the synthetic version to evaluate.", kind=Dataset.Kind.SYNTHETIC,
                required=True, version_key="version")
REFERENCE = Input("reference", description="Slug of the real dataset (default: the dataset's reference).",
                  kind=Dataset.Kind.REFERENCE)

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["version"],
    "properties": {
        "version": {"type": "integer", "minimum": 1, "description": VERSION.description},
        "reference": {"type": "string", "maxLength": 100, "description": REFERENCE.description},
        "target": {"type": "string", "default": "target", "description": "Label column of tabular data."},
        "seed": {"type": "integer", "minimum": 0, "default": 0, "description": "Seed of the real train/holdout split and the models."},
    },
}


def prepare(user, params: dict[str, Any], inputs: dict[str, DatasetVersion]) -> PreparedJob:
    version = inputs["version"]
    if "reference" not in inputs:
        if version.dataset.reference is None:
            raise JobParameterError("parameters.reference", "name a reference dataset you may use (the dataset has none)")
        inputs = {**inputs, "reference": resolve_input(user, REFERENCE, version.dataset.reference.slug)}
    real = inputs["reference"]
    # The path follows the version's format: the report it declares, and the references it is held to.
    try:
        evaluated = formats.get(version.dataset.data_format)
    except formats.UnknownFormat as exc:
        raise JobParameterError("parameters.version", f"{version}: {exc}") from None
    if evaluated.report is None:
        raise JobParameterError("parameters.version", f"{version} holds {evaluated.name}, which is not evaluated")
    if real.dataset.data_format not in evaluated.references:
        raise JobParameterError("parameters.reference", f"{real.dataset.slug} holds {real.dataset.data_format} data; "
                                f"{version} holds {evaluated.name}, evaluated against "
                                f"{' or '.join(evaluated.references) or 'nothing'}")
    normalized = {**params, "reference": real.dataset.slug}
    return PreparedJob(parameters=normalized, dataset=version.dataset, inputs=inputs)


def split_indices(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Equal real-train and real-holdout halves, fixed by the seed."""
    order = np.random.default_rng(seed).permutation(n)
    half = n // 2
    return np.sort(order[:half]), np.sort(order[half : 2 * half])


def _split_record(train: np.ndarray, holdout: np.ndarray, seed: int) -> dict[str, Any]:
    digest = hashlib.sha256(train.astype(np.int64).tobytes() + b"|" + holdout.astype(np.int64).tobytes())
    return {"seed": seed, "train_size": int(train.size), "holdout_size": int(holdout.size), "sha256": digest.hexdigest()}


def compute_report(version: DatasetVersion, real: DatasetVersion, params: dict[str, Any], progress) -> dict[str, Any]:
    # Lazy for cost: the evaluation library loads torch, scikit-learn and matplotlib; only workers need it.
    import evaluation

    seed = params["seed"]
    thresholds = real.dataset.privacy_thresholds or None
    # A report about restricted data, or data made from it, carries no per-record content.
    include_samples = not derived_from_restricted(version)
    # The path follows the version's format: its declared report kind, and how its files are read.
    subject = formats.get(version.dataset.data_format)
    if subject.report == "tabular":
        real_table, synthetic = load_table(real), load_table(version)
        train, holdout = split_indices(len(real_table), seed)
        report = evaluation.build_tabular_report(
            real_table.iloc[train].reset_index(drop=True), real_table.iloc[holdout].reset_index(drop=True), synthetic,
            target=params["target"] if params["target"] in real_table.columns else None,
            thresholds=thresholds, epsilon=version.parameters.get("epsilon"),
            epsilon_budget=real.dataset.epsilon_budget, random_state=seed, progress=progress,
            include_samples=include_samples,
        )
    elif subject.report in ("image", "scene"):
        real_arrays = load_arrays(real, ("images", "labels"))
        train, holdout = split_indices(len(real_arrays["labels"]), seed)
        if subject.report == "scene":  # images with dense labels: fidelity and privacy of the images
            report = evaluation.build_scene_report(
                real_arrays["images"][train], real_arrays["labels"][train],
                real_arrays["images"][holdout], real_arrays["labels"][holdout],
                load_arrays(version, ("images",))["images"],
                thresholds=thresholds, random_state=seed, progress=progress, include_samples=include_samples,
            )
        else:
            synthetic = load_arrays(version, ("images", "labels"))
            report = evaluation.build_image_report(
                real_arrays["images"][train], real_arrays["labels"][train],
                real_arrays["images"][holdout], real_arrays["labels"][holdout],
                synthetic["images"], synthetic["labels"],
                thresholds=thresholds, random_state=seed, progress=progress, include_samples=include_samples,
            )
    else:  # prepare refuses these
        raise ValueError(f"{version} holds {subject.name}, which declares no evaluation report")
    report["real_split"] = _split_record(train, holdout, seed)
    report["subject"] = {"version": str(version), "reference": str(real), "format": subject.name,
                         "date": timezone.now().date().isoformat()}
    return report


def run(job_run) -> None:
    # Lazy for cost: the evaluation library loads torch, scikit-learn and matplotlib; only workers need it.
    import evaluation

    job = job_run.job
    params = job.parameters
    version = DatasetVersion.objects.select_related("dataset").get(pk=params["version"])
    real = DatasetVersion.objects.select_related("dataset").get(pk=params["reference_version"])
    report = compute_report(version, real, params, lambda f, m: job_run.progress(0.95 * f, m))
    job_run.progress(0.96, "rendering the report")
    out = job_run.staging
    (out / "report.json").write_text(json.dumps(report, indent=1))
    (out / "report.html").write_text(evaluation.render_html(report))
    evaluation.render_pdf(report, out / "report.pdf")

    prefix = f"{version.dataset.slug}/evaluations/{job.pk}"
    files, size = storage.publish_report(out, prefix)
    try:
        with transaction.atomic():
            job_run.complete()
            made = Evaluation.objects.create(
                version=version, reference=real, job=job, evaluation_version=evaluation.EVALUATION_VERSION,
                results=report, report_files=files, report_size=size,
            )
            gate.evaluated(made)  # a pass releases a held version; anything else keeps it held
    except BaseException:
        storage.remove_tree(prefix)
        raise


def queue_evaluation(version: DatasetVersion) -> None:
    """Evaluate a new synthetic version against its dataset's reference, as its owner."""
    dataset = version.dataset
    if dataset.kind != Dataset.Kind.SYNTHETIC or dataset.reference is None:
        return
    try:
        service.submit(dataset.owner, "evaluate", {"version": version.pk})
    except (JobParameterError, JobTargetNotFound) as exc:
        # The version stands without its report; say why instead of failing the publication.
        log.warning("%s is not evaluated automatically: %s", version, exc)


def queue_stale_evaluations() -> list[DatasetVersion]:
    """Queue an evaluation for each ready synthetic version with a reference whose newest
    report was made by other evaluation code (or that has none), unless one is under way."""
    # Lazy for cost: importing evaluation.version runs evaluation/__init__ (the whole library).
    from evaluation.version import EVALUATION_VERSION

    busy = set(Job.objects.filter(type="evaluate", state__in=[Job.State.QUEUED, Job.State.RUNNING])
               .values_list("parameters__version", flat=True))
    queued = []
    versions = DatasetVersion.objects.filter(
        status=DatasetVersion.Status.READY, dataset__kind=Dataset.Kind.SYNTHETIC, dataset__reference__isnull=False,
    ).select_related("dataset__reference", "dataset__owner").prefetch_related("evaluations")
    for version in versions:
        newest = max(version.evaluations.all(), key=lambda e: e.created_at, default=None)
        if version.pk in busy or (newest and newest.evaluation_version == EVALUATION_VERSION):
            continue
        with transaction.atomic():
            queue_evaluation(version)
        queued.append(version)
    return queued


# report.json, .html and .pdf: about 0.2 MB for digits; more plots for tables with many columns.
REPORT_BYTES = 10**6


def _values(version: DatasetVersion) -> int:
    """Pixels or cells: samples times their recorded shape, else the stored bytes as 8-byte values."""
    if shape := version.summary.get("shape"):
        return version.samples * int(np.prod(shape))
    return -(-version.total_size // 8)


def estimate(parameters: dict[str, Any]) -> Sizing:
    """A small report; the work is every value of both inputs, the samples those evaluated."""
    versions = DatasetVersion.objects.filter(pk__in=[parameters["version"], parameters["reference_version"]])
    evaluated = sum(v.samples for v in versions if v.pk == parameters["version"])
    return Sizing(Estimate(output_bytes=REPORT_BYTES, samples=evaluated, cost=sum(map(_values, versions))),
                  "parameters.version", "Evaluate a version with fewer or smaller samples.")


EVALUATE = JobType(
    name="evaluate",
    title="Evaluate a synthetic version",
    description="TSTR vs TRTR utility, fidelity and privacy against a real reference, with a report.",
    schema=SCHEMA,
    prepare=prepare,
    run=run,
    estimate=estimate,
    inputs=(VERSION, REFERENCE),
    outputs=(Output("report", description="synthreg.report/1 as JSON, HTML and PDF."),),
)
