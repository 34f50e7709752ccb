"""/healthz checks the database, the broker and storage, and names what fails without secrets."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def health(client=None):
    response = (client or Client()).get("/healthz")
    return response.status_code, response.json()


def test_all_checks_pass_on_a_live_broker_without_a_login(own_redis_broker):
    status, body = health()
    assert status == 200 and body["status"] == "ok" and body["failing"] == []
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True, "broker": True, "storage": True}


def test_a_broker_that_is_down_is_503_naming_it_and_nothing_else(own_redis, own_redis_broker):
    own_redis.kill()
    response = Client().get("/healthz")
    body = response.json()
    assert response.status_code == 503
    assert body["failing"] == ["broker"] and body["checks"]["database"]["ok"] and body["checks"]["storage"]["ok"]
    assert body["checks"]["broker"]["error"]  # the error's type only
    port = own_redis.url.rsplit(":", 1)[-1].split("/")[0]
    assert port not in response.content.decode() and "redis://" not in response.content.decode()


def test_unwritable_storage_is_503_naming_storage(settings, tmp_path, own_redis_broker):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the storage root should be")
    settings.STORAGES = {**settings.STORAGES, "datasets": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(blocker)}}}
    status, body = health()
    assert status == 503 and body["failing"] == ["storage"]
    assert str(tmp_path) not in str(body)


def test_only_get(own_redis_broker):
    assert Client().post("/healthz").status_code == 405
