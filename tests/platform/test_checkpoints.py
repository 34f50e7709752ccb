"""A job's checkpoint survives a dead worker's delivery and is gone once the job ends."""

import socket
import subprocess
import sys

import numpy as np
import pytest
import torch

from generators.spec import Estimate
from jobs import runner, service
from jobs.checkpoints import Checkpoint
from jobs.models import Job
from jobs.types import JOB_TYPES, JobType, PreparedJob, Sizing

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """Stands in for SIGKILL: nothing in the runner catches it, as nothing survives a kill."""


def count_to_three(job_run) -> None:
    saved = job_run.checkpoint.load()
    step = saved[1]["step"] if saved else 0
    weights = saved[0]["weights"] if saved else np.zeros(3)
    job_run.job.__class__.objects.filter(pk=job_run.job.pk).update(result={"resumed_at": step})
    while step < 3:
        weights = weights + 1
        step += 1
        job_run.checkpoint.save({"weights": torch.from_numpy(weights)}, {"step": step})
        if step == 2 and not saved:
            raise WorkerKilled
    job_run.complete({"resumed_at": step if not saved else saved[1]["step"], "weights": weights.tolist()})


COUNT = JobType(
    name="count-to-three", title="Count to three (test)", description="Checkpoints every step.",
    schema={"type": "object", "properties": {}, "additionalProperties": False},
    prepare=lambda user, params, inputs: PreparedJob(parameters=params),
    run=count_to_three,
    estimate=lambda parameters: Sizing(Estimate(output_bytes=0, samples=0, cost=1), "parameters", ""),
)


@pytest.fixture
def counting_job(user):
    with JOB_TYPES.temporarily_registered(COUNT):
        yield service.submit(user, "count-to-three", {})


def dead_holder() -> str:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return f"{socket.gethostname()}:{process.pid}"


def test_a_delivery_after_a_dead_worker_resumes_from_the_checkpoint(counting_job):
    with pytest.raises(WorkerKilled):
        runner.execute(str(counting_job.pk))
    assert Checkpoint(counting_job).load()[1] == {"step": 2}
    Job.objects.filter(pk=counting_job.pk).update(worker=dead_holder())

    runner.execute(str(counting_job.pk))

    counting_job.refresh_from_db()
    assert counting_job.state == "succeeded", counting_job.error
    # Resumed at step 2, not from scratch, and the tensors came back as saved.
    assert counting_job.result == {"resumed_at": 2, "weights": [3.0, 3.0, 3.0]}
    assert Checkpoint(counting_job).load() is None
    assert not Checkpoint(counting_job).folder.exists()


def test_a_failed_job_leaves_no_checkpoint(counting_job):
    with pytest.raises(WorkerKilled):
        runner.execute(str(counting_job.pk))
    Job.objects.filter(pk=counting_job.pk).update(worker=dead_holder())
    assert service.cancel(Job.objects.get(pk=counting_job.pk))
    assert Checkpoint(counting_job).load() is None


def test_a_save_interrupted_before_its_swap_keeps_the_previous_checkpoint(counting_job, monkeypatch):
    checkpoint = Checkpoint(counting_job)
    checkpoint.save({"w": np.arange(3.0)}, {"step": 1})

    def killed(*args):
        raise WorkerKilled

    monkeypatch.setattr("jobs.checkpoints.os.replace", killed)
    with pytest.raises(WorkerKilled):
        checkpoint.save({"w": np.arange(3.0) * 10}, {"step": 2})
    tensors, state = checkpoint.load()
    assert state == {"step": 1} and tensors["w"].tolist() == [0.0, 1.0, 2.0]
