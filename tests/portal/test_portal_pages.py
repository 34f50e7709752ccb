"""The portal's catalog, version, generator, comparison and access pages through Django's test client.

Restricted content is checked by its bytes: the real table carries a marker value that must never
appear on any page, and the viewer's routes answer 404 for restricted versions whoever asks.
"""

import io
import re

import numpy as np
import pytest
from PIL import Image

from access.models import AccessRequest, AuditEvent, Grant
from catalog.models import Dataset, DatasetVersion
from jobs import runner, service
from jobs.models import Job
from portal import samples
from tests.support.tables import MARKER, noise_table, publish_table, real_table

pytestmark = pytest.mark.django_db
MARKS = (str(MARKER).encode(), b"987,654", b"987654")


def run_generate(user, generator: str, dataset: str, **params):
    job = service.submit(user, "generate", {"generator": generator, "dataset": dataset, "access": "public",
                                            "params": {"seed": 3, **params}})
    runner.execute(str(job.pk))
    job.refresh_from_db()
    assert job.state == "succeeded", job.error
    return DatasetVersion.objects.get(job=job)


@pytest.fixture
def restricted(user, other_user):
    """A restricted reference holding the marker, owned by someone else, and Alice's public dataset on it."""
    keeper = other_user
    reference = Dataset.objects.create(slug="real-people", title="Real people", modality="tabular",
                                       kind="reference", access="restricted", owner=keeper)
    real = publish_table(reference, real_table(), "v1")
    mine = Dataset.objects.create(slug="open-synth", title="Open synth", modality="tabular", kind="synthetic",
                                  access="public", owner=user, reference=reference)
    synthetic = publish_table(mine, noise_table(seed=4), "v1", parents=[(real, "fitted-on")])
    # Released by the gate, as if its evaluation had passed (tests/platform/test_release_gate.py holds).
    DatasetVersion.objects.filter(pk=synthetic.pk).update(gate=DatasetVersion.Gate.PASSED)
    synthetic.gate = DatasetVersion.Gate.PASSED
    return {"reference": reference, "real": real, "mine": mine, "synthetic": synthetic, "keeper": keeper}


def page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.content.decode()


# --- catalog ---------------------------------------------------------------------------------------

def test_the_catalog_searches_filters_sorts_and_pages(client, user):
    for i in range(23):
        Dataset.objects.create(slug=f"set-{i:02d}", title=f"Set {i:02d}", modality="image" if i % 2 else "tabular",
                               kind="synthetic", access="public", owner=user, tags=["faces"] if i < 3 else [])
    Dataset.objects.create(slug="hidden-set", title="Hidden set", modality="image", kind="synthetic",
                           access="private", owner=user)
    first = page(client, "/datasets/?ordering=slug")
    assert "23 datasets" in first and "set-00" in first and "set-20" not in first and "hidden-set" not in first
    assert "set-20" in page(client, "/datasets/?ordering=slug&page=2")
    found = page(client, "/datasets/?q=Set+07")
    assert "1 dataset" in found and "set-07" in found
    images = page(client, "/datasets/?modality=image&ordering=-slug&q=")  # an empty field means "any"
    slugs = re.findall(r"<code class=\"muted\">(set-\d\d)</code>", images)
    assert slugs == sorted((f"set-{i:02d}" for i in range(1, 23, 2)), reverse=True)
    assert "Image (11)" in images and "Tabular (12)" in images  # counts with the other filters kept
    tagged = page(client, "/datasets/?tag=faces")
    assert re.findall(r"<code class=\"muted\">(set-\d\d)</code>", tagged) == ["set-02", "set-01", "set-00"]


def test_a_bad_facet_value_is_a_400_naming_it(client):
    body = page(client, "/datasets/?modality=smells", status=400)
    assert "modality:" in body and "smells" in body


def test_the_api_reads_the_same_filterset(api, user):
    Dataset.objects.create(slug="alpha", title="Alpha", modality="image", kind="synthetic", access="public",
                           owner=user, tags=["x"])
    Dataset.objects.create(slug="beta", title="Beta", modality="image", kind="synthetic", access="public", owner=user)
    response = api.get("/api/datasets/", {"q": "alp"})
    assert [d["slug"] for d in response.json()["results"]] == ["alpha"]
    assert [d["slug"] for d in api.get("/api/datasets/", {"tag": "x"}).json()["results"]] == ["alpha"]
    Dataset.objects.filter(slug="beta").update(tags=["café"])
    assert [d["slug"] for d in api.get("/api/datasets/", {"tag": "café"}).json()["results"]] == ["beta"]


