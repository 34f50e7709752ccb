"""Export formats, declared once: the API's ``/formats/<name>`` downloads and the portal read this.

A writer streams the whole export as chunks of bytes, in the memory of one batch whatever the
version's size; it is given the API's address of versions (``…/api/versions/``) for any link it
writes. ``revision`` is part of the export's ETag: bump it when a writer's bytes change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from catalog.exports import coco, croissant, images, tables
from catalog.exports.arrays import npz_paths
from catalog.loaders import TABLE_SUFFIXES
from catalog.models import DatasetVersion, Modality


@dataclass(frozen=True)
class ExportFormat:
    name: str
    title: str
    media_type: str
    extension: str
    modalities: frozenset[str]
    write: Callable[[DatasetVersion, str], Iterator[bytes]]
    # Whether the version holds what the writer reads (checked before a byte is sent).
    readable: Callable[[DatasetVersion], bool] = lambda version: True
    # What the export reads beside the immutable version (the dataset's card, evaluations), for its ETag.
    changes_with: Callable[[DatasetVersion], str] = lambda version: ""
    revision: int = 1

    def filename(self, version: DatasetVersion) -> str:
        return f"{version.dataset.slug}-v{version.number}-{self.name}{self.extension}"


def _ignoring_links(write: Callable[[DatasetVersion], Iterator[bytes]]):
    return lambda version, versions_url: write(version)


_IMAGE, _SCENE, _TABLE = Modality.IMAGE.value, Modality.SCENE.value, Modality.TABULAR.value
_ALL = frozenset({_IMAGE, _SCENE, _TABLE})


def _has_arrays(version: DatasetVersion) -> bool:
    return bool(npz_paths(version))


def _has_tables(version: DatasetVersion) -> bool:
    return any(f["path"].endswith(TABLE_SUFFIXES) for f in version.manifest.get("files", []))


def _has_rows(version: DatasetVersion) -> bool:
    return _has_arrays(version) if version.dataset.modality == _IMAGE else _has_tables(version)


def _card_changes(version: DatasetVersion) -> str:
    return version.dataset.updated_at.isoformat()


def _description_changes(version: DatasetVersion) -> str:
    return f"{_card_changes(version)} {list(version.evaluations.values_list('pk', flat=True))}"

FORMATS: dict[str, ExportFormat] = {f.name: f for f in (
    ExportFormat("png", "PNG images and labels.csv (zip)", "application/zip", ".zip", frozenset({_IMAGE}),
                 _ignoring_links(images.write_png_zip), _has_arrays),
    ExportFormat("webdataset", "WebDataset shard: <key>.png and <key>.cls (tar)", "application/x-tar", ".tar",
                 frozenset({_IMAGE}), _ignoring_links(images.write_webdataset), _has_arrays),
    ExportFormat("webdataset-shards", f"WebDataset shards of {images.SHARD_SAMPLES:,} samples: a wids shard index "
                 "(JSON) of their URLs", "application/json", ".json", frozenset({_IMAGE}), images.write_shard_index,
                 _has_arrays),
    ExportFormat("coco", "One COCO file merged across shards", "application/json", ".json", frozenset({_SCENE}),
                 _ignoring_links(coco.write_merged_coco), lambda version: bool(coco.coco_paths(version))),
    ExportFormat("parquet", "Parquet (one file)", "application/vnd.apache.parquet", ".parquet",
                 frozenset({_TABLE, _IMAGE}), _ignoring_links(tables.write_parquet), _has_rows),
    ExportFormat("csv", "CSV (one file)", "text/csv", ".csv", frozenset({_TABLE}), _ignoring_links(tables.write_csv),
                 _has_tables),
    ExportFormat("huggingface", "Hugging Face layout: README.md card and Parquet (zip)", "application/zip", ".zip",
                 frozenset({_TABLE, _IMAGE}), _ignoring_links(tables.write_huggingface), _has_rows, _card_changes),
    ExportFormat("croissant", "Croissant JSON-LD with responsible-AI fields", "application/ld+json", ".json",
                 # Its record sets read the exports above (their URLs and digests): handed FORMATS itself.
                 _ALL, lambda version, versions_url: croissant.write_croissant(version, versions_url, FORMATS),
                 changes_with=_description_changes, revision=3),
)}


def formats_for(version: DatasetVersion) -> list[ExportFormat]:
    """The formats this version can be exported as (its modality, and the files the writer reads)."""
    return [f for f in FORMATS.values() if version.dataset.modality in f.modalities and f.readable(version)]
