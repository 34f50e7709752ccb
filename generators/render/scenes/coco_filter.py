"""Filtering a COCO file written by :class:`~generators.render.scenes.coco.CocoStream` as a stream.

The writer puts one image or annotation per line, so a download can drop barely visible
objects line by line, in constant memory, whatever the file's size.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

ANNOTATIONS_OPEN = '], "annotations": ['


def filter_coco_lines(lines: Iterable[str], min_visible_fraction: float) -> Iterator[str]:
    """Yield the file's text with annotations below ``min_visible_fraction`` left out."""
    in_annotations, kept = False, 0
    for line in lines:
        body = line.rstrip("\n")
        if not in_annotations:
            yield line
            in_annotations = body == ANNOTATIONS_OPEN
            continue
        if not body.startswith("{"):  # the closing "]}"
            in_annotations = False
            yield "\n" + line if kept else line
            continue
        record = body[:-1] if body.endswith(",") else body
        if json.loads(record)["visible_fraction"] >= min_visible_fraction:
            yield ("," if kept else "") + ("\n" if kept else "") + record
            kept += 1
