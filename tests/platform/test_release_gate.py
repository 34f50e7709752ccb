"""The release gate: a version made from restricted data is private to its owner until its evaluation
passes the reference's thresholds. A "synthesizer" that copies real rows is held with the failing metric
named, on every route; publishing is refused naming it; an administrator's override is audited, shown
with the version, and then publishing is allowed. `inconclusive` needs an override too."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from access import gate
from access.models import AuditEvent, Grant
from catalog.models import Dataset, Evaluation
from jobs import runner, service
from jobs.models import Job
from tests.platform.test_permissions_every_view import route_names
from tests.support.tables import noise_table, publish_table, real_table

pytestmark = pytest.mark.django_db


@pytest.fixture
def copied(user, reference):
    """Alice's "synthesizer" that copies the real rows, fitted on the restricted reference."""
    dataset = Dataset.objects.create(slug="alice-copy", title="Copy", modality="tabular", kind="synthetic",
                                     access="private", owner=user, reference=reference)
    return publish_table(dataset, real_table(), "v1", parents=[(reference.latest_ready_version(), "fitted-on")])


@pytest.fixture
def admin(django_user_model):
    staff = django_user_model.objects.create_user("root", is_staff=True)
    client = APIClient()
    client.force_authenticate(staff)
    return client


def evaluate_in_process(user, version, monkeypatch) -> Evaluation:
    """The real evaluate job, run by this process (the worker path is test_synthesize's). Utility is cut
    to one model and seed for time; the privacy checks the gate reads are computed in full."""
    import evaluation

    full = evaluation.build_tabular_report
    monkeypatch.setattr(evaluation, "build_tabular_report",
                        lambda *args, **kwargs: full(*args, **kwargs, seeds=(0,), models=("linear",)))
    job = service.submit(user, "evaluate", {"version": version.pk})
    runner.execute(str(job.pk))
    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED, job.error
    return job.evaluation


def with_verdict(version, reference, state: str) -> Evaluation:
    """An evaluation whose verdict is ``state`` (for the states a real small table cannot be made to give
    on demand), followed by the gate as a real one is."""
    unsure = [{"check": "dcr_share", "reason": "too few rows", "rows_needed": 400}] if state == "inconclusive" else []
    evaluation = Evaluation.objects.create(
        version=version, reference=reference.latest_ready_version(),
        results={"verdict": {"privacy_gate": state, "failed": ["mia_auc"] if state == "fail" else [],
                             "inconclusive": unsure}})
    gate.evaluated(evaluation)
    version.refresh_from_db()
    return evaluation


