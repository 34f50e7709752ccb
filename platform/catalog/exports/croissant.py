"""A Croissant (JSON-LD) description of a version, with the responsible-AI fields filled in.

The RAI vocabulary has no yes/no synthetic flag: ``rai:dataCollectionType`` says "Synthetic data"
(or "Real data" for a reference), ``rai:dataCollection`` names the generator, its parameters,
seed and code revision, ``prov:wasDerivedFrom`` lists the parent versions, and the newest
evaluation's figures go in ``rai:dataLimitations`` (in words) and ``synthreg:evaluation``.
Each version's records are a ``recordSet`` read from one of its exports, named in the distribution
with the digest Croissant requires (computed once and kept): a table's rows, a field per column,
and an image version's ``image`` (PNG) and ``label`` from the ``parquet`` export; a scenes
version's images (id, file name, size) from the merged ``coco`` file. ``mlcroissant`` cannot read
files inside a zip's FileSet as tables, nor NPZ arrays, hence single exported files.
"""

from __future__ import annotations

import json
import mimetypes
import zlib
from collections.abc import Iterator
from typing import Any

import PIL
import pyarrow as pa

from catalog.exports import tables
from catalog.exports.arrays import row_count
from catalog.exports.digests import export_digest
from catalog.leaderboard import entry_of
from catalog.models import Dataset, DatasetVersion, Modality

CONTEXT = {
    "@language": "en", "@vocab": "https://schema.org/", "sc": "https://schema.org/",
    "cr": "http://mlcommons.org/croissant/", "rai": "http://mlcommons.org/croissant/RAI/",
    "dct": "http://purl.org/dc/terms/", "equivalentProperty": "cr:equivalentProperty",
    "samplingRate": "cr:samplingRate", "prov": "http://www.w3.org/ns/prov#",
    "synthreg": "https://synthreg.invalid/ns#",
    "citeAs": "cr:citeAs", "column": "cr:column", "conformsTo": "dct:conformsTo",
    "data": {"@id": "cr:data", "@type": "@json"}, "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "examples": {"@id": "cr:examples", "@type": "@json"}, "extract": "cr:extract", "field": "cr:field",
    "fileObject": "cr:fileObject", "fileProperty": "cr:fileProperty", "fileSet": "cr:fileSet",
    "format": "cr:format", "includes": "cr:includes", "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath", "key": "cr:key", "md5": "cr:md5", "parentField": "cr:parentField",
    "path": "cr:path", "recordSet": "cr:recordSet", "references": "cr:references", "regex": "cr:regex",
    "repeated": "cr:repeated", "replace": "cr:replace", "separator": "cr:separator", "source": "cr:source",
    "subField": "cr:subField", "transform": "cr:transform",
}
_TYPES = {".npz": "application/x-npz", ".jsonl": "application/jsonlines", ".parquet": "application/x-parquet"}


def _encoding(path: str) -> str:
    suffix = "." + path.rsplit(".", 1)[-1]
    return _TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"


def _figures(version: DatasetVersion) -> tuple[str, dict[str, Any] | None]:
    evaluation = version.evaluations.select_related("reference__dataset").first()  # newest first
    if evaluation is None:
        return "Not evaluated yet.", None
    entry = entry_of(evaluation)
    figures = {"reference": str(evaluation.reference), "evaluation_version": evaluation.evaluation_version,
               "metric": entry.metric, "tstr": entry.tstr, "trtr": entry.trtr, "tstr_over_trtr": entry.ratio,
               "quality_score": entry.quality_score, "privacy_score": entry.privacy_score,
               "privacy_gate": entry.privacy_gate}
    shown = ", ".join(f"{name} {value:.3g}" if isinstance(value, float) else f"{name} {value}"
                      for name, value in figures.items() if value is not None and name != "reference")
    return f"Evaluated against {evaluation.reference}: {shown}.", figures


# Arrow types as Croissant data types (anything else is described as text).
def _data_type(kind: pa.DataType) -> str:
    if pa.types.is_boolean(kind):
        return "sc:Boolean"
    if pa.types.is_integer(kind):
        return "sc:Integer"
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "sc:Float"
    if pa.types.is_temporal(kind):
        return "sc:Date"
    return "sc:Text"


def _export_file(version: DatasetVersion, export, base_url: str, versions_url: str) -> dict:
    """An export as a FileObject, with the digest of its bytes (computed once and kept)."""
    # Its bytes depend on the writer's revision and on what encodes them (Parquet, PNG, deflate).
    key = (f"{export.name}-{export.revision} pyarrow-{pa.__version__} pillow-{PIL.__version__} "
           f"zlib-{zlib.ZLIB_RUNTIME_VERSION}")
    digest = export_digest(version, key, lambda: export.write(version, versions_url))
    name = export.filename(version)
    return {"@type": "cr:FileObject", "@id": name, "name": name, "description": export.title,
            "contentUrl": f"{base_url}formats/{export.name}", "encodingFormat": _encoding(name),
            "contentSize": f"{digest['size']} B", "sha256": digest["sha256"]}


def _field(record_set: str, name: str, kind: str, source: dict, **more: Any) -> dict:
    return {"@type": "cr:Field", "@id": f"{record_set}/{name}", "name": name, "dataType": kind, "source": source,
            **more}


