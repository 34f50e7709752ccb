"""What the `refine` and `adapt` jobs share: their inputs, the checks of a synthetic source and a
real target, the fixed protocol, the classifier fits, checkpoints, the scoring and the report.

Protocol (generators/adapt/protocol.py): the real target's records are split once, by
``SPLIT_SEED``, into a dev half (the unlabelled adaptation pool) and a test half, which is scored
after training only and never trained or selected on. The baselines (source-only, and the
target-only oracle trained on the dev labels) are on by default with the classifier's own budget
(``classifier_params``), and can be switched off (``baselines: false``): the report then has no
gap closed. Model selection is label-free (``selection``); the best checkpoint on the test half is
reported beside it, computed from the per-epoch snapshots after training.

Privacy: the target is restricted real data. Nothing of it is written but aggregates: the report
holds accuracies, losses and synthetic/refined images only, and its HTML and PDF are drawn from
that JSON alone. Outputs fitted on it stay private to their owner.
"""

from __future__ import annotations

import copy
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from catalog.loaders import array_shapes, load_arrays
from catalog.models import Dataset, DatasetVersion
from generators.adapt import api as adapt
from generators.adapt.api import SELECTORS
from generators.adapt.protocol import DIGITS_VALUE_MAX, TargetProtocol, gap_closed, small_cnn
from generators.params import ParameterError, validate_params
from generators.spec import Estimate
from jobs import outputs
from jobs.resolve import input_version, target_dataset
from jobs.types import Input, JobParameterError, Sizing

DEFAULT_TARGET = "sklearn-digits"
# report.json, .html and .pdf with a few figures.
REPORT_BYTES = 2 * 10**6
CLASSIFIER = "source_only"  # the protocol CNN's plain recipe: baselines, and TSTR of refined images
SAMPLE_COUNT = 8  # synthetic/refined pairs in the report's grid


def source_input(relation: str) -> Input:
    return Input("source", description="Slug of a synthetic image dataset with labels (its latest ready version).",
                 modalities=("image",), formats=("images/1",), kind=Dataset.Kind.SYNTHETIC, required=True,
                 relation=relation)


def target_input(relation: str) -> Input:
    return Input("target", description="Slug of the real image dataset (restricted); only its dev half is "
                 "used, unlabelled, for training.", modalities=("image",), formats=("images/1",),
                 kind=Dataset.Kind.REFERENCE, relation=relation)