def test_a_copy_of_real_rows_is_held_with_the_failing_metric_named_and_an_override_is_audited(
        api, client, user, other_user, copied, admin, monkeypatch):
    assert copied.gate == "held"  # born held: fitted on restricted data
    Grant.objects.create(dataset=copied.dataset, user=other_user)  # shared before; the gate still holds it
    evaluation = evaluate_in_process(user, copied, monkeypatch)
    copied.refresh_from_db()
    verdict = evaluation.results["verdict"]
    assert verdict["privacy_gate"] == "fail" and copied.gate == "held"
    shown = api.get(f"/api/versions/{copied.pk}/").json()["gate"]
    assert (shown["state"], shown["failed"], shown["evaluation"]) == ("held", verdict["failed"], evaluation.pk)
    assert "exact_match_excess" in verdict["failed"] or "dcr_share" in verdict["failed"]

    # Private to its owner: a grantee of the dataset sees neither the version nor its files.
    bob = APIClient()
    bob.force_authenticate(other_user)
    assert bob.get(f"/api/datasets/{copied.dataset.slug}/").status_code == 200
    assert bob.get(f"/api/versions/{copied.pk}/").status_code == 404
    assert bob.get(reverse("api:version-file", args=[copied.pk, "data.parquet"])).status_code == 404
    assert api.get(reverse("api:version-file", args=[copied.pk, "data.parquet"])).status_code == 200

    # Publishing is refused, naming the failing metrics; nothing changes.
    for body, field in (({"access": "public"}, "access"), ({"grant": "root"}, "grant")):
        refused = api.post(f"/api/datasets/{copied.dataset.slug}/publish/", body, format="json")
        assert refused.status_code == 400, refused.content
        assert refused.json()["failing"] == verdict["failed"]
        assert all(name in refused.json()[field][0] for name in verdict["failed"])
    copied.dataset.refresh_from_db()
    assert copied.dataset.access == "private" and not copied.dataset.grants.filter(user__username="root").exists()

    # Only an administrator overrides, with a reason; the audit record shows on the version.
    assert api.post(f"/api/versions/{copied.pk}/override/", {"reason": "mine"}, format="json").status_code == 403
    assert "reason" in admin.post(f"/api/versions/{copied.pk}/override/", {"reason": " "}, format="json").json()
    answer = admin.post(f"/api/versions/{copied.pk}/override/", {"reason": "test fixture, no real people"},
                        format="json")
    assert answer.status_code == 200, answer.content
    override = answer.json()["gate"]["overrides"][0]
    assert (answer.json()["gate"]["state"], override["by"], override["verdict"], override["failed"]) == (
        "overridden", "root", "fail", verdict["failed"])
    event = AuditEvent.objects.get(action="gate-override")
    assert event.details["version"] == copied.pk and event.details["reason"] == "test fixture, no real people"
    client.force_login(user)
    page = client.get(reverse("portal:version", args=[copied.pk])).content.decode()
    assert "test fixture, no real people" in page and "overridden" in page

    # Now it may be published, and is.
    published = api.post(f"/api/datasets/{copied.dataset.slug}/publish/", {"access": "public"}, format="json")
    assert published.status_code == 200 and published.json()["access"] == "public"
    assert APIClient().get(f"/api/versions/{copied.pk}/").status_code == 200
    trail = api.get(f"/api/datasets/{copied.dataset.slug}/audit/").json()
    assert [e["action"] for e in trail][:2] == ["publish", "gate-override"]


def test_inconclusive_needs_an_override_and_pass_releases(api, client, user, reference, admin):
    dataset = Dataset.objects.create(slug="alice-small", title="Small", modality="tabular", kind="synthetic",
                                     access="private", owner=user, reference=reference)
    version = publish_table(dataset, noise_table(), "v1", parents=[(reference.latest_ready_version(), "fitted-on")])
    with_verdict(version, reference, "inconclusive")
    assert version.gate == "held"
    refused = api.post(f"/api/datasets/{dataset.slug}/publish/", {"access": "public"}, format="json")
    assert refused.status_code == 400 and "inconclusive" in refused.json()["access"][0]
    assert "dcr_share" in refused.json()["access"][0]
    # So do the portal's Publish form and the command line; the command line overrides too (audited).
    client.force_login(user)
    answer = client.post(reverse("portal:dataset-publish", args=[dataset.slug]), {"access": "public"}, follow=True)
    assert "inconclusive" in answer.content.decode()
    dataset.refresh_from_db()
    assert dataset.access == "private"
    with pytest.raises(CommandError, match="inconclusive"):
        call_command("publish", dataset.slug, "--public")
    with pytest.raises(CommandError, match="administrator"):
        call_command("gate", str(version.pk), "--override", "--reason", "mine", "--by", "alice")
    out = io.StringIO()
    call_command("gate", str(version.pk), "--override", "--reason", "checked by hand", "--by", "root", stdout=out)
    assert json.loads(out.getvalue())["state"] == "overridden"
    assert AuditEvent.objects.get(action="gate-override").details["verdict"] == "inconclusive"
    call_command("publish", dataset.slug, "--public", stdout=io.StringIO())
    dataset.refresh_from_db()
    assert dataset.access == "public"

    # A pass releases a held version by itself; a later failure holds it again.
    second = publish_table(dataset, noise_table(seed=4), "v2", parents=[(reference.latest_ready_version(), "fitted-on")])
    assert second.gate == "held" and APIClient().get(f"/api/versions/{second.pk}/").status_code == 404
    with_verdict(second, reference, "pass")
    assert second.gate == "passed" and APIClient().get(f"/api/versions/{second.pk}/").status_code == 200
    with_verdict(second, reference, "fail")
    assert second.gate == "held"


