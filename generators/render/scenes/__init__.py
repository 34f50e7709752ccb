"""Scenes renderer: objects on a ground plane seen through a randomized camera, with labels.

Library use::

    from generators.render.scenes import SCHEMA, render_scenes
    from generators.params import validate_params

    for batch in render_scenes(validate_params(SCHEMA, {"n": 100}), backgrounds=None):
        batch.images, batch.depth, batch.labels.visible_boxes, ...

    write_scenes(params, out_dir, backgrounds=images)  # the files of a job, on real backgrounds
"""

from generators.render.scenes.coco import filter_annotations
from generators.render.scenes.render import RenderedBatch, render_scenes
from generators.render.scenes.schema import SCHEMA
from generators.render.scenes.spec import SCENES_SPEC, write_scenes

__all__ = ["SCENES_SPEC", "SCHEMA", "RenderedBatch", "filter_annotations", "render_scenes", "write_scenes"]
