"""A version's permalink page, its sample viewer, its report status and a comparison of two versions."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from access import gate, policy
from catalog.models import DatasetVersion
from jobs.visibility import visible_jobs
from portal import evaluations, lineage_graph, samples
from portal.templatetags.portal import filesize


def visible_version(request, pk: int) -> DatasetVersion:
    version = (DatasetVersion.objects.select_related("dataset__reference", "dataset__owner", "generator", "job")
               .prefetch_related("evaluations__reference__dataset", "parent_links__parent__dataset").filter(pk=pk).first())
    if version is None or not policy.can_view_version(request.user, version):
        raise Http404("No such version.")
    return version


def mark_visible_jobs(versions: list[DatasetVersion], user) -> None:
    """Set ``job_visible`` on each version: its job is linked only for those who may open the job's page."""
    ids = [v.job_id for v in versions if v.job_id]
    shown = set(visible_jobs(user).filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
    for version in versions:
        version.job_visible = version.job_id in shown


def _content_version(request, pk: int) -> DatasetVersion:
    """A version whose content the viewer may show: never a restricted one, whoever asks."""
    version = visible_version(request, pk)
    if not policy.can_download_version(request.user, version) or version.status != DatasetVersion.Status.READY:
        raise Http404("No such version.")
    return version


def _snippets(request, version: DatasetVersion) -> dict[str, str]:
    archive = request.build_absolute_uri(reverse("api:version-archive", args=[version.pk]))
    detail = request.build_absolute_uri(reverse("api:version-detail", args=[version.pk]))
    name = f"{version.dataset.slug}-v{version.number}"
    return {
        "curl": f'curl -fL -H "Authorization: Token $SYNTHREG_TOKEN" -o {name}.zip {archive}\n'
                f"unzip {name}.zip -d {name}",
        "python": "import hashlib, os, pathlib, requests\n"
                  'headers = {"Authorization": f"Token {os.environ[\'SYNTHREG_TOKEN\']}"}\n'
                  f'version = requests.get("{detail}", headers=headers).json()\n'
                  'for entry in version["files"]:  # every file, checked against the manifest\'s sha256\n'
                  '    body = requests.get(entry["download"], headers=headers).content\n'
                  '    assert hashlib.sha256(body).hexdigest() == entry["sha256"], entry["path"]\n'
                  f'    path = pathlib.Path("{name}", entry["path"])\n'
                  "    path.parent.mkdir(parents=True, exist_ok=True)\n"
                  "    path.write_bytes(body)" + _loader_line(version, name),
    }


def _loader_line(version: DatasetVersion, name: str) -> str:
    paths = [f["path"] for f in version.manifest.get("files", [])]
    if table := next((p for p in paths if p.endswith(".parquet")), None):
        return f'\nimport pandas as pd\ntable = pd.read_parquet("{name}/{table}")'
    if arrays := next((p for p in sorted(paths) if p.endswith(".npz")), None):
        return f'\nimport numpy as np\narrays = np.load("{name}/{arrays}")  # images, labels, ...'
    return ""


def _viewer_context(version: DatasetVersion, number: int) -> dict[str, Any]:
    context: dict[str, Any] = {"version": version}
    try:
        if version.dataset.modality == "tabular":
            context["page"], context["columns"], context["statistics"] = samples.table_page(version, number)
        else:
            context["page"] = samples.image_page(version, number)
    except samples.NotViewable as exc:
        context["not_viewable"] = str(exc)
    return context


def _page_number(request) -> int:
    """The viewer's page; anything that is not a page number shows the first (the pages are clamped)."""
    page = request.GET.get("page", "1")
    return int(page) if page.isdigit() and len(page) < 10 else 1


def version_detail(request, pk: int):
    version = visible_version(request, pk)
    dataset = version.dataset
    evaluations.annotate([version], request.user)
    mark_visible_jobs([version], request.user)
    viewable = policy.can_download_version(request.user, version) and version.status == DatasetVersion.Status.READY
    children = (policy.visible_versions(request.user).filter(parent_links__parent=version)
                .select_related("dataset").distinct())
    context = {
        "version": version, "dataset": dataset, "downloadable": viewable, "gate": gate.standing(version),
        "files": version.manifest.get("files", []), "children": children,
        "lineage": lineage_graph.render_svg(lineage_graph.build([version], request.user)),
        "evaluations": sorted(version.evaluations.all(), key=lambda e: e.created_at, reverse=True),
        "siblings": policy.visible_versions(request.user).filter(dataset=dataset).exclude(pk=version.pk)
                    .order_by("-number")[:50],
    }
    if viewable:
        context["snippets"] = _snippets(request, version)
        context.update(_viewer_context(version, _page_number(request)))
    return render(request, "portal/version.html", context)


def version_samples(request, pk: int):
    """One page of the viewer, fetched by htmx."""
    version = _content_version(request, pk)
    return render(request, "portal/_viewer.html", _viewer_context(version, _page_number(request)))


def version_sample_layer(request, pk: int, index: int, layer: str):
    version = _content_version(request, pk)
    if layer not in samples.LAYERS:
        raise Http404("No such layer.")
    try:
        png = samples.layer_png(version, index, layer)
    except (IndexError, KeyError, samples.NotViewable):
        raise Http404("No such sample.") from None
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=86400, immutable"  # a ready version never changes
    return response


def version_report_status(request, pk: int):
    """The version's report cell, polled by htmx while an evaluation is under way."""
    version = visible_version(request, pk)
    evaluations.annotate([version], request.user)
    return render(request, "portal/_version_report.html", {"v": version})


def _flatten(values: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(values, dict) and values:
        return {key: value for name, nested in values.items() for key, value in _flatten(nested, f"{prefix}{name}.").items()}
    return {prefix.rstrip("."): values}


def _figures(version: DatasetVersion) -> dict[str, Any]:
    evaluation = version.latest_evaluation
    if evaluation is None:
        return {}
    results = evaluation.results
    summary, utility = results.get("summary") or {}, results.get("utility") or {}
    figures = {"quality score": summary.get("quality_score"), "privacy score": summary.get("privacy_score"),
               "privacy gate": (results.get("verdict") or {}).get("privacy_gate"),
               "TSTR": (utility.get("tstr") or {}).get("mean"), "TRTR": (utility.get("trtr") or {}).get("mean"),
               "TSTR/TRTR": utility.get("ratio")}
    for check in (results.get("verdict") or {}).get("checks", []):
        figures[check["name"]] = check.get("value")
    return figures


def version_compare(request, pk: int, other: int):
    left, right = visible_version(request, pk), visible_version(request, other)
    evaluations.annotate([left], request.user)
    evaluations.annotate([right], request.user)

    def side_by_side(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, Any, Any, bool]]:
        rows = [(key, a.get(key), b.get(key), a.get(key) != b.get(key)) for key in sorted(set(a) | set(b))]
        return sorted(rows, key=lambda row: not row[3])  # what differs first

    facts = {"generator": lambda v: v.generator.slug if v.generator else None, "seed": lambda v: v.seed,
             "samples": lambda v: v.samples, "size": lambda v: filesize(v.total_size), "code revision": lambda v: v.code_revision[:12]}
    return render(request, "portal/compare.html", {"left": left, "right": right, "sections": [
        ("version", [(name, get(left), get(right), get(left) != get(right)) for name, get in facts.items()]),
        ("parameters", side_by_side(_flatten(left.parameters), _flatten(right.parameters))),
        ("report figures", side_by_side(_figures(left), _figures(right))),
    ]})
