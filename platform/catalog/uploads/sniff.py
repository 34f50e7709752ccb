"""What an uploaded file is, from its first bytes, matched against its name and declared format."""

from __future__ import annotations

from typing import BinaryIO

from catalog.uploads.errors import UploadRefused

# Each upload kind by file extension (longest first), and what its content must then be.
EXTENSIONS = {
    ".tar.gz": ("tar", "gzip"), ".tar.bz2": ("tar", "bzip2"), ".tar.xz": ("tar", "xz"), ".tgz": ("tar", "gzip"),
    ".tar": ("tar", "tar"), ".zip": ("zip", "zip"), ".npz": ("npz", "zip"), ".csv": ("csv", "text"),
    ".parquet": ("parquet", "parquet"), ".pq": ("parquet", "parquet"),
}
# Files that only a pickle loader opens: refused by name, never opened (torch .pt is a pickle in a zip).
NEVER_LOADED = (".pkl", ".pickle", ".pt", ".pth", ".ckpt", ".joblib", ".dill", ".bin")
FORMAT_KINDS = {"table/1": ("csv", "parquet"), "images/1": ("zip", "tar", "npz")}
UPLOAD_FORMATS = tuple(FORMAT_KINDS)
_MAGIC = ((b"PAR1", "parquet"), (b"PK\x03\x04", "zip"), (b"PK\x05\x06", "zip"), (b"\x1f\x8b", "gzip"),
          (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"), (b"\x89PNG\r\n\x1a\n", "png"))
_HEAD = 64 * 1024


def content_kind(head: bytes) -> str:
    """``parquet``, ``zip``, ``gzip``, ``bzip2``, ``xz``, ``png``, ``tar``, ``pickle``, ``text`` or ``binary``."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head[257:262] == b"ustar":
        return "tar"
    if len(head) > 1 and head[0] == 0x80 and 2 <= head[1] <= 5:  # a pickle's PROTO opcode
        return "pickle"
    if b"\x00" in head:
        return "binary"
    try:
        head[:-4].decode("utf-8") if len(head) == _HEAD else head.decode("utf-8")  # a cut character at the end
    except UnicodeDecodeError:
        return "binary"
    return "text"


def never_loaded(name: str) -> bool:
    return name.lower().endswith(NEVER_LOADED)


def extension_kind(filename: str, field: str = "file") -> tuple[str, str]:
    """(upload kind, content kind it needs) for ``filename``; refuses pickles and unknown extensions."""
    lower = filename.lower()
    if never_loaded(lower):
        raise UploadRefused(field, f"{filename!r} is a pickle or torch file: those are never loaded here "
                                   "(upload tables as CSV or Parquet, images as PNG archives or NPZ)")
    for extension, kinds in EXTENSIONS.items():
        if lower.endswith(extension):
            return kinds
    raise UploadRefused(field, f"{filename!r} has no known extension; uploads are {', '.join(EXTENSIONS)}")


def sniff(fh: BinaryIO, filename: str, declared: str) -> str:
    """The upload's kind (``csv``, ``parquet``, ``zip``, ``npz``, ``tar``), checked three ways: its
    extension, its first bytes and the declared format must agree."""
    if declared not in FORMAT_KINDS:
        raise UploadRefused("format", f"{declared!r} is not a format uploads accept ({', '.join(UPLOAD_FORMATS)})")
    kind, wanted = extension_kind(filename)
    fh.seek(0)
    head = fh.read(_HEAD)
    fh.seek(0)
    if not head:
        raise UploadRefused("file", f"{filename!r} is empty")
    found = content_kind(head)
    if found == "pickle":
        raise UploadRefused("file", f"{filename!r} holds a pickle: pickles are never loaded here")
    if found != wanted:
        raise UploadRefused("file", f"{filename!r} is named {kind} but its content is {found}: the extension "
                                    "must match the content")
    if kind not in FORMAT_KINDS[declared]:
        raise UploadRefused("format", f"a {kind} file cannot hold {declared}; {declared} uploads are "
                                      f"{' or '.join(FORMAT_KINDS[declared])}")
    return kind


def default_format(filename: str, field: str = "file") -> str:
    """The format an upload holds when none is declared: tables for CSV and Parquet, else images."""
    kind, _ = extension_kind(filename, field)
    return next(name for name, kinds in FORMAT_KINDS.items() if kind in kinds)
