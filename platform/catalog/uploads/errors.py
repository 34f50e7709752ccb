"""What an upload may be, and the one error a refused upload raises."""

from __future__ import annotations

from dataclasses import dataclass

GiB = 2**30
MiB = 2**20


class UploadRefused(ValueError):
    """The upload is refused: ``field`` names what was wrong (``file``, ``format``, ``columns.age``);
    ``status`` is the HTTP answer (400, or 413 for sizes)."""

    def __init__(self, field: str, message: str, status: int = 400) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.status = field, message, status


@dataclass(frozen=True)
class Limits:
    """Caps on one upload (settings ``SYNTHREG_UPLOAD_*`` fill them in on the platform)."""

    max_bytes: int = GiB  # the uploaded file itself
    max_members: int = 10_000  # files in an archive
    max_uncompressed: int = GiB  # what an archive's members declare, and what is read from them
    max_table_bytes: int = 256 * MiB  # tables are read whole into memory
    max_image_side: int = 4096  # pixels, either side of one image
