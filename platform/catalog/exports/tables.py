"""Rows as Arrow record batches, and Parquet, CSV and a Hugging Face layout written from them.

Every writer takes batches from a source and sends what it has written after each one, so a
version of any size goes out in the memory of one batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import yaml

from catalog import storage
from catalog.exports.images import image_batches
from catalog.exports.outbox import Outbox
from catalog.loaders import TABLE_SUFFIXES
from catalog.models import DatasetVersion, Modality
from catalog.zipstream import stream_zip

_ROWS = 65536


def table_batches(version: DatasetVersion) -> Iterator[pa.RecordBatch]:
    """The rows of every table file, in manifest order, cast to the first file's schema."""
    schema = None
    for entry in version.manifest.get("files", []):
        if not entry["path"].endswith(TABLE_SUFFIXES):
            continue
        with storage.open_version_file(version.storage_prefix, entry["path"]) as fh:
            batches = (pq.ParquetFile(fh).iter_batches(batch_size=_ROWS) if entry["path"].endswith(".parquet")
                       else pa_csv.open_csv(fh))
            for batch in batches:
                schema = schema or batch.schema
                yield batch if batch.schema == schema else batch.select(schema.names).cast(schema)


def row_batches(version: DatasetVersion) -> Iterator[pa.RecordBatch]:
    """The version as rows: a table's own, or an image version's ``image`` and ``label``."""
    return image_batches(version) if version.dataset.modality == Modality.IMAGE else table_batches(version)


def _written_by(open_writer: Callable[[Outbox, pa.Schema], object], batches: Iterator[pa.RecordBatch]
                ) -> Iterator[bytes]:
    outbox, writer = Outbox(), None
    for batch in batches:
        writer = writer or open_writer(outbox, batch.schema)
        writer.write_batch(batch)
        yield outbox.take()
    if writer is None:
        raise ValueError("the version has no rows to write")
    writer.close()
    yield outbox.take()


def write_parquet(version: DatasetVersion) -> Iterator[bytes]:
    return _written_by(pq.ParquetWriter, row_batches(version))


def write_csv(version: DatasetVersion) -> Iterator[bytes]:
    return _written_by(pa_csv.CSVWriter, table_batches(version))


HF_DATA_FILE = "data/train-00000-of-00001.parquet"


def hf_card(version: DatasetVersion) -> str:
    """README.md: YAML metadata the ``datasets`` library reads (the data files, the image feature)."""
    dataset = version.dataset
    meta = {
        "pretty_name": dataset.title,
        "tags": ["synthetic", "synthreg", *dataset.tags],
        "configs": [{"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*.parquet"}]}],
    }
    if dataset.license:
        meta["license"] = dataset.license
    if dataset.modality == Modality.IMAGE:
        meta["dataset_info"] = {"features": [{"name": "image", "dtype": "image"},
                                             {"name": "label", "dtype": "int64"}]}
    body = dataset.card or f"Version {version.number} of {dataset.slug}."
    return f"---\n{yaml.safe_dump(meta, sort_keys=False)}---\n\n# {dataset.title}\n\n{body}\n"


def write_huggingface(version: DatasetVersion) -> Iterator[bytes]:
    """A zip of README.md and the Parquet file: ``datasets.load_dataset(<folder>)`` loads it."""
    members = [("README.md", [hf_card(version).encode()]), (HF_DATA_FILE, write_parquet(version))]
    yield from stream_zip(members, modified=version.created_at)
