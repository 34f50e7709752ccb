"""The `refine` job: fit a refiner (generators.refine) on a labelled synthetic image version and the
unlabelled dev half of a real target, and publish the source refined as a new version.

Every NPZ file of the source is refined under its own name with its labels kept as they were
(lineage refined-from the source, fitted-on the target). The new version is evaluated like any
other (jobs.outputs.publish queues it). The job's report scores the refinement by the protocol
(jobs/syn2real.py): the same CNN trained on the refined images (TSTR) beside source-only and the
oracle on the real test half; a CycleGAN's reverse map is scored too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from django.utils.text import slugify

from catalog.models import Dataset, DatasetVersion, VersionParent
from catalog.previews import write_preview
from generators.adapt import api as adapt
from generators.refine import api as refine
from jobs import syn2real
from jobs.types import JobType, Output, PreparedJob, Sizing

SOURCE = syn2real.source_input(VersionParent.Relation.REFINED_FROM)
TARGET = syn2real.target_input(VersionParent.Relation.FITTED_ON)
SCHEMA = syn2real.schema(list(refine.METHODS), "refiner (generators.refine)")


def prepare(user, params: dict[str, Any], inputs: dict[str, DatasetVersion]) -> PreparedJob:
    source = inputs["source"]
    normalized, dataset = syn2real.prepare_pair(
        user, params, inputs, method_schema=refine.method_schema, kind=Dataset.Kind.SYNTHETIC, format="images/1",
        maker="refine", default_slug=slugify(f"{source.dataset.slug}-{params['method']}"),
        title=f"{source.dataset.title} refined by {params['method']}",
        card=f"`{source.dataset.slug}` refined by `{params['method']}` towards real images (labels kept).")
    return PreparedJob(parameters=normalized, dataset=dataset, inputs=inputs)


def estimate(parameters: dict[str, Any]) -> Sizing:
    source = DatasetVersion.objects.get(pk=parameters[SOURCE.key])
    # float32 pixels, the labels as they were.
    output = source.samples * (4 * int(np.prod(parameters["image_shape"])) + 8)
    return syn2real.estimate(parameters, SOURCE, fits=1, output_bytes=output)


def _write_refined(folder, pair: syn2real.Pair, refined: np.ndarray) -> None:
    """One file per source file, under its name; the labels are the source's, untouched."""
    folder.mkdir()
    start = 0
    for path, count in pair.files:
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as fh:
            np.savez(fh, images=refined[start:start + count], labels=pair.labels[start:start + count])
        start += count


def run(job_run) -> None:
    job = job_run.job
    params = job.parameters
    pair = syn2real.Pair(job, SOURCE, TARGET)
    names = ["refiner", "classifier"] + (["source_only", "target_only"] if params["baselines"] else [])
    stages = syn2real.Stages(job_run, names)
    fitted = stages.run("refiner", lambda **kw: refine.fit(
        params["method"], pair.images, pair.labels, pair.pool, params["params"], params["seed"],
        value_max=pair.value_max, **kw), params["params"]["epochs"])
    refined_images, labels = fitted.refined.refine(pair.images, pair.labels, seed=params["seed"])
    # TSTR: the protocol CNN trained on the refined images, scored on the real test half.
    classifier = stages.run("classifier", lambda **kw: adapt.fit(
        syn2real.CLASSIFIER, refined_images, labels, pair.pool, params["classifier_params"], params["seed"],
        selection=params["selection"], value_max=pair.value_max, **kw), params["classifier_params"]["epochs"])
    source_only, oracle = syn2real.baselines(stages, pair, params)

    job_run.progress(0.92, "scoring on the real test half")
    protocol = pair.protocol
    method_row = syn2real.score(classifier, protocol, f"{params['method']} (TSTR)")
    extra = []
    if fitted.refined.reverse is not None and source_only is not None:
        # The reverse map's use: real test images brought to the synthetic side, classified there.
        extra.append(syn2real.score(source_only, protocol, "source-only on reverse-mapped real test", predict=lambda x:
                                    source_only.model.predict(fitted.refined.reverse_transform(x))))
    results = syn2real.results_table(
        method_row, source_only and syn2real.score(source_only, protocol, "source-only"),
        oracle and syn2real.score(oracle, protocol, "target-only (oracle)"), extra)
    shown = slice(0, syn2real.SAMPLE_COUNT)
    samples = {"synthetic": pair.images[shown].tolist(), "refined": refined_images[shown].tolist(),
               "labels": pair.labels[shown].tolist(), "value_max": pair.value_max}
    histories = syn2real.history(refiner=fitted, classifier=classifier, source_only=source_only, target_only=oracle)
    report = syn2real.build_report("refine", job, pair, f"{job.dataset.slug} (next version)", results, histories,
                                   samples)

    job_run.progress(0.95, "writing the refined version and its report")
    folder = job_run.staging / "version"
    _write_refined(folder, pair, refined_images)
    preview = write_preview(folder)
    syn2real.publish_with_report(job_run, folder, report, stages, method_row, samples=len(labels),
                                 format="images/1", preview=preview)

REFINE = JobType(
    name="refine",
    title="Refine a synthetic image version",
    description="Fits a refiner (SimGAN, CycleGAN, PixelDA) on synthetic images and the unlabelled dev half of "
                "real images, and publishes the refined images with their labels kept, with a report.",
    schema=SCHEMA,
    prepare=prepare,
    run=run,
    estimate=estimate,
    queue="gpu",
    inputs=(SOURCE, TARGET),
    outputs=(Output("version", format="images/1", description="The source refined, its labels kept."),
             Output("report", description="synthreg.syn2real-report/1 as JSON, HTML and PDF.")),
)
