"""Files to upload in tests and benchmarks: good tables and image archives, and hostile archives."""

from __future__ import annotations

import io
import pickle
import struct
import tarfile
import zipfile
import zlib

import numpy as np

GiB = 2**30


def csv_table(rows: int = 60, secret: str = "") -> bytes:
    """A small table of people: an identifier, numbers, a category, a flag, a date, a missing value."""
    lines = ["person_id,age,income,city,smoker,visited"]
    for i in range(rows):
        city = secret if secret and i == 7 else f"c{i % 3}"
        income = "" if i == 5 else str(1000 + 37 * i)
        lines.append(f"P{i:05d},{20 + i % 50},{income},{city},{'yes' if i % 2 else 'no'},2021-03-{1 + i % 28:02d}")
    return ("\n".join(lines) + "\n").encode()


def png(value: int, side: int = 8) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(np.full((side, side), value, np.uint8)).save(out, "PNG")
    return out.getvalue()


def png_zip(n: int = 6) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(n):
            archive.writestr(f"images/{i}.png", png(10 * i))
        archive.writestr("labels.csv", "file,label\n" + "".join(
            f"images/{i}.png,{'cat' if i % 2 else 'dog'}\n" for i in range(n)))
    return out.getvalue()


def _tar(entries: list[tuple[tarfile.TarInfo, bytes | None]], mode: str = "w") -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode) as archive:
        for info, data in entries:
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def png_tar(n: int = 4) -> bytes:
    entries = []
    for i in range(n):
        data = png(i)
        info = tarfile.TarInfo(f"{i}.png")
        info.size = len(data)
        entries.append((info, data))
    labels = "".join(f"{i}.png,{i % 2}\n" for i in range(n)).encode()
    labels = b"filename,label\n" + labels
    info = tarfile.TarInfo("labels.csv")
    info.size = len(labels)
    entries.append((info, labels))
    return _tar(entries, "w:gz")


def npz(images: np.ndarray | None = None, labels: np.ndarray | None = None) -> bytes:
    out = io.BytesIO()
    images = np.arange(5 * 8 * 8, dtype=np.uint8).reshape(5, 8, 8) if images is None else images
    labels = np.arange(5) % 2 if labels is None else labels
    np.savez(out, images=images, labels=labels)
    return out.getvalue()


def _zip(members: dict[str, bytes], links: tuple[str, ...] = ()) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            if name in links:
                info.external_attr = 0o120777 << 16
            archive.writestr(info, data)
    return out.getvalue()


def _labels(*names: str) -> bytes:
    return ("file,label\n" + "".join(f"{n},1\n" for n in names)).encode()