def schema(methods: list[str], what: str) -> dict[str, Any]:
    """The job's parameters; ``params`` is checked against the chosen method's own schema."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["method", "source"],
        "properties": {
            "method": {"enum": methods, "description": f"The {what}."},
            "params": {"type": "object", "default": {}, "description": "The method's own parameters."},
            "source": {"type": "string", "description": source_input("").description},
            "target": {"type": "string", "default": DEFAULT_TARGET, "description": target_input("").description},
            "seed": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1, "default": 0,
                     "description": "Seed of every fit (a run is reproducible by it on CPU)."},
            "selection": {"enum": list(SELECTORS), "default": "last",
                          "description": "Label-free checkpoint choice (the best on test is reported beside)."},
            "baselines": {"type": "boolean", "default": True,
                          "description": "Also train the source-only and target-only (oracle) baselines "
                          "for the gap closed."},
            "classifier_params": {"type": "object", "default": {},
                                  "description": "Budget of the baseline CNN fits (source_only's parameters)."},
            "dataset": {"type": "string", "pattern": "^[-a-z0-9_]+$", "maxLength": 100,
                        "description": "Slug of the dataset to add the output to (created if absent)."},
            "title": {"type": "string", "maxLength": 200},
        },
    }


def _method_params(method_schema, method: str, params: Any, field: str) -> dict[str, Any]:
    try:
        return validate_params(copy.deepcopy(method_schema(method)), params)
    except ParameterError as exc:
        raise JobParameterError(f"parameters.{field}.{exc.field}", exc.message) from None


def _image_shape(version: DatasetVersion, field: str) -> tuple[int, int]:
    """(H, W) of a version's single-channel labelled images (the target's labels score the test
    half); refuses one without labels or of mixed sizes."""
    try:
        shapes = array_shapes(version)
    except (zipfile.BadZipFile, ValueError, OSError):  # a version published without a format check
        raise JobParameterError(field, f"{version}: its NPZ files cannot be read as arrays") from None
    if not shapes:
        raise JobParameterError(field, f"{version} holds no NPZ file of images")
    sizes = set()
    for path, arrays in shapes.items():
        images = arrays.get("images")
        if images is None or len(images) != 3:
            raise JobParameterError(field, f"{version}: {path} holds no N x H x W images "
                                           f"(single-channel images are needed)")
        if arrays.get("labels") != images[:1]:
            raise JobParameterError(field, f"{version}: {path} has no label per image; labelled images are needed")
        sizes.add(images[1:])
    if len(sizes) != 1:
        raise JobParameterError(field, f"{version} holds images of {len(sizes)} sizes; one size is needed")
    height, width = sizes.pop()
    if height != width or height % 4:
        raise JobParameterError(field, f"{version} holds {height}x{width} images; the protocol CNN takes "
                                       f"square images whose side is a multiple of 4")
    return height, width


def prepare_pair(user, params: dict[str, Any], inputs: dict[str, DatasetVersion], *, method_schema,
                 kind: str, format: str, maker: str, default_slug: str, title: str, card: str
                 ) -> tuple[dict[str, Any], Dataset]:
    """Check the method's parameters, the source (labelled) and the target (same image shape), and
    find the output dataset; returns the normalized parameters and that dataset."""
    normalized = {**params, "params": _method_params(method_schema, params["method"], params["params"], "params"),
                  "classifier_params": _method_params(adapt.method_schema, CLASSIFIER,
                                                      params["classifier_params"], "classifier_params")}
    source, target = inputs["source"], inputs["target"]
    source_shape = _image_shape(source, "parameters.source")
    target_shape = _image_shape(target, "parameters.target")
    if source_shape != target_shape:
        raise JobParameterError("parameters.target", f"{target.dataset.slug} holds {target_shape[0]}x{target_shape[1]} "
                                f"images; {source} holds {source_shape[0]}x{source_shape[1]}: they must match")
    # Fitted on restricted data, the output is private to its owner (the release gate decides on
    # more): the target does not make it restricted, but it is never public either.
    dataset = target_dataset(user, {**params, "access": Dataset.Access.PRIVATE}, {"source": source}, kind=kind,
                             modality=source.dataset.modality, default_slug=default_slug, title=title,
                             maker=maker, format=format, card=card, tags=(maker, params["method"]),
                             reference=target.dataset if kind == Dataset.Kind.SYNTHETIC else None)
    if dataset.access == Dataset.Access.PUBLIC and target.dataset.access == Dataset.Access.RESTRICTED:
        raise JobParameterError("parameters.dataset", f"dataset {dataset.slug!r} is public; what {maker} fits "
                                f"on restricted {target.dataset.slug} stays private: name a private dataset")
    normalized["dataset"] = dataset.slug
    normalized["image_shape"] = list(source_shape)
    return normalized, dataset


def estimate(parameters: dict[str, Any], source_input_: Input, fits: int, output_bytes: int) -> Sizing:
    """Work: every fit's steps × batch × 2 domains × pixels (an upper bound for the baselines)."""
    source = DatasetVersion.objects.get(pk=parameters[source_input_.key])
    pixels = int(np.prod(parameters["image_shape"]))

    def steps(params: dict[str, Any]) -> int:
        return params["epochs"] * params["steps_per_epoch"] * params["batch_size"] * 2 * pixels

    classifier_fits = fits + (2 if parameters["baselines"] else 0)
    cost = steps(parameters["params"]) + classifier_fits * steps(parameters["classifier_params"])
    return Sizing(Estimate(output_bytes=output_bytes + REPORT_BYTES, samples=source.samples, cost=cost),
                  "parameters.params.epochs", "Train for fewer epochs or steps, or on a smaller source.")


class Pair:
    """The job's source arrays and the target's protocol (the pool handed out; test scored later)."""

    def __init__(self, job, source_input_: Input, target_input_: Input) -> None:
        self.source_version = input_version(job, source_input_)
        self.target_version = input_version(job, target_input_)
        source = load_arrays(self.source_version, ("images", "labels"))
        self.images, self.labels = source["images"], source["labels"]
        real = load_arrays(self.target_version, ("images", "labels"))
        self.protocol = TargetProtocol(real["images"], real["labels"])
        self.pool = self.protocol.pool()
        # The images' range: the digits' 0..16, or whatever larger one the data has.
        self.value_max = float(max(DIGITS_VALUE_MAX, self.images.max(), real["images"].max()))
        # (path, images) of each source file, in the order load_arrays concatenated them.
        self.files = [(path, shapes["images"][0]) for path, shapes in array_shapes(self.source_version).items()]

    def description(self) -> dict[str, Any]:
        return {**self.protocol.description(), "target": str(self.target_version), "value_max": self.value_max}


class Stages:
    """Runs the job's fits one after the other: progress (stage, epoch, losses), a checkpoint folder
    per fit inside the job's checkpoint (each fit resumes from its last epoch after a dead worker),
    and which fits resumed from where."""

    def __init__(self, job_run, names: list[str]) -> None:
        self.job_run, self.names = job_run, names
        self.resumed: dict[str, int] = {}

    def run(self, name: str, fit, epochs: int, label: str | None = None):
        """``fit(progress=..., checkpoint_dir=...)`` as stage ``name`` (shown as ``label``)."""
        index = self.names.index(name)
        folder: Path = self.job_run.checkpoint.folder / name
        had_checkpoint = folder.is_dir() and any(folder.iterdir())
        first: list[int] = []

        def progress(fraction: float, message: str) -> None:
            # The first epoch this delivery trains tells where a resumed fit started.
            first.append(round(fraction * epochs))
            self.job_run.progress(0.9 * (index + fraction) / len(self.names), f"{label or name} {message}")

        self.job_run.progress(0.9 * index / len(self.names), f"{label or name}: starting")
        result = fit(progress=progress, checkpoint_dir=folder)
        if had_checkpoint:
            self.resumed[name] = (first[0] - 1) if first else epochs
        return result