# --- version pages -----------------------------------------------------------------------------------

def test_a_table_version_shows_its_manifest_snippet_rows_and_column_statistics(client, user):
    dataset = Dataset.objects.create(slug="tab", title="Tab", modality="tabular", kind="synthetic",
                                     access="public", owner=user)
    frame = noise_table(rows=60, seed=9)
    version = publish_table(dataset, frame, "v1")
    body = page(client, f"/versions/{version.pk}/")
    sha = version.manifest["files"][0]["sha256"]
    assert sha in body and f"/api/versions/{version.pk}/archive.zip" in body
    assert "hashlib.sha256(body).hexdigest() == entry[&quot;sha256&quot;]" in body
    assert f"{frame['a'].mean():.3g}" in body and f"{frame['b'].std():.3g}" in body  # three significant digits
    assert f"{frame['c'].iloc[0]:.3g}" in body and f"{frame['c'].iloc[30]:.3g}" not in body  # 25 rows a page
    second = page(client, f"/versions/{version.pk}/samples/?page=2")
    assert f"{frame['c'].iloc[30]:.3g}" in second and "page 2 of 3" in second


def test_the_viewer_pages_images_with_their_class_and_draws_the_real_pixels(client, user):
    version = run_generate(user, "digits", "view-digits", n=40)
    arrays = samples.sample_arrays(version, 30)[0]
    body = page(client, f"/versions/{version.pk}/samples/?page=2")
    assert 'data-index="30"' in body and 'data-index="10"' not in body  # beyond the first 24
    label = int(arrays["labels"][30])
    assert f'alt="Sample 30, class {label}"' in body
    png = client.get(f"/versions/{version.pk}/samples/30/image.png")
    assert png["Content-Type"] == "image/png"
    drawn = np.asarray(Image.open(io.BytesIO(png.content)))
    image = arrays["images"][30].astype(float)
    expected = 255 - ((image - image.min()) / (image.max() - image.min()) * 255).astype(np.uint8)
    np.testing.assert_array_equal(drawn, expected)


def test_scene_overlays_are_the_stored_boxes_and_masks(client, user):
    version = run_generate(user, "scenes", "view-scenes", n=5, min_visible_fraction=0.0)
    arrays = samples.sample_arrays(version, 0)[0]
    body = page(client, f"/versions/{version.pk}/")
    for toggle in ("show-boxes", "show-amodal-boxes", "show-visible", "show-amodal", "show-keypoints", "show-depth"):
        assert f'id="{toggle}"' in body
    slot = int(np.flatnonzero((arrays["category_id"][0] > 0) & ~np.isnan(arrays["visible_boxes"][0, :, 0]))[0])
    x, y, w, h = (round(float(v), 1) for v in arrays["visible_boxes"][0, slot])
    assert f'class="l-boxes" x="{x}" y="{y}" width="{w}" height="{h}"' in body
    assert "page 1 of 2" in body and 'data-index="4"' not in body
    visible = np.asarray(Image.open(io.BytesIO(client.get(f"/versions/{version.pk}/samples/0/visible.png").content)))
    colour = samples._rgb(samples.PALETTE[slot])
    expected = arrays["instance_ids"][0] == slot + 1
    np.testing.assert_array_equal((visible[..., :3] == colour).all(-1) & (visible[..., 3] > 0), expected)
    depth = np.asarray(Image.open(io.BytesIO(client.get(f"/versions/{version.pk}/samples/0/depth.png").content)))
    nothing = ~np.isfinite(arrays["depth"][0])
    assert (depth[nothing] == 0).all() and (depth[~nothing] > 0).all()
    assert client.get(f"/versions/{version.pk}/samples/0/normals.png").status_code == 404
    assert client.get(f"/versions/{version.pk}/samples/99/image.png").status_code == 404


