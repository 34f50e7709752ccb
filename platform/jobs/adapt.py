"""The `adapt` job: train the protocol CNN by a domain-adaptation method (generators.adapt) on a
labelled synthetic image version and the unlabelled dev half of a real target, and publish the
model as a model artifact (a version of a model dataset, format model/1: safetensors plus a card
with method, data, protocol, results and lineage), with a report.

The artifact is read back with ``generators.adapt.load_model`` (safetensors only, never a
pickle); its lineage records fitted-on the source and tuned-on the target.
"""

from __future__ import annotations

from typing import Any

from django.utils.text import slugify

from catalog.models import Dataset, DatasetVersion, VersionParent
from generators.adapt import api as adapt
from jobs import syn2real
from jobs.outputs import write_model
from jobs.types import JobType, Output, PreparedJob, Sizing

SOURCE = syn2real.source_input(VersionParent.Relation.FITTED_ON)
TARGET = syn2real.target_input(VersionParent.Relation.TUNED_ON)
# The oracle is a baseline (it sees the real dev labels), not a method a user adapts with.
METHODS = [name for name in adapt.METHODS if name != "target_only"]
SCHEMA = syn2real.schema(METHODS, "adaptation method (generators.adapt)")
MODEL_BYTES = 2 * 10**6  # the protocol CNN's weights (about 0.6 MB for 8x8 images) and its card


def prepare(user, params: dict[str, Any], inputs: dict[str, DatasetVersion]) -> PreparedJob:
    source = inputs["source"]
    normalized, dataset = syn2real.prepare_pair(
        user, params, inputs, method_schema=adapt.method_schema, kind=Dataset.Kind.MODEL, format="model/1",
        maker="adapt", default_slug=slugify(f"{source.dataset.slug}-{params['method']}-model"),
        title=f"{params['method']} model ({source.dataset.slug})",
        card=f"CNNs adapted by `{params['method']}` from `{source.dataset.slug}` to real images.")
    return PreparedJob(parameters=normalized, dataset=dataset, inputs=inputs)


def estimate(parameters: dict[str, Any]) -> Sizing:
    return syn2real.estimate(parameters, SOURCE, fits=0, output_bytes=MODEL_BYTES)


def run(job_run) -> None:
    job = job_run.job
    params = job.parameters
    pair = syn2real.Pair(job, SOURCE, TARGET)
    names = ["method"] + (["source_only", "target_only"] if params["baselines"] else [])
    stages = syn2real.Stages(job_run, names)
    fitted = stages.run("method", lambda **kw: adapt.fit(
        params["method"], pair.images, pair.labels, pair.pool, params["params"], params["seed"],
        selection=params["selection"], value_max=pair.value_max, **kw), params["params"]["epochs"],
        label=params["method"])
    source_only, oracle = syn2real.baselines(stages, pair, params)

    job_run.progress(0.92, "scoring on the real test half")
    method_row = syn2real.score(fitted, pair.protocol, params["method"])
    results = syn2real.results_table(
        method_row, source_only and syn2real.score(source_only, pair.protocol, "source-only"),
        oracle and syn2real.score(oracle, pair.protocol, "target-only (oracle)"))
    histories = syn2real.history(**{params["method"]: fitted}, source_only=source_only, target_only=oracle)
    report = syn2real.build_report("adapt", job, pair, f"{job.dataset.slug} (next version)", results, histories)

    job_run.progress(0.95, "writing the model and its report")
    folder = job_run.staging / "model"
    folder.mkdir()
    model = fitted.model
    card = {
        **model.card, "format": "model/1", "kind": "image-classifier",
        "architecture": "generators.adapt.protocol.small_cnn", "side": model.side, "value_max": model.value_max,
        "data": {**model.card["data"], "source_version": pair.source_version.pk,
                 "target_version": pair.target_version.pk},
        "protocol": report["protocol"], "results": results,
        "lineage": [{"version": str(pair.source_version), "relation": SOURCE.relation},
                    {"version": str(pair.target_version), "relation": TARGET.relation}],
    }
    write_model(folder, {k: v.detach().cpu().numpy() for k, v in model.network.state_dict().items()}, card)
    syn2real.publish_with_report(job_run, folder, report, stages, method_row, samples=1, format="model/1")

ADAPT = JobType(
    name="adapt",
    title="Adapt a classifier to real images",
    description="Trains the protocol CNN from synthetic images to the unlabelled dev half of real images "
                "(DANN, DSN, CORAL, self-training, or source-only) and publishes the model with a report: "
                "source-only, the method and the oracle on the real test half, and the gap closed.",
    schema=SCHEMA,
    prepare=prepare,
    run=run,
    estimate=estimate,
    queue="gpu",
    inputs=(SOURCE, TARGET),
    outputs=(Output("model", format="model/1", description="The CNN as safetensors with a model card."),
             Output("report", description="synthreg.syn2real-report/1 as JSON, HTML and PDF.")),
)
