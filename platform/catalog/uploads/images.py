"""Uploaded images: a zip or tar of PNG files with a ``labels.csv``, or an NPZ of ``images`` and
``labels``, turned into one ``images/1`` array pair. Every member is checked from its first bytes
(PNG signature and size, ``.npy`` header) before any is decoded; NPZ arrays load without pickles."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import BinaryIO

import numpy as np
import pandas as pd

from catalog.uploads.archives import Archive, Member, open_archive
from catalog.uploads.errors import Limits, MiB, UploadRefused

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LABELS = "labels.csv"
MAX_LABELS_BYTES = 16 * MiB
FILE_COLUMNS = ("file", "filename", "path", "image")
LABEL_COLUMNS = ("label", "labels", "class", "target")
NPZ_KEYS = ("images", "labels")
_NPY_HEAD = 64 * 1024


@dataclass
class ImageSet:
    images: np.ndarray
    labels: np.ndarray
    classes: list[str] = field(default_factory=list)  # label names, when the labels were words

    @property
    def summary(self) -> dict:
        return {"images": int(len(self.images)), "shape": list(self.images.shape[1:]),
                "dtype": self.images.dtype.name, "classes": self.classes or sorted({int(v) for v in self.labels})}


# Decoded channels per PNG colour type (palettes become RGB, grey with alpha RGBA).
_PNG_CHANNELS = {0: 1, 2: 3, 3: 3, 4: 4, 6: 4}


def _png_bytes(head: bytes, name: str, limits: Limits) -> int:
    """The bytes the PNG decodes to, from its IHDR (the first 26 bytes), checked against the limits."""
    if not head.startswith(PNG_SIGNATURE) or head[12:16] != b"IHDR" or len(head) < 26:
        raise UploadRefused("file", f"archive member {name!r} is named .png but is not a PNG image")
    width, height, depth, colour = struct.unpack(">IIBB", head[16:26])
    if not (0 < width <= limits.max_image_side and 0 < height <= limits.max_image_side):
        raise UploadRefused("file", f"archive member {name!r} is {width}x{height} pixels; images are at most "
                                    f"{limits.max_image_side} a side (SYNTHREG_UPLOAD_MAX_IMAGE_SIDE)", status=413)
    return width * height * _PNG_CHANNELS.get(colour, 4) * (2 if depth == 16 else 1)


def _check_png_member(limits: Limits):
    decoded = 0  # what the images decode to, so far: a pixel bomb is refused before any is decoded

    def check(archive: Archive, member: Member) -> None:
        nonlocal decoded
        lower = member.name.lower()
        if PurePosixPath(lower).name == LABELS:
            if member.size > MAX_LABELS_BYTES:
                raise UploadRefused("file", f"{member.name!r} is larger than {MAX_LABELS_BYTES:,} bytes", status=413)
            return
        if not lower.endswith(".png"):
            raise UploadRefused("file", f"archive member {member.name!r} is neither a .png image nor {LABELS}")
        decoded += _png_bytes(archive.read(member, 26), member.name, limits)
        if decoded > limits.max_uncompressed:
            raise UploadRefused("file", f"the images decode to more than {limits.max_uncompressed:,} bytes "
                                        "(SYNTHREG_UPLOAD_MAX_UNCOMPRESSED)", status=413)
    return check


def _decode_png(data: bytes, name: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
            if image.mode not in ("L", "RGB", "RGBA", "I;16"):
                image = image.convert("RGBA" if "A" in image.getbands() else "RGB" if image.mode != "1" else "L")
            return np.asarray(image)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise UploadRefused("file", f"archive member {name!r} is a damaged PNG ({type(exc).__name__})") from None


def _labels_of(archive: Archive, member: Member) -> dict[str, str]:
    try:
        frame = pd.read_csv(io.BytesIO(archive.read(member)), dtype=str, keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError):
        raise UploadRefused("file", f"{member.name!r} is not a readable UTF-8 CSV") from None
    lower = {str(c).strip().lower(): c for c in frame.columns}
    file_column = next((lower[c] for c in FILE_COLUMNS if c in lower), None)
    label_column = next((lower[c] for c in LABEL_COLUMNS if c in lower), None)
    if file_column is None or label_column is None:
        raise UploadRefused("file", f"{member.name!r} needs a file column ({', '.join(FILE_COLUMNS)}) and a "
                                    f"label column ({', '.join(LABEL_COLUMNS)})")
    folder = PurePosixPath(member.name).parent
    labels = {}
    for file, label in zip(frame[file_column], frame[label_column], strict=True):
        name = file.strip()
        while name.startswith("./"):
            name = name[2:]
        labels[(folder / name).as_posix()] = label.strip()  # names are relative to labels.csv's folder
    return labels


def _label_array(words: list[str]) -> tuple[np.ndarray, list[str]]:
    """Integer labels as they are; words become indices into their sorted names."""
    try:
        return np.array([int(w) for w in words], dtype=np.int64), []
    except ValueError:
        classes = sorted(set(words))
        index = {name: i for i, name in enumerate(classes)}
        return np.array([index[w] for w in words], dtype=np.int64), classes


def _from_pngs(fh: BinaryIO, kind: str, limits: Limits) -> ImageSet:
    archive = open_archive(fh, kind, limits, on_member=_check_png_member(limits))
    label_files = [m for m in archive.members if PurePosixPath(m.name.lower()).name == LABELS]
    if len(label_files) != 1:
        raise UploadRefused("file", f"the archive needs exactly one {LABELS} (it has {len(label_files)})")
    labels = _labels_of(archive, label_files[0])
    pngs = sorted((m for m in archive.members if m is not label_files[0]), key=lambda m: m.name)
    if not pngs:
        raise UploadRefused("file", "the archive holds no PNG images")
    unlabelled = [m.name for m in pngs if m.name not in labels]
    if unlabelled:
        raise UploadRefused("file", f"{len(unlabelled)} image(s) have no row in {LABELS}, "
                                    f"e.g. {unlabelled[0]!r}")
    if missing := len(set(labels) - {m.name for m in pngs}):
        raise UploadRefused("file", f"{LABELS} names {missing} file(s) that are not in the archive")
    arrays, first = [], None
    for member in pngs:
        pixels = _decode_png(archive.read(member), member.name)
        if first is None:
            first = (pixels.shape, pixels.dtype, member.name)
        elif (pixels.shape, pixels.dtype) != first[:2]:
            raise UploadRefused("file", f"{member.name!r} is {pixels.shape} {pixels.dtype}, {first[2]!r} is "
                                        f"{first[0]} {first[1]}: all images need one size and mode")
        arrays.append(pixels)
    values, classes = _label_array([labels[m.name] for m in pngs])
    return ImageSet(np.stack(arrays), values, classes)


def _npy_header(head: bytes, key: str) -> tuple[tuple[int, ...], np.dtype]:
    stream = io.BytesIO(head)
    try:
        version = np.lib.format.read_magic(stream)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read(stream)
    except (ValueError, EOFError) as exc:
        raise UploadRefused("file", f"NPZ key {key!r} has no valid .npy header ({exc})") from None
    return tuple(shape), dtype


def _check_npz_member(limits: Limits):
    def check(archive: Archive, member: Member) -> None:
        key = member.name.removesuffix(".npy")
        if key not in NPZ_KEYS or not member.name.endswith(".npy"):
            raise UploadRefused("file", f"NPZ member {member.name!r} is unexpected; an NPZ upload holds "
                                        f"{' and '.join(NPZ_KEYS)} only")
        shape, dtype = _npy_header(archive.read(member, _NPY_HEAD), key)
        if dtype.hasobject:
            raise UploadRefused("file", f"NPZ key {key!r} holds Python objects (a pickle): never loaded")
        wanted = ("f", "u", "i", "b") if key == "images" else ("i", "u", "U")
        if dtype.kind not in wanted:
            raise UploadRefused("file", f"NPZ key {key!r} is {dtype}; it must be numbers"
                                        f"{' or strings' if key == 'labels' else ''}")
        dims = (3, 4) if key == "images" else (1,)
        if len(shape) not in dims:
            raise UploadRefused("file", f"NPZ key {key!r} has shape {shape}; it needs "
                                        f"{'N x H x W (x C)' if key == 'images' else 'N'}")
        if key == "images" and max(shape[1:3], default=0) > limits.max_image_side:
            raise UploadRefused("file", f"NPZ images are {shape[1]}x{shape[2]}; at most {limits.max_image_side} "
                                        "a side (SYNTHREG_UPLOAD_MAX_IMAGE_SIDE)", status=413)
    return check


def _from_npz(fh: BinaryIO, limits: Limits) -> ImageSet:
    archive = open_archive(fh, "npz", limits, on_member=_check_npz_member(limits))
    members = {m.name.removesuffix(".npy"): m for m in archive.members}
    if missing := [key for key in NPZ_KEYS if key not in members]:
        raise UploadRefused("file", f"the NPZ lacks {' and '.join(missing)}")
    loaded = {}
    for key, member in members.items():
        try:
            loaded[key] = np.load(io.BytesIO(archive.read(member)), allow_pickle=False)
        except ValueError as exc:
            raise UploadRefused("file", f"NPZ key {key!r} does not load ({exc})") from None
    images, labels = loaded["images"], loaded["labels"]
    if len(images) != len(labels):
        raise UploadRefused("file", f"the NPZ has {len(images)} images and {len(labels)} labels")
    if not len(images):
        raise UploadRefused("file", "the NPZ holds no images")
    if labels.dtype.kind == "U":
        values, classes = _label_array([str(v) for v in labels])
        return ImageSet(images, values, classes)
    return ImageSet(images, labels.astype(np.int64), [])


def read_images(fh: BinaryIO, kind: str, limits: Limits) -> ImageSet:
    return _from_npz(fh, limits) if kind == "npz" else _from_pngs(fh, kind, limits)
