"""The upload page: linked from the catalog, registers a file posted whole, refuses inline."""

import pytest
from django.contrib.staticfiles import finders

from catalog.models import Dataset
from tests.platform.test_uploads import _named
from tests.platform.test_uploads_hostile import written
from tests.support.uploads import csv_table, overlap_bomb

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(django_user_model):
    """Alice without a password: hashing one costs about a second a test, and no test here logs in."""
    return django_user_model.objects.create_user("alice")


@pytest.fixture
def alice(client, user):
    client.force_login(user)
    return client


def test_the_page_is_linked_from_the_catalog_and_needs_a_login(client, alice):
    assert 'href="/uploads/new/"' in alice.get("/").content.decode()
    page = alice.get("/uploads/new/").content.decode()
    assert 'value="restricted" style="width:auto" checked' in page  # real data: restricted by default
    assert "/static/portal/upload.js" in page and finders.find("portal/upload.js")
    client.logout()
    assert client.get("/uploads/new/").status_code == 302


def test_a_file_posted_whole_is_registered(alice):
    response = alice.post("/uploads/new/", {"file": _named("people.csv", csv_table()), "slug": "people",
                                            "access": "private", "columns": '{"person_id": "drop"}'})
    assert response.status_code == 302 and response["Location"] == "/datasets/people/"
    dataset = Dataset.objects.get(slug="people")
    assert dataset.access == "private" and "person_id" not in str(dataset.versions.get().summary["schema"])


@pytest.mark.parametrize("fields, name, words", [
    ({"slug": "Not a slug"}, "slug", "lower-case"), ({"slug": "x", "epsilon_budget": "many"}, "epsilon_budget",
                                                     "a number"),
    ({"slug": "x", "columns": '{"nope": "numeric"}'}, "columns", "no such column")])
def test_a_refusal_is_shown_next_to_its_field(alice, fields, name, words):
    response = alice.post("/uploads/new/", {"file": _named("people.csv", csv_table()), **fields})
    assert response.status_code == 400
    page = response.content.decode()
    slot = '<p class="error" role="alert">columns' if name == "columns" else f'data-error-for="{name}">{name}:'
    assert slot in page and words in page.split(slot, 1)[1].split("</p>", 1)[0]
    assert not Dataset.objects.exists()


def test_a_hostile_archive_is_refused_inline_and_nothing_is_written(alice):
    before = written()
    response = alice.post("/uploads/new/", {"file": _named("bomb.zip", overlap_bomb()), "slug": "bomb"})
    assert response.status_code == 400 and "zip bomb" in response.content.decode()
    assert written() == before
