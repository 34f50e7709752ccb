"""Restricted (real) data stays restricted: no save path lowers its access, ready versions are
immutable, and only `manage.py declassify` with its confirmation flag may declassify (audited)."""

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse
from rest_framework.test import APIClient

from access.models import AuditEvent, Grant
from catalog.models import Dataset, DatasetVersion, ImmutableVersionError, RestrictionError
from tests.platform.test_access import make_dataset
from tests.platform.test_permissions_every_view import (  # noqa: F401 - private_world is a fixture
    SECRET_CELL,
    WRITE_VIEWS,
    private_world,
    route_names,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def wine(user):
    return make_dataset(user, "wine", "restricted", kind="reference")


def access_of(dataset) -> str:
    return Dataset.objects.get(pk=dataset.pk).access


@pytest.mark.parametrize("lower_to", ["public", "private"])
def test_no_model_path_lowers_a_restricted_dataset(wine, lower_to):
    dataset, _ = wine
    dataset.access = lower_to
    with pytest.raises(RestrictionError, match="manage.py declassify"):
        dataset.save()
    with pytest.raises(RestrictionError):
        Dataset.objects.filter(slug="wine").update(access=lower_to)
    with pytest.raises(RestrictionError), transaction.atomic():  # bulk_update's own atomic needs a savepoint
        Dataset.objects.bulk_update([dataset], ["access"])
    assert access_of(dataset) == "restricted"


def test_other_fields_and_other_datasets_still_save(wine, user):
    dataset, _ = wine
    dataset.refresh_from_db()
    dataset.title = "Wine (real)"
    dataset.save()
    Dataset.objects.filter(slug="wine").update(title="Wine")
    mine, _ = make_dataset(user, "mine", "private")
    mine.access = "public"
    mine.save()
    mine.access = "restricted"
    mine.save()  # raising the level is always allowed
    assert access_of(mine) == "restricted" and access_of(dataset) == "restricted"


def test_the_admin_cannot_declassify(wine, admin_client):
    dataset, _ = wine
    page = admin_client.get(f"/admin/catalog/dataset/{dataset.pk}/change/")
    assert page.status_code == 200 and b'name="access"' not in page.content  # shown read-only
    form = {"slug": "wine", "title": "Wine", "card": "", "modality": "tabular", "kind": "reference",
            "access": "public", "owner": dataset.owner_id, "tags": "[]", "license": "",
            "privacy_thresholds": "{}", "epsilon_budget": ""}
    response = admin_client.post(f"/admin/catalog/dataset/{dataset.pk}/change/", form)
    assert response.status_code in (200, 302)
    assert access_of(dataset) == "restricted"


def test_ready_versions_are_immutable(wine, user):
    _, version = wine
    public, public_version = make_dataset(user, "open", "public")
    # Pointing a public version at the restricted files would serve them: refused both ways.
    public_version.storage_prefix = version.storage_prefix
    with pytest.raises(ImmutableVersionError):
        public_version.save()
    with pytest.raises(ImmutableVersionError):
        DatasetVersion.objects.filter(pk=version.pk).update(dataset=public)
    assert DatasetVersion.objects.get(pk=public_version.pk).storage_prefix != version.storage_prefix
    public_version.refresh_from_db()
    public_version.summary = {"note": "metadata may change"}
    public_version.save()


def test_declassify_needs_its_flag_a_staff_user_and_is_audited(wine, admin_user):
    dataset, _ = wine
    with pytest.raises(CommandError, match="--confirm-no-real-data"):
        call_command("declassify", "wine", "--reason", "test", "--by", admin_user.username)
    assert access_of(dataset) == "restricted" and not AuditEvent.objects.filter(action="declassify").exists()
    with pytest.raises(CommandError, match="staff"):
        call_command("declassify", "wine", "--confirm-no-real-data", "--reason", "x", "--by", dataset.owner.username)
    call_command("declassify", "wine", "--to", "public", "--confirm-no-real-data",
                 "--reason", "synthetic after all", "--by", admin_user.username)
    assert access_of(dataset) == "public"
    event = AuditEvent.objects.get(action="declassify")
    assert (event.user, event.target, event.details["to"]) == (admin_user, "wine", "public")


def test_grant_command_grants_revokes_and_audits(wine, other_user, admin_user):
    dataset, _ = wine
    call_command("grant", "wine", other_user.username, "--by", admin_user.username)
    assert Grant.objects.filter(dataset=dataset, user=other_user).exists()
    call_command("grant", "wine", other_user.username, "--revoke")
    assert not Grant.objects.filter(dataset=dataset, user=other_user).exists()
    assert list(AuditEvent.objects.order_by("at").values_list("action", flat=True)) == ["grant", "revoke"]
    with pytest.raises(CommandError, match="owner or a staff"):
        call_command("grant", "wine", admin_user.username, "--by", other_user.username)
    with pytest.raises(CommandError, match="no user"):
        call_command("grant", "wine", "nobody")


def test_admin_grants_are_audited(wine, admin_client, other_user):
    dataset, _ = wine
    response = admin_client.post("/admin/access/grant/add/", {"dataset": dataset.pk, "user": other_user.pk})
    assert response.status_code == 302
    grant = Grant.objects.get(dataset=dataset, user=other_user)
    assert grant.granted_by.is_superuser
    assert AuditEvent.objects.get(action="grant").details == {"user": other_user.username, "via": "admin"}


UPLOADED_ROUTES = {"api:version-file": "data.parquet", "api:version-archive": None, "api:version-format": "parquet"}


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_an_uploaded_restricted_dataset_never_leaves_by_any_route(who, private_world, user, admin_user):  # noqa: F811
    """The sweep over every route, pointed at Alice's uploaded real table: its cells appear nowhere,
    not even to her or to staff, and its files, archive and exports answer 403."""
    uploaded = private_world["uploaded"]
    kwargs = {name: value for name, value in private_world.items() if name not in ("secrets", "uploaded")}
    for name in kwargs:
        if "pk" in kwargs[name] and name.startswith(("api:version", "portal:version")):
            kwargs[name] = {**kwargs[name], "pk": uploaded.pk}
    kwargs["api:version-file"]["path"] = "data.parquet"
    kwargs["api:dataset-detail"] = kwargs["api:dataset-versions"] = {"slug": uploaded.dataset.slug}
    kwargs["portal:dataset"] = {"slug": uploaded.dataset.slug}
    client = APIClient()
    client.force_authenticate(user if who == "owner" else admin_user)
    for name in sorted(route_names()):
        if name == "api:api-root" or name in WRITE_VIEWS:
            continue
        response = client.get(reverse(name, kwargs=kwargs.get(name, {})))
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert SECRET_CELL.encode() not in body, f"{name} shows a real cell to its {who}"
        if name in UPLOADED_ROUTES:
            assert response.status_code == 403, f"{name} answered {response.status_code}"
