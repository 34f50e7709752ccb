"""Scenes files: COCO against the arrays, reproducibility, visibility filtering."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from generators.render.scenes import SCENES_SPEC, filter_annotations, write_scenes
from generators.render.scenes.scene import ROLE_TARGET
from generators.spec import GenerateResult
from tests.generators.render.scenes_support import params


def run(out: Path, **overrides: Any) -> GenerateResult:
    out.mkdir()
    seen: list[float] = []
    result = SCENES_SPEC.run(params(**overrides), out, lambda fraction, message: seen.append(fraction))
    assert seen and seen[-1] == 1.0
    return result


def load_shards(out: Path) -> dict[str, np.ndarray]:
    shards = sorted((out / "shards").glob("*.npz"))
    loaded = [dict(np.load(path)) for path in shards]
    return {name: np.concatenate([s[name] for s in loaded]) for name in loaded[0]}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scenes") / "out"
    # 260 scenes at 128x128: two shards (256 + 4), so indexing across shards is exercised.
    run(out, n=260, width=128, height=128, min_visible_fraction=0.05)
    return out


def test_coco_loads_and_agrees_with_the_arrays(dataset: Path) -> None:
    coco = COCO(str(dataset / "coco.json"))
    arrays = load_shards(dataset)
    width = arrays["images"].shape[-1]
    amodal = np.unpackbits(arrays["amodal_masks"], axis=-1, count=width).astype(bool)
    expected = ((arrays["role"] == ROLE_TARGET) & (arrays["amodal_area"] > 0)
                & (arrays["visible_fraction"] >= 0.05))
    assert len(coco.anns) == expected.sum() > 0
    assert len(coco.imgs) == len(arrays["images"]) == 260
    shards = sorted({img["file_name"] for img in coco.imgs.values()})
    sizes = [sum(img["file_name"] == name for img in coco.imgs.values()) for name in shards]
    assert sizes == [256, 4]
    shard_start = dict(zip(shards, np.cumsum([0, *sizes[:-1]]).tolist(), strict=True))
    categories = coco.cats
    for ann in coco.anns.values():
        image = coco.imgs[ann["image_id"]]
        index = shard_start[image["file_name"]] + image["shard_index"]
        slot = ann["instance_id"] - 1
        assert expected[index, slot]
        visible = mask_utils.decode(ann["segmentation"]).astype(bool)
        assert (visible == (arrays["instance_ids"][index] == ann["instance_id"])).all()
        assert ann["area"] == visible.sum() == arrays["visible_area"][index, slot]
        assert ann["bbox"] == mask_utils.toBbox(ann["segmentation"]).tolist()
        assert (mask_utils.decode(ann["amodal_segmentation"]).astype(bool) == amodal[index, slot]).all()
        assert ann["amodal_area"] == amodal[index, slot].sum()
        assert ann["category_id"] == arrays["category_id"][index, slot]
        assert len(ann["keypoints"]) == 3 * len(categories[ann["category_id"]]["keypoints"])
        np.testing.assert_allclose(ann["visible_fraction"], ann["area"] / ann["amodal_area"], atol=1e-6)
    # The semantic mask is the category of the visible instance.
    lookup = np.concatenate([np.zeros((260, 1), int), arrays["category_id"]], 1)
    semantic = np.take_along_axis(lookup, arrays["instance_ids"].reshape(260, -1).astype(int), 1)
    assert (semantic.reshape(arrays["semantic"].shape) == arrays["semantic"]).all()


def test_scene_description_lists_every_object(dataset: Path) -> None:
    arrays = load_shards(dataset)
    lines = (dataset / "scenes.jsonl").read_text().splitlines()
    assert len(lines) == 260
    for index, line in enumerate(lines):
        scene = json.loads(line)
        active = np.nonzero(arrays["category_id"][index])[0]
        assert [o["instance_id"] - 1 for o in scene["objects"]] == active.tolist()
        for record in scene["objects"]:
            slot = record["instance_id"] - 1
            assert record["visible_fraction"] == float(arrays["visible_fraction"][index, slot])
        np.testing.assert_allclose(scene["camera"]["intrinsics"], arrays["intrinsics"][index], atol=1e-4)
        np.testing.assert_allclose(scene["camera"]["pose"], arrays["pose"][index], atol=1e-4)


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    def digests(out: Path) -> dict[str, str]:
        return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(out.rglob("*")) if p.is_file()}

    first = run(tmp_path / "a", n=10, seed=5, sequence={"frames": 2})
    run(tmp_path / "b", n=10, seed=5, sequence={"frames": 2})
    run(tmp_path / "c", n=10, seed=6, sequence={"frames": 2})
    assert digests(tmp_path / "a") == digests(tmp_path / "b")
    assert digests(tmp_path / "a")["shards/scenes-00000.npz"] != digests(tmp_path / "c")["shards/scenes-00000.npz"]
    assert first.samples == 20 and first.preview == "preview.png"
    assert not list((tmp_path / "a").glob("*.part"))


def test_min_visible_fraction_filters_at_generation_and_download(tmp_path: Path) -> None:
    run(tmp_path / "all", n=40, min_visible_fraction=0.0)
    run(tmp_path / "half", n=40, min_visible_fraction=0.5)
    everything = json.loads((tmp_path / "all" / "coco.json").read_text())
    half = json.loads((tmp_path / "half" / "coco.json").read_text())

    def keys(annotations: list[dict[str, Any]]) -> set[tuple[int, int]]:
        return {(a["image_id"], a["instance_id"]) for a in annotations}

    filtered = filter_annotations(everything, 0.5)
    assert keys(filtered["annotations"]) == keys(half["annotations"])
    assert len(half["annotations"]) < len(everything["annotations"])
    assert all(a["visible_fraction"] >= 0.5 for a in half["annotations"])
    assert filtered["images"] == everything["images"]
    # Records (e.g. a scene description's objects) filter the same way.
    objects = [o for line in (tmp_path / "all" / "scenes.jsonl").read_text().splitlines()
               for o in json.loads(line)["objects"]]
    kept = filter_annotations(objects, 0.5)
    assert kept and all(o["visible_fraction"] >= 0.5 for o in kept)
    assert len(kept) == sum(o["visible_fraction"] >= 0.5 for o in objects)


def test_job_files_on_provided_backgrounds(tmp_path: Path) -> None:
    backgrounds = np.stack([np.full((24, 24, 3), value, np.uint8) for value in (30, 220)])
    result = write_scenes(params(n=6), tmp_path, backgrounds=backgrounds)
    scenes = [json.loads(line) for line in (tmp_path / "scenes.jsonl").read_text().splitlines()]
    assert result.samples == 6 and {s["background"]["image_index"] for s in scenes} <= {0, 1}
    arrays = load_shards(tmp_path)
    assert np.isinf(arrays["depth"][arrays["instance_ids"] == 0]).all()
