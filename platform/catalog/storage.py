"""Version files: manifests with sha256, atomic publication, streamed reads.

Outputs are written to a private staging folder, then published whole under a prefix
keyed by the job (so a retried job never collides with a half-published earlier try);
``manifest.json`` is written last.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, Storage, storages

MANIFEST_NAME = "manifest.json"
_CHUNK = 1 << 20


def dataset_storage() -> Storage:
    return storages["datasets"]


def sha256_of(fh: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while chunk := fh.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def iter_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            yield path


def build_manifest(root: Path) -> dict[str, Any]:
    """Every file under ``root`` with its size and sha256, read in chunks."""
    files = []
    for path in iter_files(root):
        with path.open("rb") as fh:
            files.append({"path": path.relative_to(root).as_posix(), "size": path.stat().st_size, "sha256": sha256_of(fh)})
    return {"files": files, "total_size": sum(f["size"] for f in files)}


def publish_tree(staging: Path, prefix: str, manifest: dict[str, Any]) -> None:
    """Move ``staging`` to ``prefix`` in dataset storage as a whole, then write the manifest."""
    storage = dataset_storage()
    if isinstance(storage, FileSystemStorage):
        target = Path(storage.path(prefix))
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():  # left by an earlier try of the same job that died mid-publication
            shutil.rmtree(target)
        os.replace(staging, target)
        _write_atomic(target / MANIFEST_NAME, json.dumps(manifest, indent=1).encode())
        return
    for path in iter_files(staging):
        with path.open("rb") as fh:
            storage.save(f"{prefix}/{path.relative_to(staging).as_posix()}", File(fh))
    storage.save(f"{prefix}/{MANIFEST_NAME}", ContentFile(json.dumps(manifest, indent=1).encode()))
    shutil.rmtree(staging, ignore_errors=True)


def publish_report(folder: Path, prefix: str) -> tuple[dict[str, str], int]:
    """Move a rendered report (``folder/report.<kind>``) whole under ``prefix``; returns each kind's
    stored path and the report's bytes (counted in its owner's storage, catalog.usage)."""
    manifest = build_manifest(folder)
    files = {Path(f["path"]).suffix[1:]: f"{prefix}/{f['path']}" for f in manifest["files"]
             if f["path"].startswith("report.")}
    publish_tree(folder, prefix, manifest)
    return files, manifest["total_size"]


def remove_tree(prefix: str) -> None:
    storage = dataset_storage()
    if isinstance(storage, FileSystemStorage):
        shutil.rmtree(storage.path(prefix), ignore_errors=True)
        return
    dirs, files = storage.listdir(prefix)
    for name in files:
        storage.delete(f"{prefix}/{name}")
    for name in dirs:
        remove_tree(f"{prefix}/{name}")


def open_version_file(prefix: str, path: str) -> IO[bytes]:
    return dataset_storage().open(f"{prefix}/{path}", "rb")


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
