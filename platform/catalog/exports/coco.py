"""The COCO files of a scenes version (one per shard) merged into one, as a stream.

A shard's ids start again at 1, so each shard's image ids, annotation ids, scenes and track ids
are shifted past the previous shards' largest ones; ``file_name`` becomes the array file's path
in the version. The scenes writer puts one record per line, so the files are read line by line,
twice (images, then annotations), and never held whole.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

from catalog import storage
from catalog.models import DatasetVersion

COCO_NAME = "coco.json"
_ANNOTATIONS_OPEN = '], "annotations": ['


def coco_paths(version: DatasetVersion) -> list[str]:
    return [f["path"] for f in version.manifest.get("files", [])
            if f["path"] == COCO_NAME or f["path"].endswith("/" + COCO_NAME)]


def _header(version: DatasetVersion, path: str) -> dict:
    """The first line: info, licenses, categories (the images follow it)."""
    with storage.open_version_file(version.storage_prefix, path) as raw:
        return json.loads(io.TextIOWrapper(raw, encoding="utf-8").readline().rstrip("\n") + "]}")


def _section(version: DatasetVersion, path: str, section: str) -> Iterator[dict]:
    """The records of ``images`` or ``annotations``, one a line as the scenes writer puts them."""
    with storage.open_version_file(version.storage_prefix, path) as raw:
        lines = io.TextIOWrapper(raw, encoding="utf-8")
        next(lines)
        inside = section == "images"
        for line in lines:
            body = line.rstrip("\n")
            if body == _ANNOTATIONS_OPEN:
                if inside:
                    return
                inside = True
            elif inside and body.startswith("{"):
                yield json.loads(body.removesuffix(","))


def _joined(records: Iterator[dict], flush_at: int = 1 << 16) -> Iterator[bytes]:
    """The records as JSON, one a line, comma-separated, sent in chunks of about ``flush_at`` bytes."""
    parts, size, separator = [], 0, "\n"
    for record in records:
        parts.append(separator + json.dumps(record))
        separator, size = ",\n", size + len(parts[-1])
        if size >= flush_at:
            yield "".join(parts).encode()
            parts, size = [], 0
    if parts:
        yield "".join(parts).encode()


def write_merged_coco(version: DatasetVersion) -> Iterator[bytes]:
    paths = coco_paths(version)
    if not paths:
        raise ValueError(f"{version} has no {COCO_NAME}")
    image_shifts: list[int] = []  # per shard, filled as its images pass; read by its annotations

    def images() -> Iterator[dict]:
        image_base = scene_base = 0
        for path in paths:
            image_shifts.append(image_base)
            folder, top_image, top_scene = path.removesuffix(COCO_NAME), 0, -1
            for image in _section(version, path, "images"):
                top_image, top_scene = max(top_image, image["id"]), max(top_scene, image.get("scene", -1))
                shifted = {**image, "id": image["id"] + image_base, "file_name": folder + image["file_name"]}
                if "scene" in image:
                    shifted["scene"] = image["scene"] + scene_base
                yield shifted
            image_base, scene_base = image_base + top_image, scene_base + top_scene + 1

    def annotations() -> Iterator[dict]:
        annotation_base = track_base = 0
        for path, image_base in zip(paths, image_shifts, strict=True):
            top_annotation = top_track = 0
            for annotation in _section(version, path, "annotations"):
                top_annotation = max(top_annotation, annotation["id"])
                top_track = max(top_track, annotation.get("track_id", 0))
                shifted = {**annotation, "id": annotation["id"] + annotation_base,
                           "image_id": annotation["image_id"] + image_base}
                if "track_id" in annotation:
                    shifted["track_id"] = annotation["track_id"] + track_base
                yield shifted
            annotation_base, track_base = annotation_base + top_annotation, track_base + top_track

    header = _header(version, paths[0])
    yield (f'{{"info": {json.dumps({**header["info"], "shards": len(paths)})}, "licenses": [], '
           f'"categories": {json.dumps(header["categories"])}, "images": [').encode()
    yield from _joined(images())
    yield b'\n], "annotations": ['
    yield from _joined(annotations())
    yield b"\n]}\n"
