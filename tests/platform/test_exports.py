"""Every version in standard formats, streamed: read back by their own libraries, never by ours."""

import io
import json
import shutil
import tarfile
import tempfile
import tracemalloc
import zipfile
from pathlib import Path

import mlcroissant
import numpy as np
import pandas as pd
import pytest
import webdataset
import yaml
from PIL import Image
from pycocotools.coco import COCO

from catalog.generator_rows import sync_generator
from catalog.models import Dataset, DatasetVersion, Evaluation, VersionParent
from catalog.publish import publish_version
from generators import registry
from generators.render.digits import render
from tests.platform.test_access import client_for
from tests.support.tables import noise_table

pytestmark = pytest.mark.django_db


def publish(owner, slug, modality, write_files, access="private", parameters=None, kind="synthetic", generator=None):
    dataset = Dataset.objects.create(slug=slug, title=slug.title(), modality=modality, kind=kind, access=access,
                                     owner=owner, license="CC-BY-4.0", card="Made for the export tests.")
    staging = Path(tempfile.mkdtemp())
    try:
        write_files(staging)
        return publish_version(dataset=dataset, staging=staging, key=f"k-{slug}", claim=lambda: None, samples=1,
                               parameters=parameters or {}, seed=5, generator=generator)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def digit_shards(sizes, mode="8x8"):
    """Two renders, one a shard folder, as a sharded digits job publishes them; and what they hold."""
    rendered = [render({"n": n, "seed": i, "mode": mode}) for i, n in enumerate(sizes)]

    def write(staging):
        for i, (images, labels) in enumerate(rendered):
            (staging / f"shard-{i:05d}").mkdir()
            np.savez(staging / f"shard-{i:05d}" / "digits.npz", images=images, labels=labels)
    return write, np.concatenate([r[0] for r in rendered]), np.concatenate([r[1] for r in rendered])


@pytest.fixture
def digits(user):
    write, images, labels = digit_shards([30, 23])
    version = publish(user, "export-digits", "image", write, parameters={"mode": "8x8", "n": 53},
                      generator=sync_generator(registry.get("digits")))
    return version, images, labels