def overlap_bomb(entries: int = 100, kernel_bytes: int = 40 * 2**20) -> bytes:
    """A ~40 kB zip whose members all share one deflated stream of zeros: it declares
    ``entries * kernel_bytes`` (4 GiB by default) uncompressed (Fifield's overlapping zip bomb)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(2**20)
    deflated = b"".join(compressor.compress(zeros) for _ in range(kernel_bytes // 2**20)) + compressor.flush()
    crc = 0
    for _ in range(kernel_bytes // 2**20):
        crc = zlib.crc32(zeros, crc)
    name = b"0.png"
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(deflated), kernel_bytes,
                        len(name), 0) + name + deflated
    central = b""
    for i in range(entries):
        member = f"{i}.png".encode()
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(deflated),
                               kernel_bytes, len(member), 0, 0, 0, 0, 0, 0) + member
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, entries, entries, len(central), len(local), 0)
    return local + central + end


def declared_huge_zip() -> bytes:
    """One small member whose central directory entry declares 2 GiB uncompressed."""
    data = bytearray(_zip({"0.png": png(1), "labels.csv": _labels("0.png")}))
    at = data.find(b"PK\x01\x02")
    data[at + 24:at + 28] = struct.pack("<L", 2 * GiB)
    return bytes(data)


def lying_zip() -> bytes:
    """A PNG-looking member of 40 MiB that declares 100 bytes: reading it must stop at 100."""
    body = png(1)[:33] + bytes(40 * 2**20)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("0.png", body)
        archive.writestr("labels.csv", _labels("0.png"))
    data = bytearray(out.getvalue())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(signature)
        data[at + offset:at + offset + 4] = struct.pack("<L", 100)
    return bytes(data)


def many_members_zip(n: int = 10_001) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for i in range(n):
            archive.writestr(f"{i}.png", b"")
    return out.getvalue()


def many_members_tar(n: int = 10_001) -> bytes:
    """Real (tiny) PNGs, so only their number is wrong."""
    image = png(1, side=1)
    return _tar([(_tar_info(f"{i}.png", size=len(image)), image) for i in range(n)], "w:gz")


def _tar_info(name: str, kind: bytes = tarfile.REGTYPE, target: str = "", size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, target, size
    return info


def huge_tar() -> bytes:
    """A tar whose first member declares 2 GiB (and holds none of it)."""
    header = _tar_info("0.png", size=2 * GiB).tobuf(format=tarfile.GNU_FORMAT)
    return header + bytes(1024)


def pixel_bomb(images: int = 10) -> bytes:
    """PNG headers declaring 4096 x 4096 16-bit RGBA each (128 MiB decoded): 1.25 GiB in all."""
    ihdr = struct.pack(">IIBBBBB", 4096, 4096, 16, 6, 0, 0, 0)
    header = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    names = [f"{i}.png" for i in range(images)]
    return _zip({**{name: header for name in names}, "labels.csv": _labels(*names)})


class _Evil:
    def __reduce__(self):
        return (print, ("a pickle ran",))


def pickle_bytes() -> bytes:
    return pickle.dumps(_Evil(), protocol=4)


def object_npz() -> bytes:
    out = io.BytesIO()
    np.savez(out, images=np.array([_Evil()], dtype=object), labels=np.array([0]))
    return out.getvalue()


def torch_like_zip() -> bytes:
    """What torch.save writes: a zip holding a pickle (``archive/data.pkl``)."""
    return _zip({"archive/data.pkl": pickle_bytes(), "archive/version": b"3\n"})


# Each hostile upload: (case, filename, format, bytes-maker, words the refusal must contain).
HOSTILE = [
    ("absolute-path-zip", "a.zip", "images/1", lambda: _zip({"/etc/0.png": png(1), "labels.csv": b""}),
     "absolute path"),
    ("dotdot-zip", "a.zip", "images/1", lambda: _zip({"../0.png": png(1), "labels.csv": b""}), "'..'"),
    ("symlink-zip", "a.zip", "images/1",
     lambda: _zip({"0.png": b"/etc/passwd", "labels.csv": _labels("0.png")}, links=("0.png",)), "link"),
    ("absolute-path-tar", "a.tar", "images/1", lambda: _tar([(_tar_info("/tmp/0.png"), b"")]), "absolute path"),
    ("dotdot-tar", "a.tar", "images/1", lambda: _tar([(_tar_info("a/../../0.png"), b"")]), "'..'"),
    ("symlink-tar", "a.tar", "images/1", lambda: _tar([(_tar_info("0.png", tarfile.SYMTYPE, "/etc/passwd"), None)]),
     "link"),
    ("hardlink-tar", "a.tar", "images/1", lambda: _tar([(_tar_info("0.png", tarfile.LNKTYPE, "/etc/passwd"), None)]),
     "link"),
    ("device-tar", "a.tar", "images/1", lambda: _tar([(_tar_info("0.png", tarfile.CHRTYPE), None)]),
     "not a regular file"),
    ("too-many-members-zip", "a.zip", "images/1", many_members_zip, "more than 10,000"),
    ("too-many-members-tar", "a.tar.gz", "images/1", many_members_tar, "more than 10,000"),
    ("declared-huge-zip", "a.zip", "images/1", declared_huge_zip, "uncompressed"),
    ("declared-huge-tar", "a.tar", "images/1", huge_tar, "uncompressed"),
    ("overlap-bomb-42kB", "bomb.zip", "images/1", overlap_bomb, "zip bomb"),
    ("lying-sizes-zip", "a.zip", "images/1", lying_zip, "damaged"),
    ("pixel-bomb", "a.zip", "images/1", pixel_bomb, "decode to more than"),
    ("nested-zips", "42.zip", "images/1", lambda: _zip({"0.zip": _zip({"0.png": png(1)})}), "neither"),
    ("zip-named-csv", "t.csv", "table/1", png_zip, "extension must match"),
    ("csv-named-parquet", "t.parquet", "table/1", csv_table, "extension must match"),
    ("zip-named-tar", "a.tar", "images/1", png_zip, "extension must match"),
    ("text-named-png", "a.zip", "images/1", lambda: _zip({"0.png": b"hello", "labels.csv": _labels("0.png")}),
     "not a PNG"),
    ("table-as-images", "t.csv", "images/1", csv_table, "cannot hold images/1"),
    ("torch-pt-file", "model.pt", "images/1", torch_like_zip, "never loaded"),
    ("pickle-file", "data.pkl", "table/1", pickle_bytes, "never loaded"),
    ("pickle-named-csv", "data.csv", "table/1", pickle_bytes, "pickle"),
    ("torch-zip-named-npz", "x.npz", "images/1", torch_like_zip, "never loaded"),
    ("pt-inside-zip", "a.zip", "images/1", lambda: _zip({"w.pt": b"x", "labels.csv": b""}), "never loaded"),
    ("object-npz", "x.npz", "images/1", object_npz, "Python objects"),
]
