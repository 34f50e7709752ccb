"""The catalog (search, facets, sort, pages) and the generator pages."""

from __future__ import annotations

from collections import Counter

from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import Http404
from django.shortcuts import render

from access import policy
from catalog.filters import DatasetFilter
from catalog.models import Dataset, DatasetVersion, Generator, Modality
from catalog.presets import visible_presets
from generators import registry
from generators.params import fill_defaults
from portal.schema_form import fields_for

PER_PAGE = 20
FACETS = (("kind", Dataset.Kind.choices), ("modality", Modality.choices), ("access", Dataset.Access.choices))


def catalog(request):
    """Search and facets through the API's own FilterSet; an empty form field means "any"."""
    query = request.GET.copy()
    for name in [name for name, value in query.items() if value.strip() == ""]:
        del query[name]
    query.pop("page", None)
    visible = policy.visible_datasets(request.user)
    ready = DatasetVersion.objects.filter(status=DatasetVersion.Status.READY).order_by("-number")
    filters = DatasetFilter(query, queryset=visible.select_related("owner", "reference").prefetch_related(
        Prefetch("versions", queryset=ready, to_attr="ready_versions")), request=request)
    valid = filters.is_valid()
    results = filters.qs if valid else Dataset.objects.none()
    if "ordering" not in query:
        results = results.order_by("-updated_at", "slug")
    page = Paginator(results, PER_PAGE).get_page(request.GET.get("page"))
    counts = {name: _facet_counts(query, visible, name) for name, _ in FACETS}
    facets = [(name, [(value, label, counts[name].get(value, 0)) for value, label in choices]) for name, choices in FACETS]
    tags = Counter(tag for tags in visible.values_list("tags", flat=True) for tag in (tags or []) if isinstance(tag, str))
    references = visible.filter(kind=Dataset.Kind.REFERENCE).order_by("slug")
    return render(request, "portal/home.html", {
        "page": page, "filters": filters, "errors": None if valid else filters.errors, "facets": facets,
        "tags": sorted(tags.items(), key=lambda item: (-item[1], item[0]))[:30],
        "generators": Generator.objects.order_by("slug"), "references": references, "query": query,
        "sorts": [("-updated_at", "recently updated"), ("slug", "slug"), ("title", "title"),
                  ("-created_at", "newest")],
    }, status=200 if valid else 400)


def _facet_counts(query, visible, name: str) -> dict[str, int]:
    """How many datasets each value of one facet would give, the other filters kept."""
    others = query.copy()
    others.pop(name, None)
    filters = DatasetFilter(others, queryset=visible)
    matching = filters.qs if filters.is_valid() else visible.none()
    return dict(matching.order_by().values_list(name).annotate(n=Count("pk", distinct=True)))


def generator_list(request):
    return render(request, "portal/generators.html", {"specs": registry.all_specs()})


def generator_detail(request, slug: str):
    try:
        spec = registry.get(slug)
    except registry.UnknownGenerator:
        raise Http404(f"No generator {slug!r}.") from None
    examples = (policy.visible_versions(request.user).filter(generator__slug=slug, status=DatasetVersion.Status.READY)
                .select_related("dataset").order_by("-created_at")[:6])
    return render(request, "portal/generator.html", {
        "spec": spec, "parameters": fields_for(spec.schema, fill_defaults(spec.schema, {})),
        "examples": [(v, policy.can_download_version(request.user, v)) for v in examples],
        "presets": [(p, p.tuned_on is not None and policy.can_view(request.user, p.tuned_on.dataset))
                    for p in visible_presets(slug, request.user)],
    })