def test_restricted_versions_show_metadata_to_the_allowed_and_never_content(client, user, restricted):
    Grant.objects.create(dataset=restricted["reference"], user=user)
    client.force_login(user)
    real = restricted["real"]
    body = client.get(f"/versions/{real.pk}/").content
    assert real.manifest["files"][0]["sha256"].encode() in body  # metadata: yes
    assert b"viewer-page" not in body and b"archive.zip" not in body and b"/files/" not in body
    for url in (f"/versions/{real.pk}/samples/", f"/versions/{real.pk}/samples/0/image.png",
                "/datasets/real-people/", f"/versions/{real.pk}/compare/{restricted['synthetic'].pk}/"):
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert not any(mark in response.content for mark in MARKS), url
    assert client.get(f"/versions/{real.pk}/samples/").status_code == 404
    assert client.get(f"/versions/{real.pk}/samples/0/image.png").status_code == 404
    client.force_login(restricted["keeper"])  # its owner neither
    assert client.get(f"/versions/{real.pk}/samples/").status_code == 404


def test_versions_compare_parameters_and_figures_side_by_side(client, user):
    first = run_generate(user, "digits", "cmp", n=20)
    second = run_generate(user, "digits", "cmp", n=30)
    body = page(client, f"/versions/{first.pk}/compare/{second.pk}/")
    row = re.search(r'<tr class="differs"><td><code>n</code>.*?<td>(\d+)</td><td>(\d+)</td>', body, re.S)
    assert row and row.groups() == ("20", "30")
    assert "Neither version has a report yet." in body


# --- dataset, generator and job pages ----------------------------------------------------------------

def test_the_dataset_page_draws_lineage_and_hides_a_reference_the_viewer_cannot_open(client, user, restricted):
    body = page(client, "/datasets/open-synth/")
    assert '<svg class="lineage"' in body and "a dataset you cannot see" in body
    assert 'href="/datasets/real-people/"' not in body and "Evaluate now" not in body
    assert not any(mark.decode() in body for mark in MARKS)
    client.force_login(user)
    body = page(client, "/datasets/open-synth/")
    assert "/datasets/real-people/access/" in body and "Evaluate now" not in body  # no grant: cannot use it


def test_evaluating_shows_while_an_evaluation_is_under_way_instead_of_evaluate_now(client, user, restricted):
    Grant.objects.create(dataset=restricted["reference"], user=user)
    client.force_login(user)
    assert "Evaluate now" in page(client, "/datasets/open-synth/")
    job = service.submit(user, "evaluate", {"version": restricted["synthetic"].pk})
    body = page(client, "/datasets/open-synth/")
    assert "evaluating…" in body and "Evaluate now" not in body
    status = page(client, f"/versions/{restricted['synthetic'].pk}/report-status/")
    assert 'hx-trigger="every 2s"' in status
    Job.objects.filter(pk=job.pk).update(state="failed")
    status = page(client, f"/versions/{restricted['synthetic'].pk}/report-status/")
    assert "hx-trigger" not in status and "Evaluate now" in status


def test_generator_pages_document_parameters_from_the_schema(client, user):
    example = run_generate(user, "digits", "gen-example", n=20)
    body = page(client, "/generators/digits/")
    assert "Generate with digits" not in body  # anonymous: a log-in link instead
    assert "<code class=\"muted\">n</code>" in body and f"/versions/{example.pk}/" in body
    from generators import registry
    schema = registry.get("digits").schema["properties"]["n"]
    assert f"{schema['minimum']:,} … {schema['maximum']:,}" in body
    assert page(client, "/generators/nope/", status=404).count("Not found") >= 1


def test_a_job_page_links_its_version_and_its_evaluation(client, user, restricted):
    Grant.objects.create(dataset=restricted["reference"], user=user)
    job = service.submit(user, "generate", {"generator": "digits", "dataset": "job-page", "params": {"n": 20}})
    runner.execute(str(job.pk))
    version = DatasetVersion.objects.get(job=job)
    evaluate = Job.objects.create(type="evaluate", owner=user, parameters={"version": version.pk})
    evaluate.inputs.add(version)
    client.force_login(user)
    body = page(client, f"/jobs/{job.pk}/")
    assert f'href="/versions/{version.pk}/"' in body and f'href="/jobs/{evaluate.pk}/"' in body
    assert 'aria-label="Generate job progress"' in body
    # The log tail: the progress messages the run wrote, in order, ending with "done".
    job.refresh_from_db()
    messages = [line["message"] for line in job.progress_log]
    assert messages[0] == "starting digits" and messages[-1] == "done"
    assert '<ol id="job-log"' in body and "starting digits" in body
    # The fragment keeps polling while its follow-up (the evaluation) runs, and stops after.
    fragment = page(client, f"/jobs/{job.pk}/progress/")
    assert "hx-get=" in fragment and f'href="/jobs/{evaluate.pk}/"' in fragment
    Job.objects.filter(pk=evaluate.pk).update(state="succeeded")
    assert "hx-get=" not in page(client, f"/jobs/{job.pk}/progress/")


