"""Large generate jobs fan out as shard jobs and are published by one finalize step.

Each shard is a child Job (type ``generate-shard``) with its own sample count and a seed
derived from the parent's seed and the shard's index, so a job's output depends only on its
parameters and the shard size. Shards are claimed, retried and capped like any job; each
moves its files into the parent's shard folder and, inside the transaction that marks it
done, advances the parent's progress. When the last one is done, the parent is delivered
again and publishes every shard as one version; a shard that fails fails the parent.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.loaders import load_arrays
from catalog.presets import preset_parents
from generators import registry
from generators.spec import GeneratorSpec
from jobs.lifecycle import shards_root, wake_parent
from jobs.models import Job
from jobs.outputs import publish
from jobs.queueing import enqueue
from jobs.resolve import input_version
from jobs.types import JobParameterError, JobType, Sizing, get_job_type

State = Job.State
# The job type whose large jobs are sharded (jobs.generate, which imports this module).
GENERATE_NAME = "generate"


def shard_plan(n: int, shard_size: int, seed: int) -> list[tuple[int, int, int]]:
    """(index, samples, seed) of every shard: the seeds are independent streams of ``seed``."""
    count = -(-n // shard_size)
    seeds = np.random.SeedSequence(seed).generate_state(count, dtype=np.uint32)
    return [(i, min(shard_size, n - i * shard_size), int(seeds[i])) for i in range(count)]


def needs_shards(job: Job) -> bool:
    return job.shards.exists() or job.parameters["params"].get("n", 0) > settings.SYNTHREG_SHARD_SIZE


def run_parent(job_run, spec) -> None:
    """Fan out, wait, or finalize, depending on where the shards stand.

    Deciding and releasing happen in one transaction that first write-locks the job's row;
    a shard completing locks the same row before it counts its siblings, so the last shard
    always finds the parent released and wakes it.
    """
    job = job_run.job
    params = job.parameters["params"]
    failed: list[Job] = []
    with transaction.atomic():
        job_run.lock()
        children = list(job.shards.all())
        if not children:
            plan = shard_plan(params["n"], settings.SYNTHREG_SHARD_SIZE, params.get("seed", 0))
            for index, samples, seed in plan:
                child = Job.objects.create(
                    type=GENERATE_SHARD.name, owner=job.owner, queue=job.queue, dataset=job.dataset, parent=job,
                    parameters={"generator": spec.slug, "shard": index, "shards": len(plan),
                                "params": {**params, "n": samples, "seed": seed}, **_input_keys(job)},
                )
                enqueue(child)
            waiting = job_run.release(f"0 of {len(plan)} shards done")
        else:
            done = sum(c.state == State.SUCCEEDED for c in children)
            failed = [c for c in children if c.state in (State.FAILED, State.CANCELLED)]
            waiting = None if failed or done == len(children) else job_run.release(
                f"{done} of {len(children)} shards done")
    if waiting:
        raise waiting
    if failed:
        raise RuntimeError(f"shard {failed[0].parameters['shard']} {failed[0].state}: {failed[0].error}")
    job_run.progress(1.0, f"publishing {len(children)} shards")
    publish(job_run, staging=shards_root(job.pk), samples=sum(c.result.get("samples", 0) for c in children),
            summary={"shards": len(children), "shard_size": settings.SYNTHREG_SHARD_SIZE}, generator=spec,
            parameters={**params, "shard_size": settings.SYNTHREG_SHARD_SIZE}, seed=params.get("seed"),
            parents=preset_parents(job.parameters))


def _input_keys(job: Job) -> dict[str, Any]:
    """The parent's resolved inputs, which each shard's generator reads too."""
    return {declared.key: job.parameters[declared.key] for declared in get_job_type(job.type).inputs
            if declared.key in job.parameters}


def generator_inputs(job: Job, spec: GeneratorSpec) -> dict[str, Any]:
    """The array inputs a generate job (or its shard) passes to the generator: the images of each
    declared input of `generate` the generator takes (GeneratorSpec.inputs) and the job names."""
    arrays = {}
    for declared in get_job_type(GENERATE_NAME).inputs:
        if declared.name in spec.inputs and (version := input_version(job, declared)) is not None:
            arrays[declared.name] = load_arrays(version)["images"]
    return arrays


def run_shard(job_run) -> None:
    job = job_run.job
    spec = registry.get(job.parameters["generator"])
    result = spec.run(job.parameters["params"], job_run.staging, job_run.progress, **generator_inputs(job, spec))
    target = shards_root(job.parent_id) / f"shard-{job.parameters['shard']:05d}"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(target, ignore_errors=True)  # an earlier try's copy
    os.replace(job_run.staging, target)
    with transaction.atomic():
        job_run.complete({"samples": result.samples})  # a write first: SQLite takes its lock here
        # Locking the parent serializes sibling completions, so exactly one sees the last.
        parent = Job.objects.select_for_update().get(pk=job.parent_id)
        siblings = Job.objects.filter(parent=parent)
        done = siblings.filter(state=State.SUCCEEDED).count()
        total = siblings.count()
        Job.objects.filter(pk=parent.pk, state=State.RUNNING).update(
            progress=done / total, progress_message=f"{done} of {total} shards done", heartbeat_at=timezone.now())
        if done == total:
            wake_parent(parent.pk)


def _internal(user, params: dict[str, Any], inputs):
    raise JobParameterError("type", "generate-shard jobs are created by large generate jobs, not submitted")


def _estimate(parameters: dict[str, Any]) -> Sizing:
    """A shard's own part; limits count shards through their parent's estimate, never again."""
    return get_job_type(GENERATE_NAME).estimate(parameters)


GENERATE_SHARD = JobType(
    name="generate-shard",
    title="One shard of a large generate job",
    description="Renders part of a large generate job; created by the job itself.",
    schema={"type": "object"},
    prepare=_internal,
    run=run_shard,
    estimate=_estimate,
    internal=True,
)
