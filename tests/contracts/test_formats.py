"""Data formats accept what the renderers and references write, and refuse the rest with the reason."""

from __future__ import annotations

import json
import shutil
import struct
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from safetensors.numpy import save_file

from catalog.references import BUILTIN_REFERENCES
from contracts import formats
from contracts.formats import FormatError
from generators import registry
from generators.render.scenes.npz import write_npz


def rendered(tmp_path: Path, slug: str, name: str = "out", **params) -> Path:
    out = tmp_path / name
    out.mkdir(parents=True)
    registry.get(slug).run(registry.validate(slug, params), out, lambda fraction, message: None)
    return out


def digits_npz(folder: Path, images: np.ndarray, labels: np.ndarray, name: str = "digits.npz") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / name, images=images, labels=labels)
    return folder


def refused(name: str, folder: Path) -> str:
    with pytest.raises(FormatError) as error:
        formats.validate(name, folder)
    return str(error.value)


def test_the_builtin_formats_are_registered_and_an_unknown_one_names_them():
    assert {"images/1", "scenes/1", "table/1", "model/1"} <= {f.name for f in formats.FORMATS.all()}
    with pytest.raises(formats.UnknownFormat, match="unknown format 'images/9'; known formats: images/1"):
        formats.get("images/9")


def test_every_builtin_generator_declares_a_registered_format_of_its_modality():
    for spec in registry.all_specs():
        if registry.source_of(spec.slug) == "builtin":
            assert formats.get(spec.format).modality == spec.modality


# --- labelled images -------------------------------------------------------------------------


@pytest.mark.parametrize("params", [{"n": 7}, {"n": 5, "mode": "image", "resolution": 20}], ids=["8x8", "20x20"])
def test_images_accept_the_digits_renderer_at_any_resolution(tmp_path, params):
    out = rendered(tmp_path, "digits", **params)
    summary = formats.validate("images/1", out)
    with np.load(out / "digits.npz") as arrays:  # the same facts, read by loading the arrays
        assert summary["samples"] == len(arrays["labels"]) == params["n"]
        assert summary["dimensions"] == {"H": arrays["images"].shape[1], "W": arrays["images"].shape[2]}


def test_images_accept_the_builtin_digits_reference_and_colour_images(tmp_path):
    reference = next(r for r in BUILTIN_REFERENCES if r.format == "images/1")
    (tmp_path / "ref").mkdir()
    records = reference.write(tmp_path / "ref")
    assert formats.validate("images/1", tmp_path / "ref")["samples"] == records == 1797
    colour = digits_npz(tmp_path / "rgb", np.zeros((4, 6, 5, 3), np.uint8), np.arange(4))
    assert formats.validate("images/1", colour)["dimensions"] == {"H": 6, "W": 5, "C": 3}


def test_images_refuse_rows_that_do_not_line_up(tmp_path):
    folder = digits_npz(tmp_path / "x", np.zeros((1000, 8, 8)), np.zeros(999, np.int64))
    assert refused("images/1", folder) == "digits.npz: key 'labels' has 999 rows, 'images' has 1000"


@pytest.mark.parametrize(("images", "labels", "reason"), [
    (np.zeros((4, 8, 8)), np.zeros(4), "digits.npz: key 'labels' is float64; images/1 needs signed integers "
                                       "or unsigned integers"),
    (np.zeros((4, 64)), np.zeros(4, int), "digits.npz: key 'images' has shape (4, 64); images/1 needs "
                                          "(N, H, W) or (N, H, W, C)"),
    (np.zeros((4, 8, 8), bool), np.zeros(4, int), "digits.npz: key 'images' is bool; images/1 needs floats or "
                                                  "unsigned integers or signed integers"),
    (np.zeros((4, 8, 8)), np.zeros((4, 2), int), "digits.npz: key 'labels' has shape (4, 2); images/1 needs (N,)"),
], ids=["float-labels", "flat-images", "bool-images", "labels-2d"])
def test_images_refuse_wrong_dtypes_and_shapes(tmp_path, images, labels, reason):
    assert refused("images/1", digits_npz(tmp_path / "x", images, labels)) == reason


