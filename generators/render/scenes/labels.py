"""Labels read off the z-buffer: masks, areas, boxes, keypoints, semantics and optical flow."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generators.render.scenes import catalog
from generators.render.scenes.camera import Cameras, project_points
from generators.render.scenes.raster import ObjectPixels, Raster
from generators.render.scenes.scene import Objects, SceneBatch

KEYPOINT_OUTSIDE, KEYPOINT_HIDDEN, KEYPOINT_VISIBLE = 0, 1, 2  # COCO visibility codes


@dataclass
class Labels:
    """Per-object labels; visible masks are the instance-id map (``ids == k + 1``)."""

    visible_area: np.ndarray  # (M, K) int32
    amodal_area: np.ndarray  # (M, K) int32
    visible_fraction: np.ndarray  # (M, K) float32; 0 when the object is not in the frame
    visible_boxes: np.ndarray  # (M, K, 4) float32 COCO xywh; NaN when nothing is visible
    amodal_boxes: np.ndarray  # (M, K, 4)
    keypoints: np.ndarray  # (M, K, P, 3) float32 x, y, COCO visibility
    semantic: np.ndarray  # (M, H, W) uint8 category id, 0 for the background


def keypoints(batch: SceneBatch, raster: Raster) -> np.ndarray:
    """Project each object's named keypoints; visible where the pixel shows that object."""
    obj, cams = batch.objects, batch.cameras
    local = catalog.KEYPOINTS[obj.silhouette]  # (M, K, P, 2)
    # Centre and half axes in the camera frame, then the points from them (fewer rotations).
    centre = cams.to_camera(obj.center)
    axis_u = cams.to_camera_direction(obj.axis_u) * obj.half_u[..., None]
    axis_v = cams.to_camera_direction(obj.axis_v) * obj.half_v[..., None]
    points = [centre[..., i, None] + local[..., 0] * axis_u[..., i, None] + local[..., 1] * axis_v[..., i, None]
              for i in range(3)]  # x, y, z of (M, K, P) points
    x, y, in_front = project_points(*points, cams.focal[:, None, None], cams.distortion[:, None, None],
                                    cams.width, cams.height)
    pixels = np.stack([x, y], -1)
    m, height, width = raster.ids.shape
    slots = obj.active.shape[1]
    col, row = np.floor(pixels[..., 0]), np.floor(pixels[..., 1])
    inside = in_front & (col >= 0) & (col < width) & (row >= 0) & (row < height)
    col, row = np.where(inside, col, 0).astype(np.intp), np.where(inside, row, 0).astype(np.intp)
    image = np.arange(m)[:, None, None]
    inside &= raster.w[image, row, col] > 0
    shows = raster.ids[image, row, col] == np.arange(1, slots + 1)[None, :, None]
    exists = obj.active[..., None] & (np.arange(catalog.MAX_KEYPOINTS) < catalog.KEYPOINT_COUNT[obj.silhouette][
        ..., None])
    visibility = np.where(inside, np.where(shows, KEYPOINT_VISIBLE, KEYPOINT_HIDDEN), KEYPOINT_OUTSIDE)
    visibility = np.where(exists, visibility, KEYPOINT_OUTSIDE)
    return np.concatenate([np.where(exists[..., None], pixels, 0), visibility[..., None]], -1).astype(np.float32)


def compute_labels(batch: SceneBatch, raster: Raster, pixels: ObjectPixels) -> Labels:
    visible_area, amodal_area = raster.visible_area, raster.amodal_area
    fraction = np.where(amodal_area > 0, visible_area / np.maximum(amodal_area, 1), 0)
    # The background is category 0: only object pixels need a lookup.
    category = batch.objects.category.astype(np.uint8)
    semantic = np.zeros_like(raster.ids)
    semantic.reshape(-1)[pixels.flat] = np.take(category.reshape(-1),
                                                pixels.image * category.shape[1] + pixels.ids - 1)
    return Labels(
        visible_area=visible_area.astype(np.int32),
        amodal_area=amodal_area.astype(np.int32),
        visible_fraction=fraction.astype(np.float32),
        visible_boxes=raster.visible_boxes,
        amodal_boxes=raster.amodal_boxes,
        keypoints=keypoints(batch, raster),
        semantic=semantic,
    )


def optical_flow(cameras: Cameras, following: Objects, has_next: np.ndarray, raster: Raster,
                 xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """(M, 2, H, W) forward flow ``(dx, dy)`` in pixels to the next frame of the same scene.

    ``following`` holds each image's objects one frame later. A pixel on an object
    follows its surface point (same local a, b) to where the object is next frame;
    ground and sky stay (the camera is fixed over a sequence). An image without a
    next frame (the last of its sequence) gets NaN.
    """
    m, height, width = raster.ids.shape
    slots = following.active.shape[1]
    f32 = np.float32
    centre = cameras.to_camera(following.center).astype(f32)
    axis_u = (cameras.to_camera_direction(following.axis_u) * following.half_u[..., None]).astype(f32)
    axis_v = (cameras.to_camera_direction(following.axis_v) * following.half_v[..., None]).astype(f32)

    flat = np.flatnonzero(raster.ids)
    image, pixel = np.divmod(flat, height * width)
    row = image * slots + raster.ids.reshape(-1)[flat] - 1
    a, b = raster.a.reshape(-1)[flat], raster.b.reshape(-1)[flat]
    point = [centre.reshape(-1, 3)[row, i] + a * axis_u.reshape(-1, 3)[row, i] + b * axis_v.reshape(-1, 3)[row, i]
             for i in range(3)]
    x, y, _ = project_points(*point, cameras.focal[image], cameras.distortion[image], width, height)
    flow = np.zeros((m, 2, height * width), dtype=f32)
    flow[image, 0, pixel] = x - (xs[pixel % width] + f32(width / 2))
    flow[image, 1, pixel] = y - (ys[pixel // width, 0] + f32(height / 2))
    flow[~has_next] = np.nan
    return flow.reshape(m, 2, height, width)
