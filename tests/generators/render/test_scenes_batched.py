"""The batched scenes renderer's shortcuts, each checked against the plain computation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from generators.render.scenes.boxes import pixel_boxes
from generators.render.scenes.coco import encode_masks
from generators.render.scenes.raster import run_boxes
from generators.render.scenes.reference import render_scenes_per_image
from generators.render.scenes.sensor import NoiseSource
from tests.generators.render.scenes_support import only, params, render

ARRAYS = ("images", "instance_ids", "depth", "normals", "amodal_masks")
LABELS = ("keypoints", "visible_boxes", "amodal_boxes", "visible_fraction", "visible_area", "amodal_area",
          "semantic")


@pytest.mark.parametrize("overrides", [
    {"modality": "grayscale"},
    {"modality": "infrared", "lighting": {"type": only("point")}},
    {"modality": "multispectral", "channels": 4, "camera": {"blur_sigma": {"low": 1.0, "high": 1.5}}},
    # A close camera and tall objects: cards cross the camera plane and take the whole frame.
    {"camera": {"distance": {"low": 2, "high": 2.5}, "elevation_deg": {"low": 10, "high": 30}},
     "objects": {"height": {"low": 0.5, "high": 3}, "size": {"low": 1, "high": 3}}},
    # Blocks overhanging the frame's edge on an odd-sized frame.
    {"width": 37, "height": 23, "objects": {"spread": {"low": 4, "high": 6}}},
])
def test_batched_renderer_equals_the_per_image_loop(overrides: dict[str, Any]) -> None:
    p = params(n=10, **overrides)
    batched, single = render(p), list(render_scenes_per_image(p))
    for name in ARRAYS:
        np.testing.assert_array_equal(np.concatenate([getattr(b, name) for b in batched]),
                                      np.concatenate([getattr(s, name) for s in single]), err_msg=name)
    for name in LABELS:
        np.testing.assert_array_equal(np.concatenate([getattr(b.labels, name) for b in batched]),
                                      np.concatenate([getattr(s.labels, name) for s in single]), err_msg=name)


def test_batched_renderer_equals_the_per_image_loop_on_real_backgrounds() -> None:
    p = params(n=8, camera={"distortion": {"low": 1.2, "high": 1.6}})
    backgrounds = np.random.default_rng(0).integers(0, 256, (3, 20, 30, 3), dtype=np.uint8)
    batched, single = render(p, backgrounds), list(render_scenes_per_image(p, backgrounds))
    for name in ARRAYS:
        np.testing.assert_array_equal(np.concatenate([getattr(b, name) for b in batched]),
                                      np.concatenate([getattr(s, name) for s in single]), err_msg=name)


def test_run_boxes_equal_scattered_boxes() -> None:
    rng = np.random.default_rng(1)
    owner = np.sort(rng.integers(2, 40, 500))  # groups 0, 1 and the last ones stay empty
    x, y = rng.integers(0, 64, 500), rng.integers(0, 64, 500)
    count, boxes = run_boxes(owner, x, y, 45)
    expected_count, expected_boxes = pixel_boxes(owner, x, y, 45)
    np.testing.assert_array_equal(count, expected_count)
    np.testing.assert_array_equal(boxes, expected_boxes)
    empty_count, empty_boxes = run_boxes(owner[:0], x[:0], y[:0], 3)
    assert (empty_count == 0).all() and np.isnan(empty_boxes).all()


def test_noise_of_an_image_is_its_field_rolled_along_the_flat_plane() -> None:
    noise = NoiseSource.draw(np.random.default_rng(2), 40, 3, 16, 24)
    for i in range(40):
        shift = int(noise.shift[i, 0]) * 24 + int(noise.shift[i, 1])
        expected = np.roll(noise.bank[noise.field[i]].reshape(3, -1), shift, axis=1).reshape(3, 16, 24)
        np.testing.assert_array_equal(noise.view(i), expected)
        np.testing.assert_array_equal(noise.images(np.array([i]))[0], expected * noise.sign[i])


def test_encoded_masks_match_pycocotools_on_the_plain_layout() -> None:
    masks = np.random.default_rng(3).random((5, 20, 30)) > 0.5
    plain = mask_utils.encode(np.asfortranarray(masks.transpose(1, 2, 0).astype(np.uint8)))
    counts = [r["counts"].decode("ascii") for r in plain]
    assert counts == [r["counts"] for r in encode_masks(masks)]
    assert counts == [r["counts"] for r in encode_masks(masks.transpose(0, 2, 1).copy(), transposed=True)]
    assert encode_masks(masks[:0]) == []


@pytest.mark.parametrize("overrides", [
    {"sequence": {"frames": 2}},
    # Sky above the horizon and black corners outside the image circle: normals 0 there.
    {"camera": {"distortion": {"low": 1.2, "high": 1.8}, "elevation_deg": {"low": 10, "high": 30}}},
])
def test_half_normals_are_the_normals_in_float16(overrides: dict[str, Any]) -> None:
    backgrounds = np.random.default_rng(4).integers(0, 256, (2, 16, 16), dtype=np.uint8)
    for given in (None, backgrounds):
        for part in render(params(n=8, **overrides), given):
            expected = part.normals.astype(np.float16)
            assert part.half_normals().view(np.uint16).tobytes() == expected.view(np.uint16).tobytes()