def test_images_refuse_missing_extra_and_pickled_keys(tmp_path):
    (tmp_path / "a").mkdir()
    np.savez(tmp_path / "a" / "d.npz", images=np.zeros((2, 8, 8)))
    assert refused("images/1", tmp_path / "a") == "d.npz: key 'labels' is missing (one class label per image)"
    (tmp_path / "b").mkdir()
    np.savez(tmp_path / "b" / "d.npz", images=np.zeros((2, 8, 8)), labels=np.zeros(2, int), names=np.zeros(2))
    assert refused("images/1", tmp_path / "b") == "d.npz: unexpected key(s) ['names']; images/1 has ['images', 'labels']"
    (tmp_path / "c").mkdir()
    np.savez(tmp_path / "c" / "d.npz", images=np.zeros((2, 8, 8)), labels=np.array([{}, {}], dtype=object))
    assert refused("images/1", tmp_path / "c") == ("d.npz: key 'labels' holds Python objects (a pickle); "
                                                  "arrays must be numbers")


def test_images_refuse_a_truncated_array_a_non_zip_and_stray_or_missing_files(tmp_path):
    folder = tmp_path / "t"
    folder.mkdir()
    with zipfile.ZipFile(folder / "d.npz", "w") as archive, archive.open("images.npy", "w") as member:
        np.lib.format.write_array_header_1_0(member, {"descr": "<f8", "fortran_order": False, "shape": (10, 8, 8)})
        member.write(np.zeros((9, 8, 8)).tobytes())  # a row short of what the header declares
    assert refused("images/1", folder).startswith("d.npz: key 'images' is truncated or padded: its header says "
                                                 "(10, 8, 8) float64")
    (folder / "d.npz").write_bytes(b"not a zip")
    assert refused("images/1", folder) == "d.npz: is not an NPZ file (no zip archive)"
    good = digits_npz(tmp_path / "g", np.zeros((2, 8, 8)), np.zeros(2, int))
    (good / "notes.txt").write_text("hello")
    assert refused("images/1", good) == "notes.txt: is no file of images/1 (its files: *.npz, preview.png)"
    (good / "notes.txt").unlink()
    (good / "preview.png").write_bytes(b"GIF89a")
    assert refused("images/1", good) == "preview.png: is not a PNG image"
    (tmp_path / "empty").mkdir()
    assert refused("images/1", tmp_path / "empty") == "empty/: holds no files; images/1 needs *.npz"


def test_sharded_images_are_valid_when_every_shard_is_with_the_same_size(tmp_path):
    for index, n in enumerate((3, 2)):
        digits_npz(tmp_path / "v" / f"shard-{index:05d}", np.zeros((n, 8, 8)), np.zeros(n, int))
    summary = formats.validate("images/1", tmp_path / "v")
    assert summary["samples"] == 5 and summary["shards"] == 2
    digits_npz(tmp_path / "v" / "shard-00002", np.zeros((2, 9, 8)), np.zeros(2, int))
    assert refused("images/1", tmp_path / "v") == ("shard-00002/digits.npz: key 'images' has H = 9 on axis 1; "
                                                  "shard-00000/digits.npz: key 'images' has H = 8")
    digits_npz(tmp_path / "v" / "shard-00002", np.zeros((2, 8, 8)), np.zeros(1, int))
    assert refused("images/1", tmp_path / "v") == "shard-00002/digits.npz: key 'labels' has 1 rows, 'images' has 2"


# --- scenes ----------------------------------------------------------------------------------


SCENES = {"n": 3, "width": 20, "height": 16}


@pytest.mark.parametrize("extra", [{}, {"sequence": {"frames": 2}}, {"modality": "multispectral", "channels": 5},
                                   {"modality": "infrared"}], ids=["rgb", "sequence", "multispectral", "infrared"])