def fetch(client, version, name, **headers):
    response = client.get(f"/api/versions/{version.pk}/formats/{name}", **headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def block_counts(png: bytes) -> np.ndarray:
    """The 8x8 values back from a PNG (0..16 drawn as 0..255)."""
    return np.rint(np.asarray(Image.open(io.BytesIO(png)), dtype=np.float64) * 16 / 255)


def test_webdataset_reads_the_tar_back_with_identical_pixels_and_labels(api, digits, tmp_path):
    version, images, labels = digits
    response, body = fetch(api, version, "webdataset")
    assert response.status_code == 200 and response["Content-Type"] == "application/x-tar"
    assert response["Content-Disposition"] == 'attachment; filename="export-digits-v1-webdataset.tar"'
    (tmp_path / "shard.tar").write_bytes(body)
    samples = list(webdataset.WebDataset(str(tmp_path / "shard.tar"), shardshuffle=False))
    assert [s["__key__"] for s in samples] == [f"{i:08d}" for i in range(len(labels))]
    assert [int(s["cls"]) for s in samples] == labels.tolist()
    assert np.array_equal(np.stack([block_counts(s["png"]) for s in samples]), images)


def test_webdataset_shards_load_with_webdataset_as_one_brace_pattern(api, digits, tmp_path, monkeypatch):
    from catalog.exports import images as image_export

    monkeypatch.setattr(image_export, "SHARD_SAMPLES", 20)  # 53 samples: 20, 20 (across the two files), 13
    version, images, labels = digits
    response, body = fetch(api, version, "webdataset-shards")
    index = json.loads(body)
    assert index["__kind__"] == "wids-shard-index-v1"
    assert [s["nsamples"] for s in index["shardlist"]] == [20, 20, 13]
    names = [s["url"].rsplit("/", 1)[-1] for s in index["shardlist"]]
    assert names == [f"export-digits-v1-{i:06d}.tar" for i in range(3)]
    assert index["url_pattern"].endswith("/webdataset/export-digits-v1-{000000..000002}.tar")
    for shard in index["shardlist"]:
        got = api.get(shard["url"])
        assert got.status_code == 200 and got["Content-Type"] == "application/x-tar" and got["ETag"]
        (tmp_path / shard["url"].rsplit("/", 1)[-1]).write_bytes(b"".join(got.streaming_content))
    pattern = str(tmp_path / index["url_pattern"].rsplit("/", 1)[-1])
    samples = list(webdataset.WebDataset(pattern, shardshuffle=False))
    assert [s["__key__"] for s in samples] == [f"{i:08d}" for i in range(len(labels))]
    assert [int(s["cls"]) for s in samples] == labels.tolist()
    assert np.array_equal(np.stack([block_counts(s["png"]) for s in samples]), images)
    missing = api.get(f"/api/versions/{version.pk}/webdataset/export-digits-v1-000003.tar")
    assert missing.status_code == 404 and "000000.tar to export-digits-v1-000002.tar" in missing.json()["detail"]


def test_the_png_zip_holds_every_image_and_its_label(api, digits):
    version, images, labels = digits
    _, body = fetch(api, version, "png")
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert archive.testzip() is None
    table = pd.read_csv(archive.open("labels.csv"))
    assert table["label"].tolist() == labels.tolist()
    decoded = np.stack([block_counts(archive.read(name)) for name in table["file_name"]])
    assert np.array_equal(decoded, images)


def test_image_mode_bitmaps_are_black_and_white(api, user):
    write, images, labels = digit_shards([12], mode="image")
    version = publish(user, "export-bitmaps", "image", write, parameters={"mode": "image"})
    _, body = fetch(api, version, "png")
    archive = zipfile.ZipFile(io.BytesIO(body))
    pixels = np.stack([np.asarray(Image.open(archive.open(f"images/{i:08d}.png"))) for i in range(12)])
    assert set(np.unique(pixels)) <= {0, 255} and np.array_equal(pixels == 255, images > 0.5)


@pytest.fixture
def tables(user):
    first, second = noise_table(rows=70, seed=1), noise_table(rows=45, seed=2)

    def write(staging):
        first.to_parquet(staging / "part-0.parquet", index=False)
        second.to_csv(staging / "part-1.csv", index=False)
    return publish(user, "export-table", "tabular", write), pd.concat([first, second], ignore_index=True)


@pytest.fixture
def load_offline(tmp_path, monkeypatch):
    """``datasets.load_dataset`` of a local folder with no network and nothing written outside tmp_path."""
    home = tmp_path / "home"
    for name, value in {"HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "HOME": str(home),
                        "HF_HOME": str(home / "hf"), "HF_DATASETS_CACHE": str(home / "hf" / "datasets")}.items():
        monkeypatch.setenv(name, value)
    import datasets
    import huggingface_hub.constants

    # The libraries read these at their first import, which may have come before this test's variables.
    for name, value in {"HF_DATASETS_OFFLINE": True, "HF_HUB_OFFLINE": True, "HF_CACHE_HOME": str(home / "hf"),
                        "HF_DATASETS_CACHE": home / "hf" / "datasets", "HF_MODULES_CACHE": home / "hf" / "modules",
                        "DOWNLOADED_DATASETS_PATH": home / "hf" / "datasets" / "downloads",
                        "EXTRACTED_DATASETS_PATH": home / "hf" / "datasets" / "downloads" / "extracted"}.items():
        monkeypatch.setattr(datasets.config, name, value)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)

    def load(folder: Path):
        return datasets.load_dataset(str(folder), cache_dir=str(home / "hf" / "datasets"))
    return load


def unzipped_huggingface(api, version, folder: Path) -> dict:
    """The ``huggingface`` export unzipped into ``folder``; its card's YAML metadata."""
    response, body = fetch(api, version, "huggingface")
    assert response.status_code == 200
    zipfile.ZipFile(io.BytesIO(body)).extractall(folder)
    return yaml.safe_load((folder / "README.md").read_text().split("---\n")[1])


def test_the_huggingface_layout_of_images_loads_with_datasets(api, digits, tmp_path, load_offline):
    version, images, labels = digits
    meta = unzipped_huggingface(api, version, tmp_path / "export")
    assert meta["license"] == "CC-BY-4.0" and "synthetic" in meta["tags"]
    loaded = load_offline(tmp_path / "export")
    assert list(loaded) == ["train"]
    train = loaded["train"]
    assert type(train.features["image"]).__name__ == "Image"  # decoded as images, from the card's features
    assert train["label"] == labels.tolist()
    pixels = np.stack([np.rint(np.asarray(image, dtype=np.float64) * 16 / 255) for image in train["image"]])
    assert np.array_equal(pixels, images)