def score(result: adapt.FitResult, protocol: TargetProtocol, name: str, *, predict=None) -> dict[str, Any]:
    """The test-half accuracy of the chosen checkpoint and, beside it, of every epoch's snapshot
    (after training: the best on test is reported, never used to choose). With ``predict`` (the
    model behind another map), only the chosen checkpoint's."""
    model = result.model
    row: dict[str, Any] = {"name": name, "selected_epoch": result.selected_epoch,
                           "test_accuracy": protocol.evaluate(predict or model.predict)}
    if predict is not None:
        return row
    per_epoch = []
    for snapshot in result.snapshots:
        network = small_cnn(model.side).to(next(model.network.parameters()).device)
        network.load_state_dict(snapshot)
        per_epoch.append(protocol.evaluate(adapt.AdaptedModel(network.eval(), model.side, model.value_max).predict))
    best = int(np.argmax(per_epoch))
    row["best_on_test"] = {"epoch": best + 1, "accuracy": per_epoch[best]}
    row["test_accuracy_by_epoch"] = per_epoch
    return row


def results_table(method_row: dict[str, Any], source_only: dict[str, Any] | None, oracle: dict[str, Any] | None,
                  extra: list[dict[str, Any]] = ()) -> dict[str, Any]:
    """The accuracy table: source-only, the method, the oracle; each row's share of the gap closed."""
    rows = [row for row in (source_only, method_row, *extra, oracle) if row is not None]
    gap = None
    if source_only and oracle:
        for row in rows:
            row["gap_closed"] = gap_closed(row["test_accuracy"], source_only["test_accuracy"], oracle["test_accuracy"])
        gap = method_row["gap_closed"]
    return {"rows": rows, "gap_closed": gap, "metric": "accuracy on the real test half",
            "note": "" if gap is not None else "Baselines were not trained (baselines: false): no gap closed."}


def baselines(stages: Stages, pair: Pair, params: dict[str, Any]) -> tuple[adapt.FitResult | None, ...]:
    """The source-only and target-only (oracle, the only fit given real labels: the dev half's) CNNs."""
    if not params["baselines"]:
        return None, None
    common = {"params": params["classifier_params"], "seed": params["seed"], "value_max": pair.value_max}
    epochs = params["classifier_params"]["epochs"]
    source_only = stages.run("source_only", lambda **kw: adapt.fit(
        CLASSIFIER, pair.images, pair.labels, pair.pool, selection=params["selection"], **common, **kw), epochs)
    dev_images, dev_labels = pair.protocol.dev_labelled()
    oracle = stages.run("target_only", lambda **kw: adapt.fit(
        "target_only", None, None, dev_images, target_labels=dev_labels, **common, **kw), epochs)
    return source_only, oracle


def history(**fits) -> dict[str, list[dict[str, Any]]]:
    return {name: fit.history for name, fit in fits.items() if fit is not None}


def build_report(job_type: str, job, pair: Pair, output: str, results: dict[str, Any],
                 histories: dict[str, list[dict[str, Any]]], samples: dict[str, Any] | None = None
                 ) -> dict[str, Any]:
    params = job.parameters
    report = {
        "schema": "synthreg.syn2real-report/1", "job_type": job_type, "method": params["method"],
        "params": params["params"], "seed": params["seed"],
        "subject": {"source": str(pair.source_version), "target": str(pair.target_version), "output": output,
                    "job": str(job.pk)},
        "protocol": {**pair.description(), "selection": params["selection"], "baselines": params["baselines"],
                     "classifier": f"{CLASSIFIER} {json.dumps(params['classifier_params'], sort_keys=True)}",
                     "test_best": "the best epoch on the test half, reported beside the validator's choice, "
                                  "never used to choose"},
        "results": results, "history": histories,
    }
    if samples is not None:
        report["samples"] = samples
    return report


def publish_with_report(job_run, folder: Path, report: dict[str, Any], stages: Stages, method_row: dict[str, Any],
                        *, samples: int, format: str, preview: str | None = None) -> DatasetVersion:
    """Publish ``folder`` as the job's version with the report (JSON, HTML, PDF) beside it and the
    headline figures in its summary."""
    # Lazy for cost: the evaluation library loads matplotlib; only workers need it.
    from evaluation import adaptation

    params = job_run.job.parameters
    reports = job_run.staging / "report"
    reports.mkdir()
    (reports / "report.json").write_text(json.dumps(report, indent=1))
    (reports / "report.html").write_text(adaptation.render_html(report))
    adaptation.render_pdf(report, reports / "report.pdf")
    summary = {"method": params["method"], "gap_closed": report["results"]["gap_closed"],
               "test_accuracy": method_row["test_accuracy"], "resumed": stages.resumed}
    return outputs.publish_with_report(job_run, reports, samples=samples, staging=folder, summary=summary,
                                       preview=preview, parameters=params, seed=params["seed"], format=format)
