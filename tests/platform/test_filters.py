"""Filtering, search and ordering of datasets, versions and jobs; throttling."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle

from catalog.models import Dataset
from jobs import service
from tests.support.tables import noise_table, publish_table

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(user, other_user):
    rows = [("cats-small", "Small cats", "image", ["vision", "cats"], "Whiskers, drawn."),
            ("dogs", "Dogs at play", "image", ["vision"], "Dogs and a ball."),
            ("loans", "Loan table", "tabular", ["finance"], "Synthetic credit rows."),
            ("cat-loans", "Cat insurance", "tabular", ["finance", "cats"], "Policies for cats.")]
    for slug, title, modality, tags, card in rows:
        Dataset.objects.create(slug=slug, title=title, modality=modality, kind="synthetic", access="public",
                               owner=user, tags=tags, card=card)
    Dataset.objects.create(slug="hidden-cats", title="Hidden cats", modality="image", kind="synthetic",
                           access="private", owner=other_user, tags=["cats"])


def slugs(api, route="/api/datasets/", **query):
    response = api.get(route, query)
    assert response.status_code == 200, response.content
    return [row.get("slug") or row.get("id") for row in response.json()["results"]]


@pytest.mark.parametrize(("query", "expected"), [
    ({"q": "cat"}, ["cat-loans", "cats-small"]),  # slug, title or card; never the hidden one
    ({"q": "CATS whiskers"}, ["cats-small"]),  # every word, any case
    ({"q": "ball"}, ["dogs"]),
    ({"q": "", "ordering": ""}, ["cat-loans", "cats-small", "dogs", "loans"]),  # an empty form: all, by slug
    ({"tag": "cats"}, ["cat-loans", "cats-small"]),
    ({"tag": "cat"}, []),  # a whole tag, not part of one
    ({"tag": "vision", "modality": "image"}, ["cats-small", "dogs"]),
    ({"modality": "tabular", "ordering": "-slug"}, ["loans", "cat-loans"]),
    ({"ordering": "title"}, ["cat-loans", "dogs", "loans", "cats-small"]),
])
def test_datasets_filter_search_and_sort(api, catalog, query, expected):
    assert slugs(api, **query) == expected


def test_datasets_filter_by_generator_and_reference(api, user, catalog):
    reference = Dataset.objects.create(slug="real", title="Real", modality="tabular", kind="reference",
                                       access="public", owner=user)
    Dataset.objects.filter(slug="loans").update(reference=reference)
    loans = Dataset.objects.get(slug="loans")
    publish_table(loans, noise_table(), "v1")
    publish_table(loans, noise_table(seed=2), "v2")
    loans.versions.update(generator=None)
    assert slugs(api, reference="real") == ["loans"]
    assert slugs(api, generator="digits") == []


def test_versions_filter_and_sort(api, user, catalog):
    loans = Dataset.objects.get(slug="loans")
    first, second = publish_table(loans, noise_table(rows=10), "a"), publish_table(loans, noise_table(rows=90), "b")
    publish_table(Dataset.objects.get(slug="dogs"), noise_table(), "c")
    assert slugs(api, "/api/versions/", dataset="loans", ordering="number") == [first.pk, second.pk]
    assert slugs(api, "/api/versions/", dataset="loans", ordering="-total_size") == [second.pk, first.pk]
    assert len(slugs(api, "/api/versions/", modality="image")) == 1


def test_jobs_filter_by_type_and_dataset_and_sort(api, user):
    first = service.submit(user, "generate", {"generator": "digits", "dataset": "one"})
    second = service.submit(user, "generate", {"generator": "digits", "dataset": "two"})
    assert slugs(api, "/api/jobs/", dataset="two") == [str(second.pk)]
    assert slugs(api, "/api/jobs/", type="generate", ordering="created_at") == [str(first.pk), str(second.pk)]
    assert slugs(api, "/api/jobs/", type="evaluate") == []


@pytest.mark.parametrize(("route", "name", "value"), [
    ("/api/datasets/", "ordering", "owner__password"),
    ("/api/datasets/", "tag", ""),
    ("/api/datasets/", "q", "x" * 201),
    ("/api/versions/", "status", "done"),
    ("/api/versions/", "ordering", "secret"),
    ("/api/jobs/", "ordering", "parameters"),
])
def test_bad_filters_and_orderings_are_400_naming_them(api, route, name, value):
    response = api.get(route, {name: value})
    assert response.status_code == 400 and name in response.json(), response.content


def test_anonymous_clients_are_throttled_with_429(monkeypatch, catalog):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/minute"})
    cache.clear()  # earlier tests' requests from the same address
    client = APIClient()
    codes = [client.get("/api/datasets/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert "Retry-After" in client.get("/api/datasets/")
