"""Hostile input gets a 4xx naming what is wrong, never a 500, and creates nothing.

Runs on SQLite and again on PostgreSQL (scripts/test), where a NUL character reaching the
database used to be a 500.
"""

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from api.parsers import first_unstorable_value, nesting_depth_exceeds
from catalog.models import Dataset
from generators.params import shorten
from jobs import service
from jobs.models import Job
from tests.platform.test_evaluate_job import noise_table, publish_table

pytestmark = pytest.mark.django_db

LISTS = ["/api/datasets/", "/api/versions/", "/api/generators/", "/api/jobs/", "/api/evaluations/"]
HUGE = str(2**63)


@pytest.fixture
def public_version(user):
    dataset = Dataset.objects.create(slug="open-table", title="Open", modality="tabular", kind="synthetic",
                                     access="public", owner=user)
    return publish_table(dataset, noise_table(), "v1")


def refused(response, field: str, status: int = 400) -> dict:
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert field in body, body
    assert field in body["detail"]
    return body


@pytest.mark.parametrize("route", LISTS)
@pytest.mark.parametrize(("name", "value"), [
    ("limit", HUGE), ("limit", "-1"), ("limit", "0"), ("limit", "abc"), ("limit", "501"), ("limit", "1e3"),
    ("offset", HUGE), ("offset", "-5"), ("offset", "9" * 40),
])
def test_out_of_range_pagination_is_400_naming_the_parameter(api, route, name, value):
    refused(api.get(route, {name: value}), name)


def test_limit_and_offset_within_bounds_page_through_the_list(api, user):
    for slug in ("a1", "a2", "a3"):
        Dataset.objects.create(slug=slug, title=slug, modality="tabular", kind="synthetic", access="public", owner=user)
    page = api.get("/api/datasets/", {"limit": 2, "offset": 1}).json()
    assert page["count"] == 3 and [d["slug"] for d in page["results"]] == ["a2", "a3"]
    assert api.get("/api/datasets/", {"limit": 500}).status_code == 200


@pytest.mark.parametrize(("route", "name", "value"), [
    ("/api/jobs/", "parent", "not-a-uuid"),
    ("/api/jobs/", "state", "exploded"),
    ("/api/evaluations/", "version", "abc"),
    ("/api/evaluations/", "version", "9" * 30),
    ("/api/evaluations/", "version", "0"),
    ("/api/datasets/", "kind", "imaginary"),
    ("/api/datasets/", "access", "secret"),
    ("/api/jobs/", "parent", ""),
    ("/api/evaluations/", "version", ""),
])
def test_invalid_filter_values_are_400_naming_the_filter(api, route, name, value):
    refused(api.get(route, {name: value}), name)


def test_typed_filters_still_filter(api, user):
    job = service.submit(user, "generate", {"generator": "digits"})
    assert [j["id"] for j in api.get("/api/jobs/", {"state": "queued"}).json()["results"]] == [str(job.pk)]
    assert api.get("/api/jobs/", {"state": "running"}).json()["count"] == 0
    assert api.get("/api/jobs/", {"parent": str(job.pk)}).json()["count"] == 0
    assert api.get("/api/evaluations/", {"version": 1}).json()["count"] == 0


def test_a_nul_in_job_parameters_is_400_naming_the_field_and_creates_nothing(api, public_version):
    body = {"type": "evaluate", "parameters": {"version": public_version.pk, "reference": "a\u0000b"}}
    refused(api.post("/api/jobs/", body, format="json"), "parameters.reference")
    assert Job.objects.count() == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"type": "generate", "parameters": {"generator": "digits", "title": "x\u0000"}}, "parameters.title"),
    ({"type": "generate", "parameters": {"generator": "digits", "params": {"a\u0000": 1}}}, "parameters.params"),
    ({"type": "generate", "parameters": {"generator": "digits", "tags": ["ok", "n\u0000"]}}, "parameters.tags.1"),
    ({"type": "gen\ud800erate"}, "type"),
])
def test_unstorable_characters_anywhere_in_a_json_body_are_400_naming_the_path(api, body, field):
    refused(api.post("/api/jobs/", json.dumps(body), content_type="application/json"), field)
    assert Job.objects.count() == 0


@pytest.mark.parametrize(("raw", "field"), [
    ('{"type": "evaluate", "parameters": {"version": 1e400}}', "parameters.version"),
    ('{"type": "evaluate", "parameters": {"version": -1e999}}', "parameters.version"),
])
def test_numbers_too_large_for_a_float_are_400_naming_the_field(api, raw, field):
    refused(api.post("/api/jobs/", raw, content_type="application/json"), field)


@pytest.mark.parametrize("raw", ['{"type": NaN}', '{"type": Infinity}', "[" * 100_000 + "]" * 100_000,
                                 '{"a": ' * 100_000 + "1" + "}" * 100_000, "{" + '"x": 1, ' * 10 + "oops"])
