"""Scenes as a job, and COCO filtered by visibility as it downloads."""

import json

import pytest
from pycocotools.coco import COCO

from catalog.models import DatasetVersion
from generators.render.scenes.coco import filter_annotations
from jobs import runner, service

pytestmark = pytest.mark.django_db


@pytest.fixture
def scenes_version(user):
    job = service.submit(user, "generate", {"generator": "scenes", "dataset": "my-scenes", "access": "private",
                                            "params": {"n": 8, "seed": 2, "min_visible_fraction": 0.0}})
    runner.execute(str(job.pk))
    job.refresh_from_db()
    assert job.state == "succeeded", job.error
    return DatasetVersion.objects.get(job=job)


def download(api, version, path, **query):
    response = api.get(f"/api/versions/{version.pk}/files/{path}", query)
    return response, b"".join(response.streaming_content) if response.status_code == 200 else response.content


def test_coco_is_filtered_by_visibility_while_it_streams(api, scenes_version, tmp_path):
    _, full = download(api, scenes_version, "coco.json")
    response, filtered = download(api, scenes_version, "coco.json", min_visible="0.6")
    assert response.status_code == 200
    full, kept = json.loads(full), json.loads(filtered)
    assert kept == filter_annotations(full, 0.6)
    assert 0 < len(kept["annotations"]) < len(full["annotations"])
    (tmp_path / "coco.json").write_bytes(filtered)
    assert len(COCO(str(tmp_path / "coco.json")).getAnnIds()) == len(kept["annotations"])


@pytest.mark.parametrize(("path", "value"), [("coco.json", "lots"), ("coco.json", "1.5"), ("preview.png", "0.5")])
def test_bad_visibility_filters_are_400(api, scenes_version, path, value):
    response, body = download(api, scenes_version, path, min_visible=value)
    assert response.status_code == 400 and b"min_visible" in body


def test_a_scenes_version_has_a_preview_and_its_labels(scenes_version):
    paths = {f["path"] for f in scenes_version.manifest["files"]}
    assert {"coco.json", "scenes.jsonl", "preview.png"} <= paths
    assert any(p.startswith("shards/") and p.endswith(".npz") for p in paths)
    assert scenes_version.preview == "preview.png" and scenes_version.samples == 8