def test_the_progress_log_keeps_a_bounded_tail_of_changed_messages(user, monkeypatch):
    job = Job.objects.create(type="generate", owner=user, state="running", worker="here")
    run = runner.JobRun(job, "here")
    monkeypatch.setattr(runner.JobRun, "PROGRESS_INTERVAL", 0.0)
    for step in range(runner.JobRun.LOG_TAIL + 30):
        run.progress(step / 200, f"step {step}")
        run.progress(step / 200, f"step {step}")  # a repeated message is one line
    job.refresh_from_db()
    messages = [line["message"] for line in job.progress_log]
    assert len(messages) == runner.JobRun.LOG_TAIL and len(set(messages)) == len(messages)
    assert messages[0] == "step 30" and messages[-1] == f"step {runner.JobRun.LOG_TAIL + 29}"
    assert job.progress_log[-1]["progress"] == round((runner.JobRun.LOG_TAIL + 29) / 200, 4)


def test_form_errors_sit_beside_their_field_with_a_human_name(client, user):
    client.force_login(user)
    body = client.post("/jobs/new/", {"generator": "digits", "p.n": "0"}).content.decode()
    assert re.search(r'id="p-n" name="p.n" value="0"\s+inputmode="decimal" aria-invalid="true" '
                     r'aria-describedby="p-n-error" autofocus', body)
    assert 'class="field-error" id="p-n-error"' in body
    assert "parameters.params.n" not in body


# --- access ------------------------------------------------------------------------------------------

def test_request_grant_and_refuse_access_audited(client, user, django_user_model, restricted):
    reference = restricted["reference"]
    carol = django_user_model.objects.create_user("carol")
    client.force_login(user)
    body = page(client, "/datasets/real-people/", status=403)
    assert "Request access" in body and not any(mark.decode() in body for mark in MARKS)
    client.post("/datasets/real-people/access/request/", {"reason": "to evaluate my tables"})
    client.post("/datasets/real-people/access/request/", {"reason": "twice"})  # one pending request, not two
    made = AccessRequest.objects.get()
    assert made.state == "pending" and made.reason == "to evaluate my tables"
    assert "waiting for the owner" in page(client, "/datasets/real-people/access/", status=403)

    assert client.post(f"/access-requests/{made.pk}/decide/", {"decision": "grant"}).status_code == 404  # not hers
    client.force_login(carol)
    assert client.post(f"/access-requests/{made.pk}/decide/", {"decision": "grant"}).status_code == 404
    client.force_login(restricted["keeper"])
    assert "to evaluate my tables" in page(client, "/datasets/real-people/")
    client.post(f"/access-requests/{made.pk}/decide/", {"decision": "grant"})
    assert Grant.objects.filter(dataset=reference, user=user).exists()
    event = AuditEvent.objects.get(action="grant")
    assert event.user == restricted["keeper"] and event.target == "real-people" and event.details["requester"] == "alice"

    client.force_login(user)
    body = page(client, "/datasets/real-people/")  # metadata now, never content
    assert "Real people" in body and not any(mark.decode() in body for mark in MARKS)


def test_a_refusal_is_audited_and_grants_nothing(client, user, restricted):
    client.force_login(user)
    client.post("/datasets/real-people/access/request/")
    made = AccessRequest.objects.get()
    client.force_login(restricted["keeper"])
    client.post(f"/access-requests/{made.pk}/decide/", {"decision": "refuse"})
    made.refresh_from_db()
    assert made.state == "refused" and not Grant.objects.exists()
    assert AuditEvent.objects.filter(action="refuse", target="real-people").count() == 1


def test_a_dataset_no_visible_page_names_is_a_plain_404(client, user, other_user):
    Dataset.objects.create(slug="unknown-secret", title="Unknown", modality="tabular", kind="reference",
                           access="restricted", owner=other_user)
    client.force_login(user)
    for url in ("/datasets/unknown-secret/", "/datasets/unknown-secret/access/"):
        body = page(client, url, status=404)
        assert "Not found" in body and "Traceback" not in body and "Unknown" not in body
    assert client.post("/datasets/unknown-secret/access/request/").status_code == 404
    assert not AccessRequest.objects.exists()