def _table_fields(version: DatasetVersion, source: dict) -> list[dict]:
    """A field per column, typed from the first batch (the export casts every file to its schema)."""
    batch = next(tables.table_batches(version), None)
    if batch is None:
        return []
    schema = batch.schema
    return [_field("rows", name, _data_type(schema.field(name).type), {**source, "extract": {"column": name}})
            for name in schema.names]


def _image_fields(version: DatasetVersion, source: dict) -> list[dict]:
    """The PNG bytes of the ``{bytes, path}`` image column, as Hugging Face's own Croissant reads it, and the label."""
    if not row_count(version):
        return []
    return [_field("samples", "image", "sc:ImageObject", {**source, "extract": {"column": "image"},
                                                          "transform": {"jsonPath": "bytes"}}, description="The image, as PNG."),
            _field("samples", "label", "sc:Integer", {**source, "extract": {"column": "label"}},
                   description="Its class label.")]


# The merged COCO file's per-image keys (COCO's own and the scenes renderer's).
_COCO_IMAGE_KEYS = {"id": "sc:Integer", "file_name": "sc:Text", "width": "sc:Integer", "height": "sc:Integer"}


def _scene_fields(version: DatasetVersion, source: dict) -> list[dict]:
    return [_field("images", name, kind, {**source, "extract": {"jsonPath": f"$.images[*].{name}"}})
            for name, kind in _COCO_IMAGE_KEYS.items()]


# Per modality: the export the record set reads, its name and description, and its fields.
_RECORDS = {
    Modality.TABULAR: ("parquet", "rows", "Every row of the version's tables.", _table_fields),
    Modality.IMAGE: ("parquet", "samples", "Every image of the version and its label.", _image_fields),
    Modality.SCENE: ("coco", "images", "Every image of the version, from its merged COCO file.", _scene_fields),
}


def _records(version: DatasetVersion, formats: dict, base_url: str, versions_url: str) -> tuple[list[dict], list[dict]]:
    """The version's records read from one of its exports, which goes in the distribution; none where
    the version has not that export, or no rows."""
    export_name, name, description, fields_of = _RECORDS[version.dataset.modality]
    export = formats[export_name]
    source = {"fileObject": {"@id": export.filename(version)}}
    if not export.readable(version) or not (fields := fields_of(version, source)):
        return [], []
    return [_export_file(version, export, base_url, versions_url)], [
        {"@type": "cr:RecordSet", "@id": name, "name": name, "description": description, "field": fields}]


def keep_record_digest(version: DatasetVersion, formats: dict) -> None:
    """Computes and keeps the digest of the export the record set reads, so that no description waits
    on it (a job's worker does this on publishing; the exports read write no link)."""
    if version.dataset.modality in _RECORDS:
        _records(version, formats, "", "")


def croissant(version: DatasetVersion, versions_url: str, formats: dict) -> dict[str, Any]:
    """The description; ``versions_url`` is the API's address of versions (``…/api/versions/``),
    ``formats`` the export registry (its record sets read exports)."""
    base_url = f"{versions_url}{version.pk}/"
    dataset = version.dataset
    synthetic = dataset.kind == Dataset.Kind.SYNTHETIC
    limitations, figures = _figures(version)
    generator = version.generator
    made_by = (f"Generated by {generator.slug} ({generator.title}, code {generator.code_version}) with parameters "
               f"{json.dumps(version.parameters, sort_keys=True)}, seed {version.seed}, revision "
               f"{version.code_revision or 'unknown'}." if generator else "Registered by upload.")
    description = {
        "@context": CONTEXT, "@type": "sc:Dataset", "conformsTo": "http://mlcommons.org/croissant/1.0",
        "name": f"{dataset.slug}-v{version.number}", "description": dataset.card or dataset.title,
        "url": base_url, "version": f"{version.number}.0.0", "datePublished": version.created_at.date().isoformat(),
        "license": dataset.license or "https://spdx.org/licenses/NOASSERTION",
        "keywords": ["synthetic data" if synthetic else "real data", dataset.modality, *dataset.tags],
        "creator": {"@type": "sc:Person", "name": dataset.owner.username},
        "citeAs": f"{dataset.title}, version {version.number}. Synthreg, {base_url}",
        "rai:dataCollectionType": ["Synthetic data" if synthetic else "Real data"],
        "rai:dataCollection": made_by,
        "rai:dataLimitations": limitations,
        "rai:personalSensitiveInformation": (
            "Synthetic: no record is a real person's; the evaluation measures how much it leaks about the "
            "real records it was fitted on." if synthetic else "Real records: restricted on the platform."),
        "prov:wasDerivedFrom": [
            {"@id": f"{versions_url}{link.parent_id}/",
             "name": str(link.parent), "synthreg:relation": link.relation}
            for link in version.parent_links.select_related("parent__dataset")],
        "distribution": [
            {"@type": "cr:FileObject", "@id": entry["path"], "name": entry["path"],
             "contentUrl": f"{base_url}files/{entry['path']}", "encodingFormat": _encoding(entry["path"]),
             "contentSize": f"{entry['size']} B", "sha256": entry["sha256"]}
            for entry in version.manifest.get("files", [])],
    }
    if dataset.modality in _RECORDS:
        sources, records = _records(version, formats, base_url, versions_url)
        description["distribution"].extend(sources)
        if records:
            description["recordSet"] = records
    if figures:
        description["synthreg:evaluation"] = figures
    return description


def write_croissant(version: DatasetVersion, versions_url: str, formats: dict) -> Iterator[bytes]:
    yield json.dumps(croissant(version, versions_url, formats), indent=1).encode()
