"""Files of a scenes dataset: NPZ shards of arrays, a streamed COCO file, a scene description.

Layout of ``out_dir``::

    shards/scenes-00000.npz   one per chunk of scenes (arrays below, image axis first)
    coco.json                 COCO detection/segmentation/keypoints, amodal extensions
    scenes.jsonl              one line per image: camera, light, every object (hidden too)
    preview.png               the first images in a grid
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from generators.render.scenes import catalog
from generators.render.scenes.coco import CocoStream, coco_categories, encode_masks
from generators.render.scenes.npz import write_npz
from generators.render.scenes.render import RenderedBatch
from generators.render.scenes.scene import LIGHT_TYPES, ROLE_NAMES, ROLE_TARGET, TEXTURES

PREVIEW_IMAGES = 16


def shard_name(chunk: int) -> str:
    return f"shards/scenes-{chunk:05d}.npz"


def shard_arrays(parts: list[RenderedBatch]) -> dict[str, list[np.ndarray]]:
    """The arrays of one shard (N images, K object slots, P keypoints), as parts along N."""
    def per_part(get: Any) -> list[np.ndarray]:
        return [get(p) for p in parts]

    cams = [p.batch.cameras for p in parts]
    arrays = {
        "images": per_part(lambda p: p.images),  # (N, C, H, W) uint8
        "instance_ids": per_part(lambda p: p.instance_ids),  # (N, H, W) uint8, 0 background
        "semantic": per_part(lambda p: p.labels.semantic),  # (N, H, W) uint8 category id
        "depth": per_part(lambda p: p.depth),  # (N, H, W) float32 camera z, inf: nothing
        "normals": per_part(lambda p: p.half_normals()),  # (N, 3, H, W) float16 camera frame
        # (N, K, H, ceil(W / 8)) bits: np.unpackbits(a, axis=-1, count=W).astype(bool)
        "amodal_masks": per_part(lambda p: np.packbits(p.amodal_masks, axis=-1)),
        "category_id": per_part(lambda p: p.batch.objects.category),  # (N, K) int16, 0 empty slot
        "role": per_part(lambda p: p.batch.objects.role),  # (N, K) uint8, see ROLE_NAMES
        "visible_fraction": per_part(lambda p: p.labels.visible_fraction),  # (N, K) float32
        "visible_area": per_part(lambda p: p.labels.visible_area),  # (N, K) int32
        "amodal_area": per_part(lambda p: p.labels.amodal_area),  # (N, K) int32
        "visible_boxes": per_part(lambda p: p.labels.visible_boxes),  # (N, K, 4) xywh, NaN: none
        "amodal_boxes": per_part(lambda p: p.labels.amodal_boxes),  # (N, K, 4)
        "keypoints": per_part(lambda p: p.labels.keypoints),  # (N, K, P, 3) x, y, visibility
        "intrinsics": [c.intrinsics() for c in cams],  # (N, 3, 3)
        "distortion": [c.distortion for c in cams],  # (N,) division model k
        "pose": [c.pose() for c in cams],  # (N, 3, 4) world -> camera
        "scene": per_part(lambda p: p.batch.scene.astype(np.int64)),  # (N,)
        "frame": per_part(lambda p: p.batch.frame),  # (N,) int32
    }
    if parts[0].flow is not None:
        arrays["flow"] = per_part(lambda p: p.flow)  # (N, 2, H, W) float32, NaN on last frames
    return arrays


def _round(values: np.ndarray, digits: int = 5) -> list[Any]:
    return np.round(np.asarray(values, dtype=np.float64), digits).tolist()


def _named_keypoints(names: tuple[str, ...], flat: list[float]) -> list[dict[str, Any]]:
    """Keypoints as ``{name, x, y, visibility}`` from COCO's flat ``x, y, v`` triples."""
    return [{"name": name, "x": flat[3 * j], "y": flat[3 * j + 1], "visibility": int(flat[3 * j + 2])}
            for j, name in enumerate(names)]


