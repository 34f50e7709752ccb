"""How a data format is declared: its files, their keys, dtypes, shapes and column types.

A :class:`Format` lists :class:`FileSpec` s, each matching files by a glob relative to the
version's folder. ``Format.validate(folder)`` checks every file against its spec from headers
alone (``contracts.formats.readers``) and raises :class:`FormatError` with the reason, or returns
a summary. A folder of ``shard-NNNNN/`` folders (a sharded job's output) is valid when every
shard is, with the same dimensions.

Shapes are patterns: a whole number is that size; a name (``"N"``, ``"H"``) is any size, the
same wherever it appears in a version (``"N"``, the samples, only within one file); ``"W/8"``
is ``ceil(W / 8)`` (bits packed into bytes).
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contracts.formats import readers
from contracts.formats.errors import FormatError

Dimension = int | str
Shape = tuple[Dimension, ...]
ROWS = "N"  # the samples axis: its size is counted per file, and summed
SHARD_FOLDER = re.compile(r"shard-\d{5}")
# JSON files up to this size are parsed to check their keys; larger ones only for their outline.
JSON_PARSE_LIMIT = 64 * 2**20


@dataclass(frozen=True)
class Array:
    """One NPZ key: accepted dtypes (names such as ``"uint8"``, or numpy kind letters: ``"f"``
    floats, ``"i"``/``"u"`` integers, ``"b"`` booleans) and accepted shape patterns."""

    name: str
    dtypes: tuple[str, ...]
    shapes: tuple[Shape, ...]
    optional: bool = False
    description: str = ""


@dataclass(frozen=True)
class FileSpec:
    """Files matching ``pattern``: ``required`` (at least one), ``many`` (more than one allowed)."""

    pattern: str
    description: str = ""
    required: bool = True
    many: bool = False

    def check(self, path: Path, name: str, state: _State) -> int | None:
        """Check one file; returns the samples it holds (counted toward the version's) or None."""
        return None


@dataclass(frozen=True)
class NpzFile(FileSpec):
    arrays: tuple[Array, ...] = ()

    def check(self, path: Path, name: str, state: _State) -> int:
        headers = readers.npz_headers(path, name)
        declared = {array.name for array in self.arrays}
        if extra := sorted(set(headers) - declared):
            raise FormatError(f"{name}: unexpected key(s) {extra}; {state.format} has {sorted(declared)}")
        rows: dict[str, int] = {}
        for array in self.arrays:
            header = headers.get(array.name)
            if header is None:
                if array.optional:
                    continue
                raise FormatError(f"{name}: key {array.name!r} is missing ({array.description or 'required'})")
            if header.dtype.name not in array.dtypes and header.dtype.kind not in array.dtypes:
                raise FormatError(f"{name}: key {array.name!r} is {header.dtype.name}; "
                                  f"{state.format} needs {_dtype_words(array.dtypes)}")
            if (count := state.bind_shape(name, array, header.shape)) is not None:
                rows[array.name] = count
        counts = set(rows.values())
        if len(counts) > 1:
            (first, n_first), *rest = rows.items()
            other, n_other = next((k, n) for k, n in rest if n != n_first)
            raise FormatError(f"{name}: key {other!r} has {n_other} rows, {first!r} has {n_first}")
        return counts.pop() if counts else 0


@dataclass(frozen=True)
class TableFile(FileSpec):
    """Parquet (types from the footer) or CSV (types inferred from its first block)."""

    def check(self, path: Path, name: str, state: _State) -> int | None:
        columns, rows = readers.table_schema(path, name)
        if not columns:
            raise FormatError(f"{name}: has no columns")
        for column, kind in columns.items():
            if not kind.startswith(TABLE_TYPES):
                raise FormatError(f"{name}: column {column!r} is {kind}; {state.format} columns are numbers, "
                                  "booleans, strings, categories, dates or times")
        if state.columns is None:
            state.columns, state.columns_from = columns, name
        elif list(columns) != list(state.columns):
            raise FormatError(f"{name}: its columns {list(columns)} differ from {state.columns_from}'s "
                              f"{list(state.columns)}")
        return rows


TABLE_TYPES = ("int", "uint", "float", "double", "halffloat", "bool", "string", "large_string", "dictionary",
               "date", "timestamp", "null", "decimal")


@dataclass(frozen=True)
class JsonFile(FileSpec):
    """A JSON object with ``keys`` (checked when the file is under JSON_PARSE_LIMIT; a larger one,
    such as a big COCO file, is checked for its outline only: an object from first byte to last)."""

    keys: tuple[str, ...] = ()

    def check(self, path: Path, name: str, state: _State) -> None:
        if path.stat().st_size > JSON_PARSE_LIMIT:
            with open(path, "rb") as fh:
                head = fh.read(4096).lstrip()
                fh.seek(max(0, path.stat().st_size - 4096))
                tail = fh.read().rstrip()
            if not (head.startswith(b"{") and tail.endswith(b"}")):
                raise FormatError(f"{name}: is not a JSON object")
            return None
        try:
            document = json.loads(path.read_bytes())
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise FormatError(f"{name}: is not JSON (line {getattr(exc, 'lineno', 1)})") from None
        if not isinstance(document, dict):
            raise FormatError(f"{name}: is not a JSON object")
        if missing := [key for key in self.keys if key not in document]:
            raise FormatError(f"{name}: lacks the key(s) {missing}")
        return None


@dataclass(frozen=True)
class JsonLinesFile(FileSpec):
    """One JSON object per line, one line per sample of its folder (counted, not parsed)."""

    def check(self, path: Path, name: str, state: _State) -> None:
        state.line_counts[name] = readers.count_lines(path)
        return None


@dataclass(frozen=True)
class PngFile(FileSpec):
    def check(self, path: Path, name: str, state: _State) -> None:
        if not readers.is_png(path):
            raise FormatError(f"{name}: is not a PNG image")
        return None


@dataclass(frozen=True)
class SafetensorsFile(FileSpec):
    """Tensors in safetensors layout; the JSON header is parsed and checked, no tensor is loaded."""

    def check(self, path: Path, name: str, state: _State) -> None:
        tensors = readers.safetensors_header(path, name)
        if not tensors:
            raise FormatError(f"{name}: holds no tensors")
        state.tensors.update({f"{name}:{key}": {"dtype": t["dtype"], "shape": t["shape"]}
                              for key, t in tensors.items()})
        return None


@dataclass
class _State:
    """What one validation has learnt so far: dimensions bound, columns, counts."""

    format: str
    dimensions: dict[str, int] = field(default_factory=dict)
    bound_in: dict[str, str] = field(default_factory=dict)
    columns: dict[str, str] | None = None
    columns_from: str = ""
    line_counts: dict[str, int] = field(default_factory=dict)
    tensors: dict[str, dict] = field(default_factory=dict)

    def bind_shape(self, name: str, array: Array, shape: tuple[int, ...]) -> int | None:
        """Match ``shape`` against the array's patterns, binding their names; returns its rows
        (None: the array has no samples axis)."""
        candidates = [p for p in array.shapes if len(p) == len(shape)]
        if not candidates:
            raise FormatError(f"{name}: key {array.name!r} has shape {shape}; {self.format} needs "
                              f"{' or '.join(_shape_words(p) for p in array.shapes)}")
        reasons = []
        for pattern in candidates:
            try:
                new = self._match(name, array, pattern, shape)
            except FormatError as exc:
                reasons.append(str(exc))
                continue
            for symbol, (size, where) in new.items():
                self.dimensions.setdefault(symbol, size)
                self.bound_in.setdefault(symbol, where)
            return shape[pattern.index(ROWS)] if ROWS in pattern else None
        raise FormatError(reasons[0])

    def _match(self, name: str, array: Array, pattern: Shape, shape: tuple[int, ...]) -> dict[str, tuple[int, str]]:
        new: dict[str, tuple[int, str]] = {}
        for axis, (want, size) in enumerate(zip(pattern, shape, strict=True)):
            where = f"{name}: key {array.name!r}"
            if isinstance(want, int):
                if size != want:
                    raise FormatError(f"{where} has {size} on axis {axis}; {self.format} needs {want} "
                                      f"(shape {_shape_words(pattern)})")
                continue
            if want == ROWS:
                continue
            symbol, _, divisor = want.partition("/")
            known = new.get(symbol, (self.dimensions.get(symbol), self.bound_in.get(symbol)))
            if divisor:
                if known[0] is not None and size != -(-known[0] // int(divisor)):
                    raise FormatError(f"{where} has {size} on axis {axis}; {want} is {-(-known[0] // int(divisor))} "
                                      f"({symbol} = {known[0]})")
                continue
            if known[0] is None:
                new[symbol] = (size, where)
            elif size != known[0]:
                raise FormatError(f"{where} has {symbol} = {size} on axis {axis}; {known[1]} has {symbol} = {known[0]}")
        return new


def _shape_words(pattern: Shape) -> str:
    return "(" + ", ".join(str(d) for d in pattern) + ("," if len(pattern) == 1 else "") + ")"


def _dtype_words(dtypes: tuple[str, ...]) -> str:
    kinds = {"f": "floats", "i": "signed integers", "u": "unsigned integers", "b": "booleans"}
    return " or ".join(kinds.get(d, d) for d in dtypes)


@dataclass(frozen=True)
class Format:
    """A versioned data format (``"images/1"``): bump the number for any incompatible change.

    ``label`` names the key or column holding the label (None: none, or many). ``report`` is the
    evaluation its versions get (``"image"``, ``"tabular"``, ``"scene"``; None: not evaluated) and
    ``references`` the formats of the real data they may be evaluated against.
    """

    name: str
    title: str
    modality: str
    files: tuple[FileSpec, ...]
    description: str = ""
    label: str | None = None
    report: str | None = None
    references: tuple[str, ...] = ()

    def validate(self, directory: Path | str) -> dict[str, Any]:
        """Check every file under ``directory``; returns a summary (samples, dimensions, columns...)."""
        directory = Path(directory)
        if not directory.is_dir():
            raise FormatError(f"{directory.name}: is no folder")
        entries = sorted(directory.iterdir())
        sharded = bool(entries) and all(e.is_dir() and SHARD_FOLDER.fullmatch(e.name) for e in entries)
        roots = entries if sharded else [directory]
        state = _State(self.name)
        samples = sum(self._validate_root(root, directory, state) for root in roots)
        summary: dict[str, Any] = {"format": self.name, "samples": samples, "dimensions": state.dimensions}
        if sharded:
            summary["shards"] = len(roots)
        if state.columns is not None:
            summary["columns"] = state.columns
            summary["label"] = self.label if self.label in state.columns else None
        if state.tensors:
            summary["tensors"] = len(state.tensors)
        return summary

    def _validate_root(self, root: Path, top: Path, state: _State) -> int:
        files = {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file()}
        prefix = "" if root == top else f"{root.name}/"
        if not files:
            raise FormatError(f"{prefix or top.name + '/'}: holds no files; {self.name} needs "
                              f"{', '.join(s.pattern for s in self.files if s.required)}")
        claimed: set[str] = set()
        samples, counted = 0, False
        for spec in self.files:
            matched = [name for name in files if fnmatch.fnmatch(name, spec.pattern) and name not in claimed]
            if spec.required and not matched:
                raise FormatError(f"{prefix}{spec.pattern}: is missing ({spec.description})")
            if len(matched) > 1 and not spec.many:
                raise FormatError(f"{prefix}{spec.pattern}: {len(matched)} files match; {self.name} has one")
            for name in matched:
                rows = spec.check(files[name], prefix + name, state)
                if rows is not None:
                    samples, counted = samples + rows, True
            claimed.update(matched)
        if unknown := [name for name in files if name not in claimed]:
            raise FormatError(f"{prefix}{unknown[0]}: is no file of {self.name} (its files: "
                              f"{', '.join(s.pattern for s in self.files)})")
        if counted:  # a JSON Lines index has one line per sample
            for name, lines in state.line_counts.items():
                if name.startswith(prefix) and lines != samples:
                    raise FormatError(f"{name}: has {lines} lines; the folder holds {samples} samples")
        return samples
