"""One upload checked whole: sniffed, read within limits, described; then written as a version's files."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from catalog.uploads import schema as schemas
from catalog.uploads.errors import Limits, UploadRefused
from catalog.uploads.images import ImageSet, read_images
from catalog.uploads.sniff import sniff
from catalog.uploads.tables import read_table

TABLE_FILE, IMAGES_FILE = "data.parquet", "images.npz"


@dataclass
class Inspection:
    """What an upload holds: its kind, size, sha256, samples and (tables) the inferred schema."""

    filename: str
    format: str
    kind: str
    size: int
    sha256: str
    samples: int
    columns: list[schemas.Column] = field(default_factory=list)
    images: dict[str, Any] = field(default_factory=dict)
    _table: pd.DataFrame | None = None
    _images: ImageSet | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {"filename": self.filename, "format": self.format, "kind": self.kind, "size": self.size,
               "sha256": self.sha256, "samples": self.samples}
        if self.format == "table/1":
            out["columns"] = [column.as_dict() for column in self.columns]
        else:
            out["images"] = self.images
        return out

    def write(self, staging: Path, overrides: Any = None) -> dict[str, Any]:
        """Write the version's files into ``staging``; returns its summary. ``overrides``: the owner's
        column types (tables only), checked here (UploadRefused names the column)."""
        upload = {"filename": self.filename, "kind": self.kind, "size": self.size, "sha256": self.sha256}
        if self._table is not None:
            frame, columns = schemas.apply(self._table, self.columns, schemas.parse_overrides(overrides, self.columns))
            frame.to_parquet(staging / TABLE_FILE, index=False)
            return {"upload": upload, "rows": len(frame), "schema": [column.as_dict() for column in columns]}
        if overrides:
            raise UploadRefused("columns", "only tables have columns to override")
        assert self._images is not None
        with open(staging / IMAGES_FILE, "wb") as fh:
            np.savez(fh, images=self._images.images, labels=self._images.labels)
        return {"upload": upload, **self.images}


def _digest(fh: BinaryIO) -> tuple[int, str]:
    fh.seek(0)
    digest, size = hashlib.sha256(), 0
    while chunk := fh.read(1 << 20):
        digest.update(chunk)
        size += len(chunk)
    fh.seek(0)
    return size, digest.hexdigest()


def inspect(fh: BinaryIO, filename: str, format: str, limits: Limits) -> Inspection:
    """Check the upload in ``fh`` (seekable, binary) declared as ``format``; UploadRefused says why not."""
    size, sha256 = _digest(fh)
    if size > limits.max_bytes:
        raise UploadRefused("file", f"is {size:,} bytes, more than {limits.max_bytes:,} (SYNTHREG_UPLOAD_MAX_BYTES)",
                            status=413)
    kind = sniff(fh, filename, format)
    if format == "table/1":
        frame = read_table(fh, kind, limits)
        return Inspection(filename, format, kind, size, sha256, len(frame), columns=schemas.infer(frame),
                          _table=frame)
    images = read_images(fh, kind, limits)
    return Inspection(filename, format, kind, size, sha256, len(images.images), images=images.summary,
                      _images=images)