def test_the_huggingface_layout_of_a_table_loads_with_datasets(api, tables, tmp_path, load_offline):
    version, expected = tables
    unzipped_huggingface(api, version, tmp_path / "export")
    train = load_offline(tmp_path / "export")["train"]
    assert train.column_names == list(expected.columns)
    pd.testing.assert_frame_equal(train.to_pandas(), expected, check_exact=False, rtol=1e-12)


@pytest.mark.parametrize(("name", "read"), [("parquet", pd.read_parquet), ("csv", pd.read_csv)])
def test_tables_come_as_one_parquet_or_csv_file(api, tables, name, read):
    version, expected = tables
    response, body = fetch(api, version, name)
    assert response.status_code == 200
    pd.testing.assert_frame_equal(read(io.BytesIO(body)), expected, check_exact=False, rtol=1e-12)


def scene_shards():
    spec = registry.get("scenes")

    def write(staging):
        for i, seed in enumerate((3, 4)):
            out = staging / f"shard-{i:05d}"
            out.mkdir()
            spec.run(registry.validate("scenes", {"n": 5, "seed": seed, "width": 48, "height": 48,
                                                  "min_visible_fraction": 0.0}), out, lambda *_: None)
    return write


def test_scenes_get_one_coco_file_merged_across_shards(api, user, tmp_path):
    version = publish(user, "export-scenes", "scene", scene_shards())
    assert fetch(api, version, "png")[0].status_code == 404  # images only
    per_shard = [json.loads(b"".join(api.get(f"/api/versions/{version.pk}/files/shard-0000{i}/coco.json")
                                     .streaming_content)) for i in (0, 1)]
    assert per_shard[0]["images"][0]["id"] == per_shard[1]["images"][0]["id"] == 1  # the ids collide
    response, body = fetch(api, version, "coco")
    assert response.status_code == 200
    merged = json.loads(body)
    image_ids = [image["id"] for image in merged["images"]]
    annotation_ids = [a["id"] for a in merged["annotations"]]
    assert len(image_ids) == len(set(image_ids)) == sum(len(s["images"]) for s in per_shard)
    assert len(annotation_ids) == len(set(annotation_ids)) == sum(len(s["annotations"]) for s in per_shard) > 0
    assert {a["image_id"] for a in merged["annotations"]} <= set(image_ids)
    tracks = [(a["image_id"] > len(per_shard[0]["images"]), a["track_id"]) for a in merged["annotations"]]
    assert not {t for first, t in tracks if first} & {t for first, t in tracks if not first}
    paths = {f["path"] for f in version.manifest["files"]}
    assert {image["file_name"] for image in merged["images"]} <= paths
    # The second shard's first image is its own first image, renumbered.
    second = merged["images"][len(per_shard[0]["images"])]
    assert {k: v for k, v in second.items() if k not in ("id", "file_name", "scene")} == \
        {k: v for k, v in per_shard[1]["images"][0].items() if k not in ("id", "file_name", "scene")}
    (tmp_path / "coco.json").write_bytes(body)
    assert len(COCO(str(tmp_path / "coco.json")).getAnnIds()) == len(annotation_ids)


def exported_file(api, description, version, tmp_path) -> tuple[dict, dict]:
    """The record sets' file object (an export) and a mapping of it to the export as downloaded, for
    mlcroissant to read offline (it checks the file's digest)."""
    [file] = [d for d in description["distribution"] if "/formats/" in d["contentUrl"]]
    name = file["contentUrl"].rsplit("/", 1)[-1]
    assert file["contentUrl"].endswith(f"/api/versions/{version.pk}/formats/{name}")
    (tmp_path / file["@id"]).write_bytes(fetch(api, version, name)[1])
    return file, {file["@id"]: str(tmp_path / file["@id"])}


def test_a_table_croissant_has_a_record_set_of_typed_columns_that_mlcroissant_reads(api, user, tmp_path):
    frame = noise_table(rows=40, seed=3).assign(name=lambda f: [f"row {i}" for i in range(len(f))], flag=True)

    def write(staging):
        frame.iloc[:25].to_parquet(staging / "data.parquet", index=False)
        frame.iloc[25:].to_csv(staging / "more.csv", index=False)  # Parquet and CSV: one export reads both
    version = publish(user, "croissant-table", "tabular", write)
    description = json.loads(fetch(api, version, "croissant")[1])
    _, mapping = exported_file(api, description, version, tmp_path)
    dataset = mlcroissant.Dataset(jsonld=description, mapping=mapping)
    assert not dataset.metadata.ctx.issues.errors
    # Every column is a field, typed as pandas sees it.
    kinds = {"float64": "sc:Float", "int64": "sc:Integer", "object": "sc:Text", "bool": "sc:Boolean"}
    fields = description["recordSet"][0]["field"]
    assert {f["name"]: f["dataType"] for f in fields} == {c: kinds[str(t)] for c, t in frame.dtypes.items()}
    read = pd.DataFrame([{k.removeprefix("rows/"): v for k, v in r.items()} for r in dataset.records(record_set="rows")])
    read["name"] = read["name"].str.decode("utf-8")
    pd.testing.assert_frame_equal(read[list(frame.columns)], frame, check_exact=False, rtol=1e-12, check_dtype=False)


