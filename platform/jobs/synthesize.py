"""The `synthesize` job: fit a tabular synthesizer (generators.tabular) on a table inside the platform
and publish the rows it samples as a new synthetic version.

The table is usually restricted real data; it never leaves. Its epsilon is booked on the table's
privacy ledger when the job is submitted (jobs.service: a job that would overspend is refused
before it exists), and what the accountant says was spent is stored with the version (summary and
parameters: ``epsilon``, ``delta``). The output dataset is private, not restricted: the release gate
(access.gate) holds each version until its evaluation (queued by jobs.outputs.publish) passes the
reference's thresholds. The fitted model goes into the version itself (``model/model.safetensors``
and ``model/model.json``: safetensors and JSON, never a pickle), so it is held and released with
the rows it made, and one job stays one version.

Methods are declared once in :data:`METHODS`; the parameter schema (and so the API, OpenAPI, the
portal form and ``manage.py submit``) is built from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from django.utils.text import slugify

from access import ledger
from catalog.loaders import load_table
from catalog.models import Dataset, DatasetVersion, VersionParent
from generators.spec import Estimate
from jobs.outputs import publish
from jobs.resolve import input_version, target_dataset
from jobs.types import Input, JobParameterError, JobType, Output, PreparedJob, Sizing

TABLE = Input("table", description="Slug of the table to fit on (its latest ready version), or a version id.",
              modalities=("tabular",), formats=("table/1",), required=True,
              relation=VersionParent.Relation.FITTED_ON, epsilon="epsilon")

# Every option a method may take, with its bounds (the library's defaults apply when left out).
OPTIONS: dict[str, dict[str, Any]] = {
    "fine_bins": {"type": "integer", "minimum": 2, "maximum": 256, "description": "Public bins per numeric column."},
    "marginal_share": {"type": "number", "minimum": 0.01, "maximum": 0.99,
                       "description": "Share of the budget spent on the column histograms (DP copula)."},
    "clip_norm": {"type": "number", "minimum": 0.1, "maximum": 10, "description": "Normal-score clipping (DP copula)."},
    "structure": {"enum": ["auto", "star", "tree"], "description": "Marginal model: star, tree, or chosen by the noise."},
    "max_bins": {"type": "integer", "minimum": 2, "maximum": 64, "description": "Most coarse bins per column (marginal)."},
    "epochs": {"type": "integer", "minimum": 1, "maximum": 1000, "description": "Training epochs (TVAE)."},
    "batch_size": {"type": "integer", "minimum": 8, "maximum": 4096, "description": "Batch size (TVAE)."},
    "learning_rate": {"type": "number", "minimum": 1e-5, "maximum": 1.0, "description": "Adam step size (TVAE)."},
    "hidden": {"type": "integer", "minimum": 8, "maximum": 1024, "description": "Hidden units per layer (TVAE)."},
    "latent": {"type": "integer", "minimum": 2, "maximum": 256, "description": "Latent dimensions (TVAE)."},
    "max_grad_norm": {"type": "number", "minimum": 0.01, "maximum": 100,
                      "description": "Per-sample gradient clipping of DP-SGD (TVAE with DP)."},
}


@dataclass(frozen=True)
class Method:
    title: str
    synthesizer: str  # the class name in generators.tabular
    dp: bool
    options: tuple[str, ...]
    # Passes over the table per unit of cost (the estimate); TVAE trains for epochs.
    passes_option: str | None = None
    # The share of the booked epsilon the library is asked for: opacus' noise search lands within 1%
    # of its target, either side, so DP-SGD aims 1% under and never spends more than was booked.
    aim: float = 1.0


METHODS: dict[str, Method] = {
    "copula": Method("Gaussian copula", "GaussianCopula", False, ("fine_bins",)),
    "copula-dp": Method("Gaussian copula, DP (noisy marginals and correlations)", "GaussianCopula", True,
                        ("fine_bins", "marginal_share", "clip_norm")),
    "marginal": Method("Marginal-based (MST-style, aimed at the target), DP", "MarginalSynthesizer", True,
                       ("fine_bins", "structure", "max_bins")),
    "tvae": Method("TVAE (torch)", "TVAE", False, ("fine_bins", "epochs", "batch_size", "learning_rate", "hidden",
                                                   "latent"), passes_option="epochs"),
    "tvae-dp": Method("TVAE with DP-SGD (opacus)", "TVAE", True,
                      ("fine_bins", "epochs", "batch_size", "learning_rate", "hidden", "latent", "max_grad_norm"),
                      passes_option="epochs", aim=0.99),
}

MAX_ROWS = 10_000_000

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["table"],
    "properties": {
        "table": {"type": "string", "maxLength": 100, "description": TABLE.description},
        "method": {"enum": list(METHODS), "default": "marginal",
                   "description": "; ".join(f"{name}: {m.title}" for name, m in METHODS.items())},
        "epsilon": {"type": "number", "minimum": 0.001, "maximum": 100,
                    "description": "Privacy budget the fit spends (DP methods only; booked on a restricted "
                                   "table's ledger)."},
        "delta": {"type": "number", "minimum": 1e-12, "maximum": 0.001, "default": 1e-5,
                  "description": "DP delta (DP methods only)."},
        "rows": {"type": "integer", "minimum": 1, "maximum": MAX_ROWS,
                 "description": "Rows to sample (default: as many as the table has)."},
        "seed": {"type": "integer", "minimum": 0, "maximum": 2**32 - 1, "default": 0,
                 "description": "Seed of the fit and of the sample."},
        "options": {"type": "object", "additionalProperties": False, "properties": OPTIONS, "default": {},
                    "description": "The method's own options: " + "; ".join(
                        f"{name}: {', '.join(m.options)}" for name, m in METHODS.items())},
        "metadata": {"type": "object", "description": (
            "The public column schema ({'columns': [{'name', 'kind', 'lower', 'upper', 'integer', 'categories'}], "
            "'target'}); default: the table version's own (summary.metadata). DP methods need one: bounds "
            "read off the real rows would leak them. Non-DP methods infer it from the table.")},
        "dataset": {"type": "string", "pattern": "^[-a-z0-9_]+$", "maxLength": 100,
                    "description": "Slug of the synthetic dataset to add the version to (created, private, if absent)."},
        "title": {"type": "string", "maxLength": 200},
    },
}


class SchemaMismatch(ValueError):
    """The table does not fit the declared schema. The library's messages name a column, never a
    value, so they may be shown for restricted tables too (jobs.runner)."""

    discloses_no_values = True


def _metadata(params: dict[str, Any], table: DatasetVersion) -> dict[str, Any] | None:
    """The schema given, else the one recorded with the table's version (an upload's checked schema)."""
    return params.get("metadata") or (table.summary or {}).get("metadata")


def prepare(user, params: dict[str, Any], inputs: dict[str, DatasetVersion]) -> PreparedJob:
    # Only the schema module: generators.tabular itself imports torch, which the web process needs not.
    from generators.tabular.metadata import Metadata

    table = inputs["table"]
    method = METHODS[params["method"]]
    for name in params["options"]:
        if name not in method.options:
            raise JobParameterError(f"parameters.options.{name}",
                                    f"{params['method']} takes no {name}; its options: {', '.join(method.options)}")
    normalized = {**params}
    if method.dp:
        if "epsilon" not in params:
            raise JobParameterError("parameters.epsilon", f"{params['method']} is differentially private: "
                                                          "give the epsilon it may spend")
    else:
        if "epsilon" in params:
            raise JobParameterError("parameters.epsilon", f"{params['method']} is not differentially private and "
                                    f"spends no epsilon; choose {params['method']}-dp or marginal for a DP fit")
        normalized.pop("delta", None)
        if table.dataset.access == Dataset.Access.RESTRICTED and table.dataset.epsilon_budget is not None:
            raise JobParameterError("parameters.method", f"{table.dataset.slug} has an epsilon budget: only a "
                                    f"differentially private method may read it ({', '.join(dp_methods())})")
    metadata = _metadata(params, table)
    if metadata is None and method.dp:
        raise JobParameterError("parameters.metadata", "a DP method needs the table's public schema (bounds and "
                                "categories): reading them off the real rows would leak them")
    if metadata is not None:
        try:
            normalized["metadata"] = Metadata.from_dict(metadata).to_dict()
        except (ValueError, TypeError) as exc:
            raise JobParameterError("parameters.metadata", str(exc)) from None
    normalized.setdefault("rows", max(int(table.samples), 1))
    source = table.dataset
    reference = source if source.kind == Dataset.Kind.REFERENCE else source.reference
    dataset = target_dataset(
        user, normalized, inputs, kind=Dataset.Kind.SYNTHETIC, modality="tabular", format="table/1",
        default_slug=slugify(f"{user.username}-{source.slug}-{params['method']}")[:100],
        title=f"{method.title} of {source.slug} ({user.username})", maker=f"synthesize ({params['method']})",
        card=f"Synthetic rows from {method.title}, fitted on {source.slug} inside the platform.",
        tags=("synthesize", params["method"]), reference=reference, gated=True,
    )
    return PreparedJob(parameters={**normalized, "dataset": dataset.slug}, dataset=dataset, inputs=inputs)


def dp_methods() -> list[str]:
    return [name for name, m in METHODS.items() if m.dp]


def _bytes_per_row(table: DatasetVersion) -> float:
    return max(table.total_size / max(table.samples, 1), 8.0)


def estimate(parameters: dict[str, Any]) -> Sizing:
    """Rows written at the table's own bytes per row (Parquet, so generous), plus the model; the work
    is every cell of the table once per pass (TVAE: per epoch) and every sampled cell."""
    table = DatasetVersion.objects.get(pk=parameters[TABLE.key])
    method = METHODS[parameters["method"]]
    rows, per_row = parameters["rows"], _bytes_per_row(table)
    passes = parameters["options"].get(method.passes_option, 60) if method.passes_option else 1
    cells = table.total_size / 8  # values of the table, at most: Parquet stores them compressed
    return Sizing(
        Estimate(output_bytes=int(2 * rows * per_row) + 4 * 10**6, samples=rows,
                 cost=int(cells * passes + 2 * rows * per_row / 8)),
        "parameters.rows", "Ask for fewer rows (or fewer epochs).",
    )


def _library_options(parameters: dict[str, Any]) -> dict[str, Any]:
    method = METHODS[parameters["method"]]
    options = {**parameters["options"], "random_state": parameters["seed"]}
    if method.dp:
        options |= {"epsilon": float(parameters["epsilon"]) * method.aim, "delta": float(parameters["delta"])}
    return options


def run(job_run) -> None:
    import generators.tabular as tabular  # lazy: torch and opacus load in the worker only

    job = job_run.job
    params = job.parameters
    method = METHODS[params["method"]]
    job_run.progress(0.02, "reading the table")
    table = load_table(input_version(job, TABLE))
    if params.get("metadata"):
        metadata = tabular.Metadata.from_dict(params["metadata"])
    else:  # non-DP only (prepare): the schema is read off the rows
        metadata = tabular.Metadata.infer(table, target="target" if "target" in table.columns else None)
    try:
        metadata.validate(table)
    except ValueError as exc:
        raise SchemaMismatch(str(exc)) from None
    synthesizer = getattr(tabular, method.synthesizer)(**_library_options(params))
    job_run.progress(0.1, f"fitting {params['method']} on {len(table):,} rows")
    synthesizer.fit(table, metadata)
    privacy = synthesizer.privacy_
    if method.dp and (privacy is None or privacy["epsilon"] > float(params["epsilon"]) * (1 + 1e-9)):
        # Never publish a fit that spent more than the ledger booked for it.
        raise RuntimeError(f"the accountant reports epsilon {privacy and privacy['epsilon']}, more than the "
                           f"{params['epsilon']} booked")
    job_run.progress(0.8, f"sampling {params['rows']:,} rows")
    rows = synthesizer.sample(int(params["rows"]), seed=int(params["seed"]))
    job_run.progress(0.9, "writing the rows and the model")
    rows.to_parquet(job_run.staging / "data.parquet", index=False)
    synthesizer.save(job_run.staging / "model")
    spent = {"epsilon": privacy["epsilon"], "delta": privacy["delta"], "accountant": privacy["accountant"]} \
        if privacy else None
    summary = {
        "method": params["method"], "synthesizer": method.synthesizer, "rows": len(rows),
        "columns": list(rows.columns), "privacy": spent, "epsilon_booked": params.get("epsilon"),
        "library_versions": synthesizer.provenance_["versions"], "model": "model/model.json",
        "metadata": metadata.to_dict(),
    }
    # What the evaluation reads (epsilon against the reference's budget) is what was spent.
    recorded = {**{k: v for k, v in params.items() if k not in ("metadata", TABLE.key)},
                "epsilon": spent["epsilon"] if spent else None, "delta": spent["delta"] if spent else None,
                "synthesizer_params": synthesizer.get_params()}
    publish(job_run, samples=len(rows), summary=summary, parameters=_plain(recorded), seed=int(params["seed"]),
            format="table/1")
    if spent:  # the ledger keeps what the accountant says was spent, when that is below the booking
        ledger.settle(job, spent["epsilon"])


def _plain(value: Any) -> Any:
    """JSON-able copies of numpy scalars (the library's parameters may hold them)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value.item() if isinstance(value, np.generic) else value


SYNTHESIZE = JobType(
    name="synthesize",
    title="Synthesize a table",
    description="Fits a tabular synthesizer (copula, marginal or TVAE, with or without DP) on a table inside "
                "the platform and publishes the rows it samples, with the fitted model, as a new version.",
    schema=SCHEMA,
    prepare=prepare,
    run=run,
    estimate=estimate,
    queue="cpu",
    inputs=(TABLE,),
    outputs=(Output("version", format="table/1", description="Synthetic rows (Parquet) and the fitted model "
                                                               "(model/model.safetensors + model/model.json)."),),
)
