"""The built-in renderers' estimates, part by part, and the sizes their validation refuses."""

import numpy as np
import pytest

from generators import registry
from generators.params import ParameterError
from generators.render.scenes import estimate as scenes_estimate
from generators.render.scenes import render as scenes_render
from generators.render.scenes.output import shard_name


def test_scenes_shards_have_the_declared_layout_and_size_to_the_byte(tmp_path, monkeypatch):
    monkeypatch.setattr(scenes_render, "CHUNK_PIXELS", 3 * 2 * 24 * 16)  # 3 scenes of 2 frames a shard
    params = registry.validate("scenes", {"n": 7, "width": 24, "height": 16, "sequence": {"frames": 2},
                                          "modality": "multispectral", "channels": 4})
    registry.get("scenes").run(params, tmp_path, lambda fraction, message: None)
    shards = sorted((tmp_path / "shards").iterdir())
    assert [p.relative_to(tmp_path).as_posix() for p in shards] == [shard_name(i) for i in range(3)]
    layout = scenes_estimate.shard_layout(params)
    with np.load(shards[-1]) as last:  # the short one: 1 scene
        assert {name: (last[name].shape[1:], last[name].dtype) for name in last.files} == \
            {name: (shape, np.dtype(dtype)) for name, (shape, dtype) in layout.items()}
        assert len(last["images"]) == 2
    assert scenes_estimate.shards_bytes(params) == sum(p.stat().st_size for p in shards)


def test_digits_estimate_is_the_file_size_to_the_byte(tmp_path):
    for params in ({"n": 3}, {"n": 5, "mode": "image", "resolution": 12}):
        spec, filled = registry.get("digits"), registry.validate("digits", params)
        spec.run(filled, tmp_path, lambda fraction, message: None)
        assert spec.estimate(filled).output_bytes == (tmp_path / "digits.npz").stat().st_size


def test_the_default_scenes_run_is_small():
    assert scenes_estimate.estimate(registry.validate("scenes", {})).output_bytes < 50e6


@pytest.mark.parametrize("params", [
    {"n": 10**7, "width": 1024, "height": 1024, "modality": "multispectral", "channels": 16},
    {"n": 10**6, "width": 1024, "height": 1024, "modality": "multispectral", "channels": 16},
    {"n": 10**6, "sequence": {"frames": 64}},
])
def test_scenes_validation_refuses_absurd_sizes_naming_n(params):
    with pytest.raises(ParameterError) as refused:
        registry.validate("scenes", params)
    assert refused.value.field == "n"


def test_digits_validation_refuses_absurd_sizes_naming_n():
    registry.validate("digits", {"n": 10**7})  # 5 GB of 8x8 digits: large, but meant
    with pytest.raises(ParameterError) as refused:
        registry.validate("digits", {"n": 10**6, "mode": "image", "resolution": 1024})
    assert refused.value.field == "n" and "resolution" in refused.value.message