def test_an_image_croissant_has_a_record_set_that_mlcroissant_reads_from_the_parquet_export(api, digits, tmp_path,
                                                                                           monkeypatch):
    from catalog.exports import tables as tables_export

    version, images, labels = digits
    description = json.loads(fetch(api, version, "croissant")[1])
    file, mapping = exported_file(api, description, version, tmp_path)
    assert file["contentUrl"].endswith("/formats/parquet")
    dataset = mlcroissant.Dataset(jsonld=description, mapping=mapping)
    assert not dataset.metadata.ctx.issues.errors
    records = list(dataset.records(record_set="samples"))
    assert [r["samples/label"] for r in records] == labels.tolist()
    pixels = np.stack([np.rint(np.asarray(r["samples/image"], dtype=np.float64) * 16 / 255) for r in records])
    assert np.array_equal(pixels, images)
    # The digest is computed once and kept: a second description does not write the export again.
    monkeypatch.setattr(tables_export, "write_parquet", lambda version: pytest.fail("the export written again"))
    again = json.loads(fetch(api, version, "croissant")[1])
    assert next(d for d in again["distribution"] if d["@id"] == file["@id"]) == file


def test_a_job_keeps_the_digest_of_its_record_sets_export_on_publishing(user, api, monkeypatch):
    from catalog.exports import tables as tables_export
    from jobs import runner, service

    job = service.submit(user, "generate", {"generator": "digits", "params": {"n": 30, "mode": "8x8"}})
    runner.execute(str(job.pk))
    version = DatasetVersion.objects.get(job=job)
    [digest] = version.export_digests.values()
    monkeypatch.setattr(tables_export, "write_parquet", lambda version: pytest.fail("the export written again"))
    description = json.loads(fetch(api, version, "croissant")[1])
    assert description["recordSet"] and digest["sha256"] in {d["sha256"] for d in description["distribution"]}


def test_a_scenes_croissant_has_a_record_set_of_its_images_read_from_the_merged_coco_file(api, user, tmp_path):
    version = publish(user, "croissant-scenes", "scene", scene_shards())
    description = json.loads(fetch(api, version, "croissant")[1])
    file, mapping = exported_file(api, description, version, tmp_path)
    assert file["contentUrl"].endswith("/formats/coco")
    dataset = mlcroissant.Dataset(jsonld=description, mapping=mapping)
    assert not dataset.metadata.ctx.issues.errors
    records = [(r["images/id"], r["images/file_name"].decode(), r["images/width"], r["images/height"])
               for r in dataset.records(record_set="images")]
    merged = json.loads((tmp_path / file["@id"]).read_bytes())["images"]
    assert records == [(i["id"], i["file_name"], i["width"], i["height"]) for i in merged] and len(records) == 10