def test_pages_carry_a_skip_link_a_favicon_and_a_viewport(client):
    body = page(client, "/")
    assert 'href="#main"' in body and 'rel="icon"' in body and 'name="viewport"' in body


def test_public_pages_link_only_to_what_the_visitor_can_open(client, user, restricted):
    """Crawl the portal as an anonymous visitor from the catalog: every link answers 200 (log-in aside)."""
    from catalog.models import Evaluation

    run_generate(user, "digits", "crawl-digits", n=30)
    Evaluation.objects.create(version=restricted["synthetic"], reference=restricted["real"],
                              results={"summary": {"quality_score": 80.0, "privacy_score": 90.0},
                                       "verdict": {"privacy_gate": "pass", "checks": []}})
    seen, frontier = set(), ["/"]
    while frontier and len(seen) < 80:
        url = frontier.pop()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        assert response.status_code == 200, f"{url} answered {response.status_code}"
        if "text/html" not in response.get("Content-Type", "") or response.streaming:
            continue
        body = response.content.decode()
        assert not any(mark.decode() in body for mark in MARKS), url
        for link in re.findall(r'href="(/[^"#]*)', body):
            if not link.startswith(("/accounts/login", "/api/docs", "/api/redoc")):
                frontier.append(link.replace("&amp;", "&"))
    assert any(u.startswith("/versions/") for u in seen) and any(u.startswith("/generators/") for u in seen)


def test_evaluate_now_twice_queues_one_evaluation(client, user, restricted):
    Grant.objects.create(dataset=restricted["reference"], user=user)
    client.force_login(user)
    version = restricted["synthetic"]
    client.post(f"/versions/{version.pk}/evaluate/")
    response = client.post(f"/versions/{version.pk}/evaluate/")
    assert response["Location"] == f"/versions/{version.pk}/"
    assert Job.objects.filter(type="evaluate").count() == 1


def test_server_errors_get_the_plain_page_not_a_debug_one(rf):
    from synthreg.handlers import server_error

    response = server_error(rf.get("/datasets/"))
    assert response.status_code == 500 and b"Something went wrong" in response.content
    assert b"Traceback" not in response.content


def test_a_restricted_image_version_shows_no_sample_and_no_preview_even_to_its_owner(client, user, tmp_path,
                                                                                    django_user_model):
    import shutil

    from catalog.previews import write_preview
    from catalog.publish import publish_version

    real = Dataset.objects.create(slug="real-digits", title="Real digits", modality="image", kind="reference",
                                  access="restricted", owner=user)
    images = np.random.default_rng(0).integers(0, 17, size=(40, 8, 8)).astype(np.float64)
    np.savez(tmp_path / "digits.npz", images=images, labels=np.arange(40) % 10)
    preview = write_preview(tmp_path)
    version = publish_version(dataset=real, staging=tmp_path, key="v1", claim=lambda: None, samples=40, preview=preview)
    shutil.rmtree(tmp_path, ignore_errors=True)
    admin = django_user_model.objects.create_user("root", is_staff=True)
    for who in (user, admin):
        client.force_login(who)
        for url in (f"/versions/{version.pk}/", "/datasets/real-digits/", "/generators/digits/"):
            body = page(client, url)
            assert "/samples/" not in body and "/files/" not in body and "<img" not in body, (who, url)
        assert client.get(f"/versions/{version.pk}/samples/?page=2").status_code == 404
        assert client.get(f"/versions/{version.pk}/samples/3/image.png").status_code == 404
        assert "preview.png" in page(client, f"/versions/{version.pk}/")  # named in the manifest, not shown


def test_files_too_large_for_the_viewer_are_not_opened(client, user, monkeypatch):
    version = run_generate(user, "digits", "big-digits", n=20)
    monkeypatch.setattr(samples, "MAX_VIEWED_FILE", 100)
    body = page(client, f"/versions/{version.pk}/")
    assert "too large to view here; download them instead" in body and 'data-index="0"' not in body
    assert client.get(f"/versions/{version.pk}/samples/0/image.png").status_code == 404
