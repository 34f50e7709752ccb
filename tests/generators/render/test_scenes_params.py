"""Scenes parameters: registration, errors naming the parameter, modalities, backgrounds."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from generators import registry
from generators.params import ParameterError, validate_params
from generators.render.scenes import SCENES_SPEC, SCHEMA, render_scenes
from generators.render.scenes.catalog import CATEGORIES
from generators.render.scenes.scene import ROLE_TARGET
from tests.generators.render.scenes_support import FLAT, only, params, render


def test_registered_as_a_scene_renderer() -> None:
    spec = registry.get("scenes")
    assert spec is SCENES_SPEC and spec.kind == "renderer" and spec.modality == "scene"
    defaults = registry.validate("scenes", {})
    assert {"n", "seed"} <= set(defaults) and defaults["camera"]["fov_deg"]["distribution"] == "uniform"
    assert (defaults["camera"]["fov_deg"]["low"], defaults["camera"]["fov_deg"]["high"]) == (45, 65)


@pytest.mark.parametrize(("given", "field"), [
    ({"modality": "xray"}, "modality"),
    ({"camera": {"fov_deg": {"low": 5, "high": 60}}}, "camera.fov_deg.low"),
    ({"camera": {"fov_deg": {"distribution": "gamma"}}}, "camera.fov_deg.distribution"),
    ({"camera": {"zoom": 2}}, "camera.zoom"),
    ({"objects": {"count": {"low": 1.5}}}, "objects.count.low"),
    ({"objects": {"count": {"distribution": "normal"}}}, "objects.count.distribution"),
    ({"width": 4}, "width"),
    ({"lighting": {"type": {"weights": {"laser": 1}}}}, "lighting.type.weights.laser"),
])
def test_schema_errors_name_the_parameter(given: dict[str, Any], field: str) -> None:
    with pytest.raises(ParameterError) as error:
        registry.validate("scenes", given)
    assert error.value.field == field


@pytest.mark.parametrize(("given", "field"), [
    ({"objects": {"count": {"low": 5, "high": 2}}}, "objects.count.low"),
    ({"background": {"texture": {"weights": {"checker": 0}}}}, "background.texture.weights"),
])
def test_inconsistent_distributions_name_the_parameter(given: dict[str, Any], field: str) -> None:
    with pytest.raises(ParameterError) as error:
        registry.validate("scenes", given)  # before a job is queued
    assert error.value.field == field
    with pytest.raises(ParameterError) as error:  # and for library callers
        next(render_scenes(validate_params(SCHEMA, given)))
    assert error.value.field == field


def test_bad_backgrounds_are_refused() -> None:
    with pytest.raises(ParameterError) as error:
        next(render_scenes(params(), backgrounds=np.zeros((4, 4))))
    assert error.value.field == "backgrounds"


@pytest.mark.parametrize(("modality", "channels"), [("rgb", 3), ("grayscale", 1), ("infrared", 1),
                                                    ("multispectral", 6)])
def test_modalities_set_the_channels(modality: str, channels: int) -> None:
    part = render(params(n=4, modality=modality, channels=6))[0]
    assert part.images.shape == (4, channels, 64, 64)
    assert part.images.std() > 0


def test_infrared_objects_are_warmer_than_the_ground() -> None:
    part = render(params(n=8, modality="infrared", **{k: v for k, v in FLAT.items() if k != "lighting"}))[0]
    image = part.images[:, 0].astype(float)
    targets = np.isin(part.instance_ids, np.arange(1, 7))
    assert image[targets].mean() > image[part.instance_ids == 0].mean() + 40


def test_provided_backgrounds_replace_the_ground() -> None:
    backgrounds = np.full((2, 20, 30, 3), 200, dtype=np.uint8)
    backgrounds[1] = 90
    part = render(params(n=6, **FLAT), backgrounds=backgrounds)[0]
    ground = part.instance_ids == 0
    values = part.images.transpose(0, 2, 3, 1)[ground]
    assert set(np.unique(values)) <= {89, 90, 91, 199, 200, 201}
    assert np.isinf(part.depth[ground]).all()
    # Objects are still drawn on top, with their labels.
    assert (part.labels.visible_area.sum(1) > 0).all()


def test_one_light_changes_shading_across_an_object() -> None:
    lit = params(n=8, lighting={"type": only("point"), "height": {"low": 3, "high": 3}},
                 surface={"relief": {"low": 1, "high": 1}, "pattern": only("plain"), "specular": {"low": 0, "high": 0}},
                 camera={"noise_std": {"low": 0, "high": 0}})
    part = render(lit)[0]
    spreads = [part.images[i, :, part.instance_ids[i] == k].std()
               for i in range(8) for k in range(1, 7) if (part.instance_ids[i] == k).sum() > 30]
    assert np.median(spreads) > 3


def target_categories(p: dict[str, Any]) -> set[str]:
    names = {category.id: category.name for category in CATEGORIES}
    objects = render(p)[0].batch.objects
    return {names[int(c)] for c in objects.category[objects.active & (objects.role == ROLE_TARGET)]}


def test_object_digits_and_shapes_are_drawn_by_their_weights() -> None:
    assert target_categories(params(n=8)) >= {"3", "square"}
    assert target_categories(params(n=8, objects={"classes": only("digits"), "digits": only("7")})) == {"7"}
    shapes = {"classes": only("shapes"), "shapes": {"weights": {"star": 1, "circle": 1}}}
    assert target_categories(params(n=8, objects=shapes)) == {"star", "circle"}


def test_the_background_image_attribute_picks_the_provided_image() -> None:
    backgrounds = np.zeros((3, 8, 8), dtype=np.uint8)
    for position, index in ((0.0, 0), (0.5, 1), (1.0, 2)):
        p = params(n=4, background={"image": {"distribution": "constant", "value": position}})
        assert (render(p, backgrounds)[0].batch.background_index == index).all()
    spread = render(params(n=40), backgrounds)[0].batch.background_index
    assert set(spread.tolist()) == {0, 1, 2}
