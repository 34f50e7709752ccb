"""A lineage graph drawn on the server as SVG: generators, presets and parent versions feed jobs, jobs make versions.

Three columns (sources, jobs, versions), one box per node, arrows labelled with the relation.
A parent the viewer may not see is drawn without its name or a link.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from access import policy
from catalog.models import DatasetVersion
from catalog.presets import DEFAULTS
from jobs.visibility import visible_jobs

COLUMN_X = (8, 238, 468)
BOX_WIDTH, BOX_HEIGHT, ROW = 200, 34, 48
CLASSES = {0: "source", 1: "job", 2: "version"}


@dataclass
class Node:
    key: str
    label: str
    column: int
    href: str | None = None
    row: int = 0


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, node: Node) -> str:
        self.nodes.setdefault(node.key, node)
        return node.key


def build(versions: list[DatasetVersion], user) -> Graph:
    """The graph of ``versions``: each one's job, generator and parent versions."""
    graph = Graph()
    job_ids = [v.job_id for v in versions if v.job_id]
    shown_jobs = set(visible_jobs(user).filter(pk__in=job_ids).values_list("pk", flat=True)) if job_ids else set()
    for version in versions:
        target = graph.add(Node(f"v{version.pk}", f"{version.dataset.slug} v{version.number}", 2,
                                reverse("portal:version", args=[version.pk])))
        if version.job_id:
            job_key = graph.add(Node(f"j{version.job_id}", f"{version.job.type} job {str(version.job_id)[:8]}", 1,
                                     version.job.get_absolute_url() if version.job_id in shown_jobs else None))
            graph.edges.append((job_key, target, "made"))
            target = job_key
            if (preset := version.job.parameters.get("preset")) not in (None, DEFAULTS) and version.generator_id:
                # Named only to who may see the job that names it.
                shown = version.job_id in shown_jobs
                slug = version.generator.slug
                graph.add(Node(f"p{slug}:{preset}", f"preset {preset}" if shown else "a preset", 0,
                               reverse("portal:generator", args=[slug]) + f"#preset-{preset}" if shown else None))
                graph.edges.append((f"p{slug}:{preset}", job_key, "started from"))
        if version.generator_id:
            generator = version.generator
            key = graph.add(Node(f"g{generator.pk}", f"generator {generator.slug} {generator.code_version}", 0,
                                 reverse("portal:generator", args=[generator.slug])))
            graph.edges.append((key, target, "ran"))
        for link in version.parent_links.all():
            parent = link.parent
            seen = policy.can_view_version(user, parent)
            key = graph.add(Node(f"v{parent.pk}", f"{parent.dataset.slug} v{parent.number}" if seen else "a dataset you cannot see",
                                 0, reverse("portal:version", args=[parent.pk]) if seen else None))
            graph.edges.append((key, target, link.relation))
    return graph


def _layout(graph: Graph) -> int:
    counts = [0, 0, 0]
    for node in graph.nodes.values():
        node.row = counts[node.column]
        counts[node.column] += 1
    return max(counts + [1])


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_svg(graph: Graph) -> SafeString:
    """The SVG markup, with a title and a text description of every edge for screen readers."""
    if not graph.nodes:
        return mark_safe("")
    rows = _layout(graph)
    height = rows * ROW + 8

    def centre(key: str, side: int) -> tuple[float, float]:
        node = graph.nodes[key]
        return COLUMN_X[node.column] + (BOX_WIDTH if side else 0), 8 + node.row * ROW + BOX_HEIGHT / 2

    edges = []
    for source, target, relation in graph.edges:
        (x1, y1), (x2, y2) = centre(source, 1), centre(target, 0)
        edges.append((x1, y1, x2, y2, (x1 + x2) / 2, (y1 + y2) / 2 - 4, relation))
    boxes = []
    for node in graph.nodes.values():
        x, y = COLUMN_X[node.column], 8 + node.row * ROW
        box = format_html('<rect x="{}" y="{}" width="{}" height="{}" rx="5" class="{}"/>'
                          '<text x="{}" y="{}">{}</text>', x, y, BOX_WIDTH, BOX_HEIGHT, CLASSES[node.column],
                          x + 8, y + 22, _short(node.label))
        boxes.append(format_html('<a href="{}">{}</a>', node.href, box) if node.href else box)
    description = "; ".join(f"{graph.nodes[s].label} {r} {graph.nodes[t].label}" for s, t, r in graph.edges)
    return format_html(
        '<svg class="lineage" role="img" aria-labelledby="lineage-title lineage-desc" viewBox="0 0 676 {}" '
        'width="100%" style="max-width:676px" xmlns="http://www.w3.org/2000/svg">'
        '<title id="lineage-title">Lineage</title><desc id="lineage-desc">{}</desc>'
        '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto">'
        '<path d="M0,0 L8,4 L0,8 z" fill="#5b6475"/></marker></defs>{}{}</svg>',
        height, description or "no recorded parents",
        format_html_join("", '<line x1="{}" y1="{}" x2="{}" y2="{}" marker-end="url(#arrow)"/>'
                             '<text class="relation" x="{}" y="{}" text-anchor="middle">{}</text>', edges),
        mark_safe("".join(boxes)))