def test_only_an_evaluation_against_the_data_it_learnt_from_releases_it(user, reference, django_user_model):
    other = Dataset.objects.create(slug="other-real", title="Other", modality="tabular", kind="reference",
                                   access="restricted", owner=user)
    publish_table(other, noise_table(seed=9), "v1")
    dataset = Dataset.objects.create(slug="alice-gated", title="Gated", modality="tabular", kind="synthetic",
                                     access="private", owner=user, reference=other)
    version = publish_table(dataset, noise_table(), "v1", parents=[(reference.latest_ready_version(), "fitted-on")])
    with_verdict(version, other, "pass")
    assert version.gate == "held"
    # Learning from a gated version is learning from restricted data: born held too.
    refined = publish_table(dataset, noise_table(seed=5), "v2", parents=[(version, "refined-from")])
    assert refined.gate == "held"
    with_verdict(refined, reference, "pass")  # judged against the restricted data two steps up
    assert refined.gate == "passed"
    plain = publish_table(dataset, noise_table(seed=6), "v3", parents=[(version, "generated-by")])
    assert plain.gate == ""


# Every route that names a version, and the lists that would show it.
VERSION_ROUTES = {
    "api:version-file": {"path": "data.parquet"}, "api:version-archive": {}, "api:version-format": {"name": "parquet"},
    "api:version-webdataset-shard": {"name": "alice-public-v2-000000.tar"},
    "api:version-detail": {}, "api:version-override": {}, "api:version-job-report": {"kind": "html"},
    "portal:version": {}, "portal:version-samples": {},
    "portal:version-sample-layer": {"index": 0, "layer": "image"}, "portal:version-report-status": {},
    "portal:version-evaluate": {}, "portal:version-compare": {"other": None}, "portal:version-override": {},
}


@pytest.mark.parametrize("who", ["anonymous", "grantee"])
def test_every_route_holds_a_held_version_from_all_but_its_owner(who, user, other_user, reference):
    dataset = Dataset.objects.create(slug="alice-public", title="Public", modality="tabular", kind="synthetic",
                                     access="public", owner=user, reference=reference)
    shown = publish_table(dataset, noise_table(seed=2), "v1")
    held = publish_table(dataset, real_table(), "v2", parents=[(reference.latest_ready_version(), "fitted-on")])
    evaluation = with_verdict(held, reference, "fail")
    Grant.objects.create(dataset=dataset, user=other_user)
    assert {name for name in route_names() if name.startswith(("api:version-", "portal:version"))} - {
        "api:version-list"} <= set(VERSION_ROUTES)
    client = APIClient()
    if who == "grantee":
        client.force_authenticate(other_user)
    for name, extra in VERSION_ROUTES.items():
        kwargs = {"pk": held.pk, **{k: (shown.pk if v is None else v) for k, v in extra.items()}}
        method = "post" if name.endswith(("-override", "-evaluate")) else "get"
        response = getattr(client, method)(reverse(name, kwargs=kwargs))
        assert response.status_code in (302, 401, 403, 404), f"{name} answered {response.status_code} to {who}"
    for url in (reverse("api:evaluation-detail", args=[evaluation.pk]), reverse("portal:evaluation", args=[evaluation.pk]),
                reverse("api:evaluation-report", args=[evaluation.pk, "html"])):
        assert client.get(url).status_code in (401, 403, 404), url
    listed = client.get("/api/versions/?dataset=alice-public").json()["results"]
    assert [v["id"] for v in listed] == [shown.pk]
    assert [v["id"] for v in client.get("/api/datasets/alice-public/versions/").json()] == [shown.pk]
    assert [v["id"] for v in client.get("/api/datasets/alice-public/").json()["versions"]] == [shown.pk]
    assert f"/versions/{held.pk}/" not in client.get(reverse("portal:dataset", args=["alice-public"])).content.decode()
