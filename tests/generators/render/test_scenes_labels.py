"""Scenes labels, each checked by a computation independent of the one that made it."""

from __future__ import annotations

import numpy as np

from generators.render.scenes.reference import render_scenes_per_image
from tests.generators.render.scenes_support import FLAT, only, params, ray_depths, render


def test_visible_area_matches_the_pixels_the_image_shows() -> None:
    batches = render(params(n=24, **FLAT))
    checked = 0
    for part in batches:
        obj = part.batch.objects
        for i in range(len(part)):
            slots = np.nonzero(obj.active[i])[0]
            # Expected 8-bit colour of each surface: albedo through gamma 2, as the sensor does.
            albedo = np.concatenate([part.batch.ground.albedo[i][None], obj.albedo[i, slots]])
            expected = np.floor(np.sqrt(albedo.astype(np.float64)) * 255 + 0.5)
            gaps = np.abs(expected[:, None] - expected[None]).max(-1) + np.eye(len(expected)) * 255
            if gaps.min() < 8:
                continue  # two surfaces share a colour; the image cannot tell them apart
            pixels = part.images[i].reshape(3, -1).T.astype(np.float64)
            nearest = np.abs(pixels[:, None] - expected[None]).max(-1).argmin(1)
            counts = np.bincount(nearest, minlength=len(expected))[1:]
            assert counts.tolist() == part.labels.visible_area[i, slots].tolist()
            checked += 1
    assert checked >= 10


def test_depth_order_decides_which_object_covers_which() -> None:
    batches = render(params(n=24, objects={"placement": only("clustered"), "count": {"low": 4, "high": 6}}))
    contested = 0
    for part in batches:
        for i in range(len(part)):
            amodal = part.amodal_masks[i]
            overlap = amodal.sum(0) >= 2
            ys, xs = np.nonzero(overlap)
            for y, x in zip(ys, xs, strict=True):
                slots = np.nonzero(amodal[:, y, x])[0]
                depths = ray_depths(part, i, np.array([[x, y]]), slots)[0]
                order = np.argsort(depths)
                if depths[order[1]] - depths[order[0]] < 1e-3 * depths[order[0]]:
                    continue  # too close to call in float32
                assert part.instance_ids[i, y, x] == slots[order[0]] + 1
                assert np.isclose(part.depth[i, y, x], depths[order[0]], rtol=1e-4)
                contested += 1
    assert contested > 100


def test_visible_mask_is_inside_amodal_mask_and_fractions_agree() -> None:
    for part in render(params(n=16)):
        slots = part.amodal_masks.shape[1]
        visible = part.instance_ids[:, None] == np.arange(1, slots + 1)[None, :, None, None]
        assert not (visible & ~part.amodal_masks).any()
        amodal_area = part.amodal_masks.sum((2, 3))
        assert (part.labels.amodal_area == amodal_area).all()
        assert (part.labels.visible_area == visible.sum((2, 3))).all()
        expected = np.where(amodal_area > 0, visible.sum((2, 3)) / np.maximum(amodal_area, 1), 0)
        np.testing.assert_allclose(part.labels.visible_fraction, expected, rtol=1e-6)


def test_fully_occluded_objects_have_no_visible_box() -> None:
    heavy = params(n=32, occluders={"count": {"low": 3, "high": 4}, "width": {"low": 0.8, "high": 1.2}},
                   objects={"placement": only("clustered")})
    hidden = 0
    for part in render(heavy):
        labels = part.labels
        mask = part.batch.objects.active & (labels.amodal_area > 0) & (labels.visible_area == 0)
        hidden += int(mask.sum())
        assert (labels.visible_fraction[mask] == 0).all()
        assert np.isnan(labels.visible_boxes[mask]).all()
        assert not np.isnan(labels.amodal_boxes[mask]).any()
        assert (labels.keypoints[mask][..., 2] != 2).all()
    assert hidden > 0


