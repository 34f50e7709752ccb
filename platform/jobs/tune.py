"""The `tune` job: move a generator's tunable attributes toward a real dataset, then register the
tuned configuration as a preset, render a dataset from it and keep a report.

The library does the tuning (generators.feedback: learning-to-simulate, meta-sim, vadra or random
search). The job reads only the dev half of the real images (the adapt protocol's fixed split,
generators.adapt.protocol.dev_test_split); the test half is never loaded into the tuner. Every
iteration is saved as the job's checkpoint (safetensors + JSON) and mirrored into the job's result,
so progress is live and a delivery after a dead worker resumes where the last one stopped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from django.utils.text import slugify

from catalog.loaders import load_arrays
from catalog.models import Dataset, DatasetVersion, GeneratorPreset, VersionParent
from catalog.presets import PresetError, register_preset
from catalog.previews import write_preview
from evaluation.tuning import render_pdf, report_html
from generators import registry
from generators.adapt.protocol import TargetProtocol
from generators.feedback import TUNERS, Budget, ParameterSpace, RealData, tune
from generators.params import ParameterError
from generators.spec import Estimate
from jobs.models import Job
from jobs.outputs import publish_with_report
from jobs.resolve import input_version, resolve_input, target_dataset
from jobs.types import (
    Input,
    JobParameterError,
    JobTargetNotFound,
    JobType,
    Output,
    PreparedJob,
    Sizing,
)

DEFAULT_REFERENCE = "sklearn-digits"  # catalog/references.py: the built-in real digits
REFERENCE = Input(
    "reference", description=f"Slug of the real image dataset to tune on (default: {DEFAULT_REFERENCE}).",
    modalities=("image",), formats=("images/1",), kind=Dataset.Kind.REFERENCE,
    relation=VersionParent.Relation.TUNED_ON,
)
SLUG = "^[-a-z0-9_]+$"
REPORT_BYTES = 500_000  # the report's HTML, PDF and JSON, about

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["generator"],
    "properties": {
        "generator": {"type": "string", "description": "Slug of a registered image generator (labelled images)."},
        "tuner": {"enum": list(TUNERS), "default": "learning-to-simulate",
                  "description": "learning-to-simulate: real dev accuracy; meta-sim: feature MMD to the real "
                                 "images, no labels; vadra: toward what the task model gets wrong; "
                                 "random-search: the baseline."},
        "params": {"type": "object", "default": {}, "description": "The generator's parameters to start from."},
        "start": {"enum": ["params", "generic"], "default": "params",
                  "description": "params: start at `params`; generic: every numeric attribute at the midpoint of "
                                 "its bounds, every option weighed alike."},
        "attributes": {"type": "array", "items": {"type": "string"}, "minItems": 1, "uniqueItems": True,
                       "description": "Tunable attributes to move (default: every tunable one)."},
        "iterations": {"type": "integer", "minimum": 1, "maximum": 200, "default": 10},
        "pairs": {"type": "integer", "minimum": 1, "maximum": 16, "default": Budget.pairs,
                  "description": "Antithetic pairs of candidate configurations per iteration."},
        "images": {"type": "integer", "minimum": 20, "maximum": 20_000, "default": Budget.images,
                   "description": "Images rendered per candidate."},
        "steps": {"type": "integer", "minimum": 1, "maximum": 5000, "default": Budget.steps,
                  "description": "Training steps of the task model per candidate."},
        "seed": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1, "default": 0},
        "preset": {"type": "string", "pattern": SLUG, "maxLength": 100,
                   "description": "Name of the preset the tuned configuration is registered as."},
        "n": {"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 1000,
              "description": "Images in the dataset rendered from the tuned configuration."},
        "dataset": {"type": "string", "pattern": SLUG, "maxLength": 100,
                    "description": "Slug of the synthetic dataset the rendered version goes to (created if absent)."},
        "title": {"type": "string", "maxLength": 200},
        "reference": {"type": "string", "maxLength": 100, "description": REFERENCE.description},
    },
}


def _space(spec, params: dict[str, Any]) -> ParameterSpace:
    try:
        return ParameterSpace(spec, params["params"], params.get("attributes"))
    except ParameterError as exc:
        field = exc.field if exc.field.startswith("attributes") else f"params.{exc.field}"
        raise JobParameterError(f"parameters.{field}", exc.message) from None


def prepare(user, params: dict[str, Any], inputs: dict[str, DatasetVersion]) -> PreparedJob:
    try:
        spec = registry.get(params["generator"])
    except registry.UnknownGenerator as exc:
        raise JobTargetNotFound(str(exc)) from None
    if spec.format != "images/1":
        raise JobParameterError("parameters.generator", f"`{spec.slug}` writes {spec.format}; tune jobs tune "
                                                        "generators of labelled images (images/1)")
    try:
        generator_params = registry.validate(spec.slug, params["params"])
    except ParameterError as exc:
        raise JobParameterError(f"parameters.params.{exc.field}", exc.message) from None
    _space(spec, {**params, "params": generator_params})
    if "reference" not in inputs:
        inputs = {**inputs, "reference": resolve_input(user, REFERENCE, DEFAULT_REFERENCE)}
    real = inputs["reference"]
    preset = params.get("preset") or slugify(f"{user.username}-{params['tuner']}-{real.dataset.slug}")[:100]
    taken = GeneratorPreset.objects.filter(generator__slug=spec.slug, name=preset).exclude(owner=user).exists()
    if taken:
        raise JobParameterError("parameters.preset", f"{spec.slug} already has a preset {preset!r} of another "
                                                     "user; choose another name")
    # The rendered digits hold no real pixel (only parameters were learnt from the real data), so the
    # dataset is private rather than restricted; its tuned-on lineage holds it to the release gate.
    dataset = target_dataset(
        user, params, {}, kind=Dataset.Kind.SYNTHETIC, modality=spec.modality,
        default_slug=slugify(f"{user.username}-{spec.slug}-tuned"), title=f"{spec.title}, tuned ({user.username})",
        maker="a tune job", card=f"Rendered by `{spec.slug}` {spec.version} from the preset `{preset}`, tuned "
                                 f"by {params['tuner']} on {real.dataset.slug}.",
        tags=(spec.slug, "tuned"), reference=real.dataset, format=spec.format,
    )
    normalized = {**params, "generator": spec.slug, "params": generator_params, "preset": preset,
                  "dataset": dataset.slug, "reference": real.dataset.slug}
    return PreparedJob(parameters=normalized, queue=spec.queue, dataset=dataset, inputs=inputs)


def _budget(parameters: dict[str, Any]) -> Budget:
    return Budget(iterations=parameters["iterations"], pairs=parameters["pairs"], images=parameters["images"],
                  steps=parameters["steps"])


def estimate(parameters: dict[str, Any]) -> Sizing:
    """Every candidate's render plus the final dataset; training is about as much again per image."""
    spec = registry.get(parameters["generator"])
    budget = _budget(parameters)
    per_batch = spec.estimate({**parameters["params"], "n": budget.images}).cost
    final = spec.estimate({**parameters["params"], "n": parameters["n"]})
    cost = 2 * budget.evaluations * per_batch + final.cost
    return Sizing(Estimate(output_bytes=final.output_bytes + REPORT_BYTES, samples=final.samples, cost=cost),
                  "parameters.iterations", "Lower iterations, pairs, images or n.")


