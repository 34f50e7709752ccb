"""A Croissant (JSON-LD) description of a version, with the responsible-AI fields filled in.

The RAI vocabulary has no yes/no synthetic flag: ``rai:dataCollectionType`` says "Synthetic data"
(or "Real data" for a reference), ``rai:dataCollection`` names the generator, its parameters,
seed and code revision, ``prov:wasDerivedFrom`` lists the parent versions, and the newest
evaluation's figures go in ``rai:dataLimitations`` (in words) and ``synthreg:evaluation``.
A table version's rows are a ``recordSet`` with a typed field per column, read from its table
files inside its archive (Croissant wants a digest for every file object: the archive has one).
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from catalog.archives import archive_index, version_zip_length
from catalog.exports.tables import table_batches
from catalog.leaderboard import entry_of
from catalog.loaders import TABLE_SUFFIXES
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


def _table_records(version: DatasetVersion, base_url: str) -> tuple[list[dict], list[dict]]:
    """A table version's rows as a record set: the table files in the version's archive (a FileObject
    with its digest, which Croissant requires) as a FileSet, and a field per column of the first file."""
    tables = [entry["path"] for entry in version.manifest.get("files", []) if entry["path"].endswith(TABLE_SUFFIXES)]
    suffixes = {path.rsplit(".", 1)[-1] for path in tables}
    batch = next(table_batches(version), None)
    if batch is None or len(suffixes) != 1:  # no rows, or Parquet and CSV mixed: no one file set reads them
        return [], []
    suffix = suffixes.pop()
    archive = {"@type": "cr:FileObject", "@id": "archive.zip", "name": "archive.zip",
               "description": "The version's files and manifest as one zip.", "contentUrl": f"{base_url}archive.zip",
               "encodingFormat": "application/zip", "contentSize": f"{version_zip_length(version)} B",
               "sha256": archive_index(version)["sha256"]}
    files = {"@type": "cr:FileSet", "@id": "table-files", "name": "table-files", "containedIn": {"@id": "archive.zip"},
             "encodingFormat": _encoding(f"x.{suffix}"), "includes": f"**/*.{suffix}"}
    fields = [{"@type": "cr:Field", "@id": f"rows/{name}", "name": name, "dataType": _data_type(batch.schema.field(name).type),
               "source": {"fileSet": {"@id": "table-files"}, "extract": {"column": name}}}
              for name in batch.schema.names]
    return [archive, files], [{"@type": "cr:RecordSet", "@id": "rows", "name": "rows",
                               "description": "Every row of the version's tables.", "field": fields}]


def croissant(version: DatasetVersion, versions_url: str) -> dict[str, Any]:
    """The description; ``versions_url`` is the API's address of versions (``…/api/versions/``)."""
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
    if dataset.modality == Modality.TABULAR:
        sources, records = _table_records(version, base_url)
        description["distribution"].extend(sources)
        if records:
            description["recordSet"] = records
    if figures:
        description["synthreg:evaluation"] = figures
    return description


def write_croissant(version: DatasetVersion, versions_url: str) -> Iterator[bytes]:
    yield json.dumps(croissant(version, versions_url), indent=1).encode()