def test_scenes_accept_the_renderer_in_every_variant(tmp_path, extra):
    out = rendered(tmp_path, "scenes", **SCENES, **extra)
    summary = formats.validate("scenes/1", out)
    with np.load(next((out / "shards").iterdir())) as arrays:
        assert summary["samples"] == len(arrays["images"])
        assert summary["dimensions"]["C"] == arrays["images"].shape[1]
        assert summary["dimensions"]["K"] == arrays["category_id"].shape[1]
        assert ("flow" in arrays.files) == ("sequence" in extra)


@pytest.fixture(scope="module")
def scenes_out(tmp_path_factory) -> Path:
    return rendered(tmp_path_factory.mktemp("scenes"), "scenes", **SCENES)


def scene_copy(scenes_out: Path, tmp_path: Path, change=None) -> Path:
    """A copy of the rendered scenes whose shard arrays pass through ``change(arrays)``."""
    copy = tmp_path / "copy"
    shutil.copytree(scenes_out, copy)
    if change:
        shard = next((copy / "shards").iterdir())
        with np.load(shard) as npz:
            arrays = {k: npz[k] for k in npz.files}
        change(arrays)
        write_npz(shard, arrays)
    return copy


@pytest.mark.parametrize(("change", "reason"), [
    (lambda a: a.update(depth=a["depth"].astype(np.float64)),
     "key 'depth' is float64; scenes/1 needs float32"),
    (lambda a: a.update(amodal_masks=a["amodal_masks"][..., :2]),
     "key 'amodal_masks' has 2 on axis 3; W/8 is 3 (W = 20)"),
    (lambda a: a.update(semantic=a["semantic"][:, :8]),
     "key 'semantic' has H = 8 on axis 1; shards/scenes-00000.npz: key 'images' has H = 16"),
    (lambda a: a.update(keypoints=a["keypoints"][:2]), "key 'keypoints' has 2 rows, 'images' has 3"),
    (lambda a: a.pop("pose"), "key 'pose' is missing (world to camera)"),
], ids=["depth-dtype", "packed-width", "semantic-height", "keypoint-rows", "no-pose"])
def test_scenes_refuse_wrong_dense_labels(scenes_out, tmp_path, change, reason):
    assert refused("scenes/1", scene_copy(scenes_out, tmp_path, change)).endswith(reason)


def test_scenes_refuse_missing_coco_bad_coco_and_a_short_index(scenes_out, tmp_path):
    copy = scene_copy(scenes_out, tmp_path)
    (copy / "coco.json").rename(copy / "other.json")
    assert refused("scenes/1", copy) == "coco.json: is missing (COCO detection, segmentation and keypoints)"
    (copy / "other.json").rename(copy / "coco.json")
    coco = json.loads((copy / "coco.json").read_text())
    (copy / "coco.json").write_text(json.dumps({k: v for k, v in coco.items() if k != "annotations"}))
    assert refused("scenes/1", copy) == "coco.json: lacks the key(s) ['annotations']"
    (copy / "coco.json").write_text(json.dumps(coco))
    lines = (copy / "scenes.jsonl").read_text().splitlines(keepends=True)
    (copy / "scenes.jsonl").write_text("".join(lines[:-1]))
    assert refused("scenes/1", copy) == "scenes.jsonl: has 2 lines; the folder holds 3 samples"


# --- tables ----------------------------------------------------------------------------------


@pytest.mark.parametrize("reference", [r for r in BUILTIN_REFERENCES if r.format == "table/1"], ids=lambda r: r.slug)
def test_tables_accept_every_builtin_table_reference(tmp_path, reference):
    records = reference.write(tmp_path)
    summary = formats.validate("table/1", tmp_path)
    frame = pd.read_parquet(tmp_path / "data.parquet")  # read another way: the whole table
    assert summary["samples"] == records == len(frame)
    assert list(summary["columns"]) == list(frame.columns)
    assert summary["label"] == ("target" if "target" in frame.columns else None)


