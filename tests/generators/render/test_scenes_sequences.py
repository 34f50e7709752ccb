"""Dynamic sequences: stable ids over frames, optical flow that follows the objects."""

from __future__ import annotations

import numpy as np

from tests.generators.render.scenes_support import params, render


def project(part, i: int, world: np.ndarray) -> np.ndarray:  # noqa: ANN001 (test helper)
    """Pixel position of a world point, from the stored camera matrices (float64)."""
    cams = part.batch.cameras
    k_matrix, pose, k = cams.intrinsics()[i].astype(float), cams.pose()[i].astype(float), float(cams.distortion[i])
    x, y, z = pose[:, :3] @ world + pose[:, 3]
    xn, yn = x / z, y / z
    f = k_matrix[0, 0]
    scale = 2 * f / (1 + np.sqrt(1 + 4 * k * f * f * (xn * xn + yn * yn) / (k_matrix[0, 2] ** 2 + k_matrix[1, 2] ** 2)))
    return np.array([xn * scale + k_matrix[0, 2], yn * scale + k_matrix[1, 2]])


def test_flow_follows_object_centres_and_ids_are_stable() -> None:
    frames = 4
    parts = render(params(n=8, sequence={"frames": frames, "speed": {"low": 0.2, "high": 0.4}}))
    checked = 0
    for part in parts:
        obj = part.batch.objects
        assert part.flow is not None and part.flow.shape == (len(part), 2, 64, 64)
        for i in range(len(part)):
            last = part.batch.frame[i] == frames - 1
            assert np.isnan(part.flow[i]).all() == last
            if last:
                continue
            # Same objects in the next frame: same slots, same categories.
            assert (obj.category[i] == obj.category[i + 1]).all()
            for k in np.nonzero(obj.active[i])[0]:
                here = project(part, i, obj.center[i, k])
                there = project(part, i + 1, obj.center[i + 1, k])
                x, y = np.floor(here).astype(int)
                if not (0 <= x < 64 and 0 <= y < 64) or part.instance_ids[i, y, x] != k + 1:
                    continue
                # The pixel holding the centre moves with it (up to its offset from the centre).
                np.testing.assert_allclose(part.flow[i, :, y, x], there - here, atol=0.5)
                checked += 1
    assert checked > 20


def test_flow_carries_object_pixels_onto_the_object_next_frame() -> None:
    parts = render(params(n=6, sequence={"frames": 3}))
    landed = total = 0
    for part in parts:
        for i in range(len(part) - 1):
            if part.batch.scene[i] != part.batch.scene[i + 1]:
                continue
            ys, xs = np.nonzero(part.instance_ids[i])
            tx = np.floor(xs + 0.5 + part.flow[i, 0, ys, xs]).astype(int)
            ty = np.floor(ys + 0.5 + part.flow[i, 1, ys, xs]).astype(int)
            inside = (tx >= 0) & (tx < 64) & (ty >= 0) & (ty < 64)
            slot = part.instance_ids[i, ys, xs][inside].astype(int) - 1
            # Thin strokes: allow the landing pixel's neighbours (pixel centres round).
            target = np.pad(part.amodal_masks[i + 1], ((0, 0), (1, 1), (1, 1)))
            near = np.zeros(slot.shape, bool)
            for dy in range(3):
                for dx in range(3):
                    near |= target[slot, ty[inside] + dy, tx[inside] + dx]
            landed += near.sum()
            total += inside.sum()
            # Ground does not move: the camera is fixed over a sequence.
            assert (part.flow[i][:, part.instance_ids[i] == 0] == 0).all()
    assert total > 1000 and landed / total > 0.995