def test_visible_keypoints_lie_on_their_object() -> None:
    shown = 0
    for part in render(params(n=32, objects={"classes": only("shapes"), "size": {"low": 0.9, "high": 1.2}})):
        kp = part.labels.keypoints
        m, k, p = np.nonzero(kp[..., 2] > 0)
        x, y = np.floor(kp[m, k, p, 0]).astype(int), np.floor(kp[m, k, p, 1]).astype(int)
        on_object = part.instance_ids[m, y, x] == k + 1
        assert (on_object == (kp[m, k, p, 2] == 2)).all()
        assert part.amodal_masks[m, k, y, x][on_object].all()
        # Keypoints sit inside the silhouette: unoccluded objects fully in the frame, and large
        # enough for pixels to resolve their shape, show every keypoint.
        whole = (part.labels.visible_fraction[m, k] == 1) & (part.labels.amodal_area[m, k] >= 100)
        whole &= part.labels.amodal_boxes[m, k, 0] > 0
        whole &= part.labels.amodal_boxes[m, k, 0] + part.labels.amodal_boxes[m, k, 2] < 64
        assert (kp[m, k, p, 2][whole] == 2).all()
        shown += int(whole.sum())
    assert shown > 50


def test_boxes_bound_their_masks() -> None:
    for part in render(params(n=8)):
        for i, k in zip(*np.nonzero(part.labels.visible_area), strict=True):
            ys, xs = np.nonzero(part.instance_ids[i] == k + 1)
            x, y, w, h = part.labels.visible_boxes[i, k]
            assert (x, y, w, h) == (xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)


def test_semantic_mask_is_the_category_of_the_visible_instance() -> None:
    for part in render(params(n=8)):
        categories = np.concatenate([np.zeros((len(part), 1), int), part.batch.objects.category], 1)
        expected = np.take_along_axis(categories, part.instance_ids.reshape(len(part), -1).astype(int), 1)
        assert (part.labels.semantic == expected.reshape(part.labels.semantic.shape)).all()


def test_normals_are_unit_and_face_the_camera() -> None:
    part = render(params(n=8, surface={"relief": {"low": 0.5, "high": 1.0}}))[0]
    length = np.linalg.norm(part.normals, axis=1)
    surface = np.isfinite(part.depth)
    np.testing.assert_allclose(length[surface], 1, atol=1e-5)
    assert (length[~surface] == 0).all()
    # Facing the camera: the normal points against the pixel's viewing ray (z forward).
    assert (part.normals[:, 2][surface] < 0.05).mean() > 0.99


def test_batched_renderer_equals_the_per_image_loop_under_strong_lenses() -> None:
    for p in (params(n=12), params(n=6, camera={"distortion": {"low": 0.6, "high": 1.8},
                                              "fov_deg": {"low": 70, "high": 140}},
                                  sequence={"frames": 2})):
        batched = render(p)
        single = list(render_scenes_per_image(p))
        for name in ("images", "instance_ids", "depth", "normals", "amodal_masks", "flow"):
            a = np.concatenate([getattr(b, name) for b in batched]) if batched[0].flow is not None or name != "flow" \
                else None
            b = np.concatenate([getattr(s, name) for s in single]) if a is not None else None
            if a is not None:
                np.testing.assert_array_equal(a, b, err_msg=name)
        for name in ("keypoints", "visible_boxes", "amodal_boxes", "visible_fraction"):
            np.testing.assert_array_equal(np.concatenate([getattr(b.labels, name) for b in batched]),
                                          np.concatenate([getattr(s.labels, name) for s in single]), name)


def test_fisheye_corners_see_nothing() -> None:
    part = render(params(n=4, camera={"distortion": {"low": 1.6, "high": 1.6}}))[0]
    assert (part.images[:, :, 0, 0] == 0).all()
    assert np.isinf(part.depth[:, 0, 0]).all() and (part.instance_ids[:, 0, 0] == 0).all()
    assert (part.images[:, :, 32, 32] > 0).any()