def test_tables_accept_csv_and_categories_and_refuse_what_is_no_table(tmp_path):
    frame = pd.DataFrame({"a": [1.5, 2.0], "kind": pd.Categorical(["x", "y"]), "ok": [True, False], "target": [0, 1]})
    frame.to_parquet(tmp_path / "data.parquet", index=False)
    frame.to_csv(tmp_path / "more.csv", index=False)
    summary = formats.validate("table/1", tmp_path)
    assert summary["columns"]["kind"].startswith("dictionary") and summary["label"] == "target"
    pd.DataFrame({"a": [1.0], "b": [2.0]}).to_parquet(tmp_path / "data.parquet", index=False)
    assert refused("table/1", tmp_path).startswith("more.csv: its columns ['a', 'kind', 'ok', 'target'] differ "
                                                  "from data.parquet's ['a', 'b']")
    (tmp_path / "more.csv").unlink()
    pd.DataFrame({"a": [[1, 2]]}).to_parquet(tmp_path / "data.parquet", index=False)
    assert refused("table/1", tmp_path) == ("data.parquet: column 'a' is list<element: int64>; table/1 columns are "
                                            "numbers, booleans, strings, categories, dates or times")
    (tmp_path / "data.parquet").write_bytes(b"PAR1 but not really")
    assert refused("table/1", tmp_path) == "data.parquet: is not a readable Parquet table (ArrowInvalid)"


# --- model artifacts -------------------------------------------------------------------------


def model_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    save_file({"w": np.ones((3, 4), np.float32), "b": np.zeros(4, np.float16)}, str(folder / "model.safetensors"))
    (folder / "card.json").write_text(json.dumps({"name": "tiny"}))
    return folder


def test_models_accept_safetensors_written_by_the_library_with_a_card(tmp_path):
    assert formats.validate("model/1", model_folder(tmp_path))["tensors"] == 2


def rewrite_header(path: Path, change) -> None:
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = change(json.loads(data[8: 8 + length]))
    encoded = json.dumps(header).encode() if not isinstance(header, bytes) else header
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + data[8 + length:])


@pytest.mark.parametrize(("change", "reason"), [
    (lambda h: b"{not json", "its header is not JSON"),
    (lambda h: h | {"w": {**h["w"], "dtype": "F128"}}, "tensor 'w' has no known dtype"),
    (lambda h: h | {"w": {**h["w"], "shape": [3, 5]}}, "tensor 'w' spans 48 bytes; F32 [3, 5] needs 60"),
    (lambda h: h | {"b": {**h["b"], "data_offsets": [0, 8]}}, "tensors overlap or leave a gap at byte 8 of the data"),
], ids=["not-json", "dtype", "shape-vs-span", "overlap"])
def test_models_refuse_a_bad_safetensors_header_without_loading_it(tmp_path, change, reason):
    folder = model_folder(tmp_path)
    rewrite_header(folder / "model.safetensors", change)
    assert reason in refused("model/1", folder)


def test_models_refuse_a_truncated_file_a_huge_header_and_a_missing_or_bad_card(tmp_path):
    folder = model_folder(tmp_path)
    weights = folder / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[:-4])
    assert refused("model/1", folder).startswith("model.safetensors: the tensors end at byte")
    weights.write_bytes(struct.pack("<Q", 2**40) + data[8:])
    assert refused("model/1", folder).startswith("model.safetensors: declares a 1,099,511,627,776-byte header")
    weights.write_bytes(data)
    (folder / "card.json").write_text("[1, 2]")
    assert refused("model/1", folder) == "card.json: is not a JSON object"
    (folder / "card.json").unlink()
    assert refused("model/1", folder) == "card.json: is missing (the model card (a JSON object))"


def test_a_format_error_discloses_no_values():
    assert FormatError.discloses_no_values is True