def test_croissant_validates_and_carries_the_responsible_ai_fields(api, user, digits, tmp_path):
    version, _, _ = digits
    reference = publish(user, "export-real", "image", digit_shards([5])[0], kind="reference")
    VersionParent.objects.create(child=version, parent=reference, relation="tuned-on")
    Evaluation.objects.create(version=version, reference=reference, evaluation_version="3",
                              results={"utility": {"tstr": {"mean": 0.8123}, "trtr": {"mean": 0.95}, "ratio": 0.855,
                                                   "metric": "accuracy"},
                                       "summary": {"quality_score": 0.7, "privacy_score": 0.9},
                                       "verdict": {"privacy_gate": "pass"}})
    response, body = fetch(api, version, "croissant")
    assert response.status_code == 200 and response["Content-Type"] == "application/ld+json"
    description = json.loads(body)
    dataset = mlcroissant.Dataset(jsonld=description)  # raises on any validation error; offline
    assert not dataset.metadata.ctx.issues.errors
    assert description["rai:dataCollectionType"] == ["Synthetic data"]
    assert "Generated by digits" in description["rai:dataCollection"]
    assert 'seed 5' in description["rai:dataCollection"] and '"mode": "8x8"' in description["rai:dataCollection"]
    assert description["prov:wasDerivedFrom"][0]["@id"].endswith(f"/api/versions/{reference.pk}/")
    assert description["synthreg:evaluation"]["tstr"] == 0.8123
    assert description["synthreg:evaluation"]["privacy_gate"] == "pass"
    assert "tstr 0.812" in description["rai:dataLimitations"]
    shas = {d["name"]: d["sha256"] for d in description["distribution"]}
    assert shas.pop("export-digits-v1-parquet.parquet")  # the record set's source, beside the version's files
    assert shas == {f["path"]: f["sha256"] for f in version.manifest["files"]}
    # Its figures change with a new evaluation, and so does its ETag (the files' ETags do not).
    etags = {name: api.head(f"/api/versions/{version.pk}/formats/{name}")["ETag"] for name in ("croissant", "png")}
    Evaluation.objects.create(version=version, reference=reference, results={})
    assert api.head(f"/api/versions/{version.pk}/formats/croissant")["ETag"] != etags["croissant"]
    assert api.head(f"/api/versions/{version.pk}/formats/png")["ETag"] == etags["png"]


def test_the_version_lists_its_formats_and_head_and_etags_work(api, digits):
    version, _, _ = digits
    listed = api.get(f"/api/versions/{version.pk}/").json()["formats"]
    assert [f["name"] for f in listed] == ["png", "webdataset", "webdataset-shards", "parquet", "huggingface",
                                           "croissant"]
    url = listed[1]["download"]
    got, head = api.get(url), api.head(url)
    assert head.status_code == 200 and head.content == b""
    names = ("ETag", "Content-Type", "Content-Disposition", "Accept-Ranges")
    assert {n: head[n] for n in names} == {n: got[n] for n in names}
    assert api.get(url, HTTP_IF_NONE_MATCH=got["ETag"]).status_code == 304
    assert got["ETag"] != api.get(listed[0]["download"])["ETag"]


def test_a_format_the_version_has_not_is_404_naming_those_it_has(api, tables):
    version, _ = tables
    response = api.get(f"/api/versions/{version.pk}/formats/webdataset")
    assert response.status_code == 404
    assert "parquet, csv, huggingface, croissant" in response.json()["detail"]


def test_restricted_data_has_no_export_at_all(user):
    write, _, _ = digit_shards([6])
    version = publish(user, "export-restricted", "image", write, access="restricted", kind="reference")
    client = client_for(user)
    listed = client.get(f"/api/versions/{version.pk}/").json()["formats"]
    assert listed and not any("download" in f for f in listed)
    for name in ["png", "webdataset", "parquet", "huggingface", "croissant", "nonexistent"]:
        for method in ("get", "head"):
            response = getattr(client, method)(f"/api/versions/{version.pk}/formats/{name}")
            assert response.status_code == 403, (name, method)
            assert "ETag" not in response


def test_a_large_export_streams_in_flat_memory(api, user):
    images = np.random.default_rng(0).random((5000, 32, 32), dtype=np.float32)  # 20 MB
    labels = np.arange(5000) % 10

    def write(staging):
        np.savez(staging / "digits.npz", images=images, labels=labels)
    version = publish(user, "export-large", "image", write, parameters={"mode": "image"})
    tracemalloc.start()
    try:
        response = api.get(f"/api/versions/{version.pk}/formats/webdataset")
        names = _tar_names(_Chunks(response.streaming_content))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert names == 2 * len(labels)
    assert peak < images.nbytes / 4, f"peak {peak} bytes for {images.nbytes} bytes of images"


def _tar_names(stream) -> int:
    """How many members a tar stream has, header by header (``TarFile`` would keep them all)."""
    count = 0
    while (header := stream.read(tarfile.BLOCKSIZE)) and header.strip(b"\0"):
        size = tarfile.TarInfo.frombuf(header, "utf-8", "surrogateescape").size
        stream.read(-(-size // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE)
        count += 1
    return count


class _Chunks(io.RawIOBase):
    """A response's chunks as a file, read once."""

    def __init__(self, chunks) -> None:
        self._chunks, self._left = iter(chunks), b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._left:
            self._left = next(self._chunks, None)
            if self._left is None:
                self._left = b""
                return 0
        count = min(len(buffer), len(self._left))
        buffer[:count], self._left = self._left[:count], self._left[count:]
        return count
