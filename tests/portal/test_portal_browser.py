"""The portal in a real browser: log in, generate from a form, watch the live bar, find the version."""

import re

import pytest
from playwright.sync_api import Page, expect

from catalog.models import Dataset

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def log_in(page: Page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def test_generate_from_the_portal_and_watch_it_finish(page: Page, live_server, user, filesystem_broker, start_worker,
                                                     screenshots):
    """Launch from the form, watch the live bar and log, see the evaluation follow, open its report and PDF.

    Scenes into a dataset evaluated against real digits: their report has no TSTR models to
    train (utility does not apply to scenes), so the whole flow runs in seconds."""
    from tests.platform.test_evaluate_by_format import publish, write_digits

    real = Dataset.objects.create(slug="real-digits", title="Real digits", modality="image", format="images/1",
                                  kind="reference", access="restricted", owner=user)
    publish(real, write_digits)
    Dataset.objects.create(slug="browser-scenes", title="Browser scenes", modality="scene", kind="synthetic",
                           owner=user, reference=real)
    start_worker(filesystem_broker)
    log_in(page, live_server, "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/jobs/new/")
    page.select_option("#generator", "digits")
    page.fill("#dataset", "not a slug!")  # the pattern is a valid regex under Chromium's `v` flag: it checks
    assert page.evaluate("document.querySelector('#dataset').validity.patternMismatch")
    page.select_option("#generator", "scenes")
    expect(page.locator("#p-width")).to_be_visible()  # htmx drew the scenes' parameters
    page.fill("#dataset", "browser-scenes")
    assert page.evaluate("document.querySelector('#dataset').checkValidity()")
    page.fill("#p-n", "6")
    page.fill("#p-width", "24")
    page.fill("#p-height", "16")
    page.click("button[type=submit]")

    expect(page).to_have_url(re.compile(r"/jobs/[0-9a-f-]+/$"))
    # The progress fragment is polled by htmx until the job and its follow-up (the evaluation) end.
    expect(page.locator("#job-progress [data-state]").first).to_have_text("succeeded", timeout=60_000)
    expect(page.locator("#job-log")).to_contain_text("done")
    expect(page.locator("#follow-ups")).to_contain_text("evaluate job")
    page.screenshot(path=screenshots / "job-progress.png")
    expect(page.locator("#follow-ups [data-state]")).to_have_text("succeeded", timeout=120_000)
    expect(page.locator("#follow-ups .follow-up-report")).to_be_visible()
    page.screenshot(path=screenshots / "job-evaluated.png")

    page.click("#follow-ups .follow-up-report")
    expect(page.locator("h1")).to_contain_text("Report: browser-scenes@v1")
    expect(page.locator("iframe[title^='Full report']")).to_be_visible()
    page.screenshot(path=screenshots / "evaluation-report.png", full_page=True)
    pdf = page.request.get(live_server.url + page.locator("a", has_text="PDF").get_attribute("href"))
    assert pdf.ok and pdf.body().startswith(b"%PDF")

    page.locator("main a", has_text="browser-scenes@v1").first.click()
    expect(page.locator("main")).to_contain_text("coco.json")


def test_bad_parameters_in_the_form_say_which_field(page: Page, live_server, user):
    log_in(page, live_server, "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/jobs/new/?generator=digits")
    page.fill("#p-n", "0")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("Not submitted.")
    expect(page.locator("#p-n")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#p-n")).to_be_focused()
    expect(page.locator("#p-n-error")).to_be_visible()
    page.fill("#p-n", "ten")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("'ten' is not an integer")
    expect(page.locator("#p-n")).to_have_value("ten")  # what was typed comes back, to be corrected
    page.fill("#p-n", "10")
    page.fill("#p-classes", "[1, 2")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("Classes: not valid JSON")
    expect(page.locator("#p-classes")).to_have_attribute("aria-invalid", "true")


def test_choosing_another_generator_redraws_its_parameters(page: Page, live_server, user):
    log_in(page, live_server, "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/jobs/new/?generator=digits")
    expect(page.locator("#p-mode")).to_be_visible()
    page.select_option("#generator", "scenes")
    expect(page.locator("#p-modality")).to_be_attached()  # fetched by htmx, no page load
    expect(page.locator("#p-mode")).to_have_count(0)


def test_anonymous_visitors_see_only_public_datasets(page: Page, live_server, user):
    Dataset.objects.create(slug="open-data", title="Open data", modality="tabular", kind="synthetic",
                           access="public", owner=user)
    Dataset.objects.create(slug="secret-data", title="Secret data", modality="tabular", kind="synthetic",
                           access="private", owner=user)
    page.goto(live_server.url)
    expect(page.locator("table")).to_contain_text("Open data")
    expect(page.locator("table")).not_to_contain_text("Secret data")
    assert page.goto(f"{live_server.url}/datasets/secret-data/").status == 404