def run(job_run) -> None:
    job = job_run.job
    parameters = job.parameters
    spec = registry.get(parameters["generator"])
    version = input_version(job, REFERENCE)
    real = load_arrays(version, ("images", "labels"))
    # The adapt protocol's fixed halves: the tuner gets the dev half; its audit proves the test half untouched.
    protocol = TargetProtocol(real["images"], real["labels"])
    dev_images, dev_labels = protocol.dev_labelled()
    space = _space(spec, parameters)
    start = space.generic_start() if parameters["start"] == "generic" else space.unit_of(space.base)

    def checkpoint(tensors: dict[str, np.ndarray], state: dict[str, Any]) -> None:
        job_run.checkpoint.save(tensors, state)
        # Live: every iteration so far, in the job's result while it runs.
        Job.objects.filter(pk=job.pk, state=Job.State.RUNNING).update(
            result={"tuner": parameters["tuner"], "iterations": state["history"]})

    saved = job_run.checkpoint.load()
    result = tune(parameters["tuner"], space,
                  RealData(dev_images, dev_labels, value_max=max(float(dev_images.max()), 1.0),
                           classes=int(real["labels"].max()) + 1),
                  start=start, budget=_budget(parameters), seed=parameters["seed"],
                  progress=lambda fraction, message: job_run.progress(0.9 * fraction, message),
                  checkpoint=checkpoint, resume=saved)
    if protocol.training_indices() & {int(i) for i in protocol.test}:
        raise RuntimeError("the tuner was handed a test index")  # never: the audit of the protocol's split
    tuned = result.to_json()
    tuned["details"]["real"] = {"dataset": version.dataset.slug, "version": version.pk, "dev_count": len(dev_labels),
                                "split": "generators.adapt.protocol: the dev half only; the test half is never read"}

    job_run.progress(0.92, "rendering the tuned dataset")
    final = {**result.parameters, "n": parameters["n"], "seed": parameters["seed"]}
    # The version and its report in two folders: the version's files must match the generator's format.
    folder, reports = job_run.staging / "version", job_run.staging / "report"
    folder.mkdir()
    reports.mkdir()
    rendered = spec.run(final, folder, job_run.progress)
    preview = rendered.preview or write_preview(folder)
    try:
        preset = register_preset(spec.slug, parameters["preset"], result.parameters, job.owner, job=job,
                                 tuned_on=version, description=f"Tuned by {parameters['tuner']} on {version}.")
    except PresetError as exc:
        raise JobParameterError(f"parameters.{exc.field}", exc.message) from None
    _write_report(reports, tuned, f"Tuning {parameters['generator']} ({tuned['tuner']})")
    publish_with_report(
        job_run, reports, samples=rendered.samples, staging=folder, summary=rendered.summary, preview=preview,
        generator=spec, parameters=final, seed=final["seed"],
        result={"tuner": parameters["tuner"], "preset": {"id": preset.pk, "name": preset.name},
                "chosen_iteration": result.chosen_iteration,
                "resumed_at_iteration": len(saved[1]["history"]) if saved else None,
                "moved": result.moved, "iterations": result.history})


def _write_report(folder: Path, tuned: dict[str, Any], title: str) -> None:
    """The report as HTML (plots), PDF and JSON, in ``folder``."""
    (folder / "report.html").write_text(report_html(tuned, title))
    render_pdf(tuned, title, folder / "report.pdf")
    (folder / "report.json").write_text(json.dumps(tuned, indent=1, sort_keys=True))


TUNE = JobType(
    name="tune",
    title="Tune a generator on real data",
    description="Moves a generator's tunable attributes toward a real dataset (learning-to-simulate, Meta-Sim, "
                "VADRA or random search), registers the result as a preset, renders a dataset from it and keeps "
                "a report with plots.",
    schema=SCHEMA,
    prepare=prepare,
    run=run,
    estimate=estimate,
    inputs=(REFERENCE,),
    outputs=(Output("version", format="images/1", description="A dataset rendered from the tuned preset."),
             Output("report", description="Objective and real dev accuracy per iteration; each tuned distribution "
                                          "at the start and the end.")),
)
