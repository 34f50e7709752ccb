"""The built-in formats: what the renderers, the built-in references and model jobs write."""

from __future__ import annotations

from contracts.formats.declare import (
    Array,
    Format,
    JsonFile,
    JsonLinesFile,
    NpzFile,
    PngFile,
    SafetensorsFile,
    TableFile,
)

PREVIEW = PngFile("preview.png", "a preview grid", required=False)

IMAGES = Format(
    name="images/1", title="Labelled images", modality="image", label="labels", report="image",
    references=("images/1",),
    description="One or more NPZ files of N images (N x H x W, or N x H x W x C), any resolution, "
                "with an integer label each: the digits renderer (8x8 block counts 0..16 as float64, "
                "or bitmaps as float32) and scikit-learn's digits reference.",
    files=(
        NpzFile("*.npz", "images and their labels", many=True, arrays=(
            Array("images", ("f", "u", "i"), (("N", "H", "W"), ("N", "H", "W", "C")), description="pixels"),
            Array("labels", ("i", "u"), (("N",),), description="one class label per image"),
        )),
        PREVIEW,
    ),
)

# The scenes renderer's shard arrays (generators/render/scenes/output.py): N images, K object
# slots, P keypoints per object, C bands of H x W pixels.
SCENE_ARRAYS = (
    Array("images", ("uint8",), (("N", "C", "H", "W"),), description="pixels, band axis first"),
    Array("instance_ids", ("uint8",), (("N", "H", "W"),), description="object slot + 1 per pixel, 0 background"),
    Array("semantic", ("uint8",), (("N", "H", "W"),), description="category id per pixel"),
    Array("depth", ("float32",), (("N", "H", "W"),), description="camera z, inf where nothing"),
    Array("normals", ("float16",), (("N", 3, "H", "W"),), description="surface normals, camera frame"),
    Array("amodal_masks", ("uint8",), (("N", "K", "H", "W/8"),), description="full masks, bits packed along W"),
    Array("category_id", ("int16",), (("N", "K"),), description="category per slot, 0 empty"),
    Array("role", ("uint8",), (("N", "K"),)),
    Array("visible_fraction", ("float32",), (("N", "K"),)),
    Array("visible_area", ("int32",), (("N", "K"),)),
    Array("amodal_area", ("int32",), (("N", "K"),)),
    Array("visible_boxes", ("float32",), (("N", "K", 4),), description="COCO xywh, NaN: not visible"),
    Array("amodal_boxes", ("float32",), (("N", "K", 4),)),
    Array("keypoints", ("float32",), (("N", "K", "P", 3),), description="x, y, COCO visibility"),
    Array("intrinsics", ("f",), (("N", 3, 3),)),
    Array("distortion", ("f",), (("N",),)),
    Array("pose", ("f",), (("N", 3, 4),), description="world to camera"),
    Array("scene", ("int64",), (("N",),)),
    Array("frame", ("int32",), (("N",),)),
    Array("flow", ("float32",), (("N", 2, "H", "W"),), optional=True, description="optical flow (sequences)"),
)

SCENES = Format(
    name="scenes/1", title="Scenes with dense labels", modality="scene", report="scene",  # labels: COCO and the dense keys
    # No real scene reference exists yet: the images are compared with real images (fidelity and
    # privacy); detection and segmentation TSTR wait for one.
    references=("images/1",),
    description="NPZ shards of images with dense labels (instance ids, semantics, depth, normals, "
                "amodal masks, boxes, keypoints, camera), COCO annotations, one JSON line per image.",
    files=(
        NpzFile("shards/*.npz", "image shards with dense labels", many=True, arrays=SCENE_ARRAYS),
        JsonFile("coco.json", "COCO detection, segmentation and keypoints",
                 keys=("images", "annotations", "categories")),
        JsonLinesFile("scenes.jsonl", "one scene description per image"),
        PREVIEW,
    ),
)

TABLE = Format(
    name="table/1", title="Table", modality="tabular", label="target", report="tabular", references=("table/1",),
    description="One or more Parquet (or CSV) files with the same columns: numbers, booleans, strings or "
                "categories. The label is the `target` column where there is one.",
    files=(SafetensorsFile("model/model.safetensors", "the synthesizer fitted on the rows' source",
                           required=False),
           JsonFile("model/model.json", "its parameters, schema, versions and privacy", required=False,
                    keys=("format", "class")),
           TableFile("*.parquet", "the rows", required=False, many=True),
           TableFile("*.csv", "the rows", required=False, many=True)),
)

MODEL = Format(
    name="model/1", title="Model artifact", modality="model",
    description="Weights in safetensors (its JSON header is checked; nothing is unpickled) and a JSON "
                "model card.",
    files=(SafetensorsFile("*.safetensors", "the weights", many=True),
           JsonFile("card.json", "the model card (a JSON object)")),
)

BUILTIN_FORMATS = (IMAGES, SCENES, TABLE, MODEL)
