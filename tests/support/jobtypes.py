"""A toy job type, declared the way any new one is: one module, one registration.

``fit-means`` fits the simplest model there is, the column means of a table, and publishes it as
a model artifact (safetensors plus a JSON card) in a model dataset, linked to the table it was
fitted on. It is registered in the test process with ``JOB_TYPES.temporarily_registered`` and in
worker processes through the ``SYNTHREG_JOB_TYPES`` setting; no platform file names it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catalog.loaders import load_table
from catalog.models import Dataset, DatasetVersion, VersionParent
from generators.spec import Estimate
from jobs.outputs import publish, write_model
from jobs.resolve import input_version, target_dataset
from jobs.types import Input, JobType, Output, PreparedJob, Sizing

TABLE = Input("table", description="Slug of the table to fit on (its latest ready version).",
              modalities=("tabular",), formats=("table/1",), required=True,
              relation=VersionParent.Relation.FITTED_ON, epsilon="epsilon")

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["table"],
    "properties": {
        "table": {"type": "string", "description": TABLE.description},
        "dataset": {"type": "string", "pattern": "^[-a-z0-9_]+$", "maxLength": 100,
                    "description": "Slug of the model dataset to add the model to (created if absent)."},
        "epsilon": {"type": "number", "minimum": 0, "maximum": 10, "default": 0.5,
                    "description": "Privacy budget the fit spends on a restricted table."},
    },
}


def prepare(user, params: dict[str, Any], inputs: dict[str, DatasetVersion]) -> PreparedJob:
    table = inputs["table"]
    dataset = target_dataset(user, params, inputs, kind=Dataset.Kind.MODEL, modality=table.dataset.modality,
                             default_slug=f"{user.username}-means", title=f"Column means ({user.username})",
                             maker="fit-means", format="model/1")
    return PreparedJob(parameters=params, dataset=dataset, inputs=inputs)


def run(job_run) -> None:
    table = load_table(input_version(job_run.job, TABLE))
    numeric = table.select_dtypes("number")
    job_run.progress(0.5, f"fitting the means of {numeric.shape[1]} columns")
    write_model(job_run.staging, {"mean": numeric.to_numpy(dtype=np.float64).mean(axis=0)},
                {"format": "model/1", "kind": "column-means", "columns": list(numeric.columns)})
    publish(job_run, samples=len(table), format="model/1")


def estimate(parameters: dict[str, Any]) -> Sizing:
    table = DatasetVersion.objects.get(pk=parameters[TABLE.key])
    return Sizing(Estimate(output_bytes=64 * 1024, samples=1, cost=max(table.total_size // 8, 1)),
                  "parameters.table", "Fit on a smaller table.")


FIT_MEANS = JobType(
    name="fit-means",
    title="Fit column means (test)",
    description="Fits the column means of a table and publishes them as a model artifact.",
    schema=SCHEMA,
    prepare=prepare,
    run=run,
    estimate=estimate,
    inputs=(TABLE,),
    outputs=(Output("model", format="model/1", description="The means, as safetensors and a JSON card."),),
)