@pytest.mark.parametrize("route", ["/api/jobs/", "/api/generators/digits/generate/", "/api/token/"])
def test_malformed_or_deeply_nested_json_is_a_400(api, route, raw):
    response = api.post(route, raw, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert "JSON parse error" in response.json()["detail"]
    assert Job.objects.count() == 0


def test_nesting_is_measured_outside_strings():
    assert not nesting_depth_exceeds('{"a": "[[[[{{{{\\"[[[["}', 1)
    assert nesting_depth_exceeds('{"a": {"b": [1]}}', 2)
    assert not nesting_depth_exceeds('{"a": {"b": [1]}}', 3)
    assert first_unstorable_value({"a": [1, {"b": "ok"}], "c": 2.5}) is None


@pytest.mark.parametrize(("query", "field"), [("state=%00", "state"), ("st%00ate=1", "st\\u0000ate"),
                                              ("limit=1&kind=a%00", "kind")])
@pytest.mark.parametrize("route", ["/api/jobs/", "/api/datasets/", "/"])
def test_a_nul_in_the_query_string_is_400_naming_the_parameter(api, route, query, field):
    response = api.get(f"{route}?{query}")
    assert response.status_code == 400
    named = response.json() if route.startswith("/api/") else response.content.decode()
    assert field in named


@pytest.mark.parametrize("path", ["/api/datasets/a%00b/", "/api/generators/dig%00its/", "/datasets/a%00b/",
                                  "/api/versions/1/files/a%00b"])
def test_a_nul_in_the_path_is_400(api, path):
    response = api.get(path)
    assert response.status_code == 400
    assert "path" in response.content.decode()


def test_a_nul_in_a_form_post_is_400_naming_the_field(api, user):
    refused(api.post("/api/jobs/", {"type": "generate\x00"}), "type")
    portal = Client()
    portal.force_login(user)
    response = portal.post("/jobs/new/", {"generator": "digits", "dataset": "x\x00y"})
    assert response.status_code == 400 and b"dataset" in response.content
    assert Job.objects.count() == 0


def test_a_body_over_the_size_limit_is_413_before_it_is_read(api, settings):
    settings.SYNTHREG_MAX_REQUEST_BYTES = 1000
    body = json.dumps({"type": "generate", "parameters": {"generator": "digits", "title": "x" * 2000}})
    response = api.post("/api/jobs/", body, content_type="application/json")
    assert response.status_code == 413
    assert "SYNTHREG_MAX_REQUEST_BYTES" in response.json()["detail"]
    assert Client().post("/accounts/login/", {"username": "x" * 2000}).status_code == 413
    assert Job.objects.count() == 0


@pytest.mark.parametrize("parameters", [
    {"generator": "digits", "params": {"n": "x" * 1_000_000}},
    {"generator": "digits", "params": {"k" * 1_000_000: 1}},
    {"generator": "x" * 1_000_000},
    {"generator": "digits", "dataset": "Y" * 1_000_000},
])
def test_a_megabyte_value_is_never_echoed_back(api, parameters):
    response = api.post("/api/jobs/", {"type": "generate", "parameters": parameters}, format="json")
    assert 400 <= response.status_code < 500
    assert len(response.content) < 2000, response.content[:300]
    assert b"characters left out" in response.content


@pytest.mark.parametrize(("route", "name"), [("/api/datasets/", "kind"), ("/api/jobs/", "parent"),
                                             ("/api/evaluations/", "version")])
def test_a_long_filter_value_is_never_echoed_back(api, route, name):
    response = api.get(route, {name: "z" * 200_000})
    assert response.status_code == 400 and len(response.content) < 2000


def test_a_megabyte_job_type_is_never_echoed_back(api):
    response = api.post("/api/jobs/", {"type": "t" * 1_000_000}, format="json")
    assert response.status_code == 400 and len(response.content) < 2000


def test_shorten_keeps_both_ends_and_says_how_much_is_left_out():
    text = "a" * 500 + "TAIL"
    short = shorten(text, 100)
    assert short.startswith("a" * 66) and short.endswith("aaTAIL") and "(405 characters left out)" in short
    assert shorten("short", 100) == "short"


@pytest.mark.parametrize("header", ["Basic " + "YQBiOmM=", "Basic !!!", "Basic", "Token a\x00b", "Token " + "k" * 5000])
def test_broken_credentials_are_401_not_500(header):
    client = APIClient()
    response = client.get("/api/datasets/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401


@pytest.mark.parametrize("path", ["../../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%2e%2e/%2e%2e/etc/passwd",
                                  "/etc/passwd", "data.parquet/../data.parquet", "..\\..\\windows", "data.parquet%00",
                                  "x" * 5000, "%ff%fe"])
def test_path_tricks_in_version_files_are_4xx(api, public_version, path):
    response = api.get(f"/api/versions/{public_version.pk}/files/{path}")
    assert response.status_code in (400, 404), (path, response.status_code)
    assert b"root:" not in b"".join(response) if response.streaming else True


@pytest.mark.parametrize("route", [*LISTS, "/api/datasets/open-table/", "/api/generators/digits/", "/api/jobs/"])
@pytest.mark.parametrize("method", ["head", "options"])
def test_head_and_options_answer_without_a_server_error(api, public_version, route, method):
    assert getattr(api, method)(route).status_code == 200


@pytest.mark.parametrize("version", ["1e400", "-1", "0", HUGE, "1.5"])
def test_odd_ids_in_urls_are_404(api, version):
    assert api.get(f"/api/versions/{version}/").status_code == 404