class SceneWriter:
    """Streams rendered chunks into the files above; :meth:`close` returns a summary."""

    def __init__(self, out_dir: Path, params: dict[str, Any]) -> None:
        self.out_dir = out_dir
        self.params = params
        (out_dir / "shards").mkdir(parents=True, exist_ok=True)
        info = {"description": "Synthreg scenes renderer", "version": "1.0",
                "seed": params["seed"], "min_visible_fraction": params["min_visible_fraction"]}
        self.coco = CocoStream(out_dir / "coco.json", info, coco_categories())
        self.scenes = open(out_dir / "scenes.jsonl", "w", encoding="utf-8")  # noqa: SIM115
        self.class_counts: dict[str, int] = {}
        self.preview: list[np.ndarray] = []
        self.image_count = 0

    def add_chunk(self, chunk: int, parts: list[RenderedBatch]) -> None:
        arrays = shard_arrays(parts)
        name = shard_name(chunk)
        write_npz(self.out_dir / name, arrays)
        first_scene = int(parts[0].batch.scene[0])
        for part in parts:
            self._describe(part, name, first_scene)
            self.preview.extend(part.images[: PREVIEW_IMAGES - len(self.preview)])

    def _describe(self, part: RenderedBatch, shard: str, first_scene: int) -> None:
        batch, labels = part.batch, part.labels
        obj, lights = batch.objects, batch.lights
        height, width = part.instance_ids.shape[1:]
        frames = self.params["sequence"]["frames"]
        slots = obj.active.shape[1]
        # Objects outside the frame are only in the scene description.
        in_coco = ((obj.role == ROLE_TARGET) & (labels.amodal_area > 0)
                   & (labels.visible_fraction >= self.params["min_visible_fraction"]))
        chosen = np.nonzero(in_coco)
        rle_index = {(int(i), int(k)): j for j, (i, k) in enumerate(zip(*chosen, strict=True))}
        # Column-major masks for pycocotools: transpose the id maps once, not every mask.
        ids_t = np.ascontiguousarray(part.instance_ids.transpose(0, 2, 1))
        visible_rle = encode_masks(ids_t[chosen[0]] == (chosen[1] + 1)[:, None, None].astype(np.uint8),
                                   transposed=True)
        amodal_rle = encode_masks(part.amodal_masks[chosen])
        # Whole-batch conversions to Python values, then per-image lookups.
        fraction = labels.visible_fraction.tolist()
        visible_box = np.nan_to_num(labels.visible_boxes).tolist()
        amodal_box = np.nan_to_num(labels.amodal_boxes).tolist()
        center, axis_u, axis_v = _round(obj.center), _round(obj.axis_u), _round(obj.axis_v)
        half_extent = _round(np.stack([obj.half_u, obj.half_v], -1))
        shown = labels.keypoints[..., 2:] > 0
        keypoints = _round(np.where(shown, labels.keypoints, 0).reshape(*obj.active.shape, 3 * catalog.MAX_KEYPOINTS), 3)
        intrinsics, pose = _round(batch.cameras.intrinsics()), _round(batch.cameras.pose())
        distortion, light_vector = _round(batch.cameras.distortion, 6), _round(lights.vector)
        for i in range(len(part)):
            scene, frame = int(batch.scene[i]), int(batch.frame[i])
            index = scene * frames + frame
            image_id = index + 1
            position = index - first_scene * frames
            self.coco.add_image({"id": image_id, "file_name": shard, "shard_index": position,
                                 "width": width, "height": height, "scene": scene, "frame": frame})
            objects = []
            for k in np.nonzero(obj.active[i])[0].tolist():
                category = catalog.CATEGORIES[obj.category[i, k] - 1]
                record = {
                    "instance_id": k + 1, "track_id": scene * slots + k + 1,
                    "role": ROLE_NAMES[obj.role[i, k]], "category": category.name,
                    "category_id": category.id, "visible_fraction": fraction[i][k],
                    "visible_area": int(labels.visible_area[i, k]),
                    "amodal_area": int(labels.amodal_area[i, k]), "in_coco": bool(in_coco[i, k]),
                    "visible_box": visible_box[i][k], "amodal_box": amodal_box[i][k],
                    "center": center[i][k], "axis_u": axis_u[i][k], "axis_v": axis_v[i][k],
                    "half_extent": half_extent[i][k],
                    "keypoints": _named_keypoints(category.keypoints, keypoints[i][k]),
                }
                objects.append(record)
                if in_coco[i, k]:
                    j = rle_index[(i, k)]
                    self._annotate(image_id, record, keypoints[i][k][: 3 * len(category.keypoints)],
                                   category, visible_rle[j], amodal_rle[j])
            self.scenes.write(json.dumps({
                "image_id": image_id, "file_name": shard, "shard_index": position,
                "scene": scene, "frame": frame,
                "camera": {"intrinsics": intrinsics[i], "distortion": distortion[i], "pose": pose[i],
                           "modality": self.params["modality"]},
                "light": {"type": LIGHT_TYPES[lights.kind[i]], "vector": light_vector[i],
                          "intensity": round(float(lights.intensity[i]), 5),
                          "ambient": round(float(lights.ambient[i]), 5)},
                "background": {"texture": TEXTURES[batch.ground.texture[i]],
                               "image_index": int(batch.background_index[i])},
                "objects": objects,
            }) + "\n")
        self.image_count += len(part)

    def _annotate(self, image_id: int, record: dict[str, Any], keypoints: list[float],
                  category: catalog.Category, visible_rle: dict[str, Any],
                  amodal_rle: dict[str, Any]) -> None:
        self.class_counts[category.name] = self.class_counts.get(category.name, 0) + 1
        self.coco.add_annotation({
            "id": self.coco.annotations + 1, "image_id": image_id, "category_id": category.id,
            "iscrowd": 0, "bbox": record["visible_box"], "area": record["visible_area"],
            "segmentation": visible_rle,
            "amodal_bbox": record["amodal_box"], "amodal_area": record["amodal_area"],
            "amodal_segmentation": amodal_rle,
            "visible_fraction": record["visible_fraction"],
            "keypoints": keypoints,
            "num_keypoints": sum(v > 0 for v in keypoints[2::3]),
            "instance_id": record["instance_id"], "track_id": record["track_id"],
        })

    def close(self) -> dict[str, Any]:
        self.coco.close()
        self.scenes.close()
        if self.preview:
            _write_preview(self.out_dir / "preview.png", np.stack(self.preview))
        return {"images": self.image_count, "annotations": self.coco.annotations,
                "class_counts": dict(sorted(self.class_counts.items()))}

    def abort(self) -> None:
        self.coco.abort()
        self.scenes.close()


def _write_preview(path: Path, images: np.ndarray) -> None:
    """A 4-wide grid of the first images (the first three bands, or the single one)."""
    bands = images[:, :3] if images.shape[1] >= 3 else images[:, :1].repeat(3, axis=1)
    tiles = np.moveaxis(bands, 1, -1)
    columns = 4
    rows = -(-len(tiles) // columns)
    pad = rows * columns - len(tiles)
    tiles = np.concatenate([tiles, np.zeros((pad, *tiles.shape[1:]), np.uint8)])
    grid = tiles.reshape(rows, columns, *tiles.shape[1:]).swapaxes(1, 2).reshape(
        rows * tiles.shape[1], columns * tiles.shape[2], 3)
    Image.fromarray(grid).save(path, compress_level=1)  # fast; a preview need not be small
