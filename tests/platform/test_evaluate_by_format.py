"""The evaluate job takes its path from the version's format: scene versions get a report of
their images against a real image reference, and a format without a report is refused."""

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file
from sklearn.datasets import load_digits

from catalog.models import Dataset, Evaluation
from catalog.publish import publish_version
from evaluation.scenes import UTILITY_REASON
from generators import registry
from jobs import runner, service
from jobs.types import JobParameterError
from tests.support.tables import publish_table, real_table

pytestmark = pytest.mark.django_db


def publish(dataset: Dataset, write, key: str = "v1"):
    staging = Path(tempfile.mkdtemp())
    samples = write(staging)
    return publish_version(dataset=dataset, staging=staging, key=key, claim=lambda: None, samples=samples)


def write_digits(out: Path) -> int:
    digits = load_digits()
    np.savez(out / "digits.npz", images=digits.images[:300], labels=digits.target[:300].astype(np.int64))
    return 300


def write_scenes(out: Path) -> int:
    spec = registry.get("scenes")
    return spec.run(registry.validate("scenes", {"n": 12, "width": 24, "height": 16}), out, lambda f, m: None).samples


@pytest.fixture
def real_digits(user):
    dataset = Dataset.objects.create(slug="real-digits", title="r", modality="image", format="images/1",
                                     kind="reference", owner=user)
    publish(dataset, write_digits)
    return dataset


def test_a_scene_version_is_evaluated_on_its_images_with_utility_stated_as_not_applicable(user, real_digits):
    scenes = Dataset.objects.create(slug="my-scenes", title="s", modality="scene", format="scenes/1",
                                    kind="synthetic", owner=user, reference=real_digits)
    version = publish(scenes, write_scenes)
    job = service.submit(user, "evaluate", {"version": version.pk})
    runner.execute(str(job.pk))
    job.refresh_from_db()
    assert job.state == "succeeded", job.error
    report = Evaluation.objects.get(version=version).results
    assert report["subject"]["format"] == "scenes/1" and report["scene_images"]["images"] == 12
    assert report["utility"]["ratio"] is None and report["utility"]["not_applicable"] == UTILITY_REASON
    assert report["fidelity"]["frechet"] is not None and report["privacy"]["dcr_share"] is not None
    assert report["verdict"]["privacy_gate"] in ("pass", "fail", "inconclusive")


def test_a_reference_of_a_format_the_version_is_not_evaluated_against_is_refused(user, real_digits):
    table = Dataset.objects.create(slug="real-table-2", title="t", modality="tabular", format="table/1",
                                   kind="reference", owner=user)
    publish_table(table, real_table(), "v1")
    scenes = Dataset.objects.create(slug="my-scenes", title="s", modality="scene", format="scenes/1",
                                    kind="synthetic", owner=user)
    version = publish(scenes, write_scenes)
    with pytest.raises(JobParameterError) as refused:
        service.submit(user, "evaluate", {"version": version.pk, "reference": "real-table-2"})
    assert refused.value.field == "parameters.reference"
    assert refused.value.message == "real-table-2 holds table/1 data; my-scenes@v1 holds scenes/1, evaluated against images/1"


def test_the_format_not_the_modality_decides_whether_a_version_is_evaluated(user, real_digits):
    def write_model(out: Path) -> int:
        save_file({"w": np.zeros((2, 2), np.float32)}, str(out / "model.safetensors"))
        (out / "card.json").write_text(json.dumps({"name": "probe"}))
        return 1

    # An image dataset by modality, whose versions are model artifacts: they get no report.
    models = Dataset.objects.create(slug="my-model", title="m", modality="image", format="model/1",
                                    kind="synthetic", owner=user, reference=real_digits)
    version = publish(models, write_model)
    with pytest.raises(JobParameterError) as refused:
        service.submit(user, "evaluate", {"version": version.pk})
    assert refused.value.message == "my-model@v1 holds model/1, which is not evaluated"


def test_a_version_of_a_format_no_longer_registered_is_refused_naming_it(user, real_digits):
    dataset = Dataset.objects.create(slug="old", title="o", modality="image", format="images/1", kind="synthetic",
                                     owner=user, reference=real_digits)
    version = publish(dataset, write_digits)
    Dataset.objects.filter(pk=dataset.pk).update(format="gone/1")  # its plugin was uninstalled
    with pytest.raises(JobParameterError) as refused:
        service.submit(user, "evaluate", {"version": version.pk})
    assert refused.value.field == "parameters.version" and "unknown format 'gone/1'" in refused.value.message
