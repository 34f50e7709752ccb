"""The catalog, the viewer and access requests in a real browser, with screenshots saved as artifacts."""

import pytest
from playwright.sync_api import Page, expect

from catalog.models import Dataset
from tests.portal.test_portal_browser import log_in
from tests.portal.test_portal_pages import run_generate
from tests.support.tables import noise_table, publish_table, real_table

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def no_sideways_scroll(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_search_open_a_dataset_and_page_the_viewer_with_overlays(page: Page, live_server, user, screenshots):
    version = run_generate(user, "scenes", "street-scenes", n=6, min_visible_fraction=0.0)
    Dataset.objects.create(slug="other-thing", title="Other thing", modality="tabular", kind="synthetic",
                           access="public", owner=user)
    page.goto(live_server.url)
    page.fill("#q", "street")
    page.click("form[role=search] button")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody")).to_contain_text("street-scenes")
    page.screenshot(path=screenshots / "catalog-search.png", full_page=True)

    page.click("tbody a[href='/datasets/street-scenes/']")
    expect(page.locator("svg.lineage")).to_be_visible()
    page.click(f"a[href='/versions/{version.pk}/']")
    expect(page.locator("h1")).to_have_text("street-scenes v1")
    samples = page.locator("#viewer-page .sample")
    expect(samples).to_have_count(4)
    first = samples.first
    expect(first.locator(".l-boxes").first).to_be_visible()
    expect(first.locator(".l-depth")).to_be_hidden()
    page.check("#show-depth")
    page.check("#show-amodal")
    page.uncheck("#show-boxes")
    expect(first.locator(".l-depth")).to_be_visible()
    expect(first.locator(".l-amodal")).to_be_visible()
    expect(first.locator(".l-boxes").first).to_be_hidden()
    # Every layer shown is a PNG the server drew (lazy ones load once shown).
    page.wait_for_function("[...document.querySelectorAll('#viewer-page .sample:first-child img')].every(i => i.complete && i.naturalWidth > 0)")
    page.screenshot(path=screenshots / "viewer-overlays.png", full_page=True)

    url = page.url
    page.click("#viewer-page a[rel=next]")  # htmx swaps the page in; the toggles stay as they were
    expect(page.locator("#viewer-page .pager")).to_contain_text("page 2 of 2")
    expect(page.locator("#viewer-page .sample[data-index='4']")).to_be_visible()
    expect(page.locator("#viewer-page .sample[data-index='4'] .l-depth")).to_be_visible()
    assert page.url == url

    page.set_viewport_size({"width": 390, "height": 844})  # a phone: wide tables scroll inside their wrapper
    assert no_sideways_scroll(page)
    page.screenshot(path=screenshots / "version-phone.png", full_page=True)
    for path in ("/?q=street", "/datasets/street-scenes/", "/generators/scenes/", "/no/such/page/"):
        page.goto(live_server.url + path)
        assert no_sideways_scroll(page), path


def test_request_access_and_its_owner_grants_it(page: Page, live_server, user, other_user, screenshots):
    reference = Dataset.objects.create(slug="real-people", title="Real people", modality="tabular",
                                       kind="reference", access="restricted", owner=other_user)
    publish_table(reference, real_table(), "v1")
    mine = Dataset.objects.create(slug="open-synth", title="Open synth", modality="tabular", kind="synthetic",
                                  access="public", owner=user, reference=reference)
    publish_table(mine, noise_table(seed=4), "v1")

    log_in(page, live_server, "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/datasets/open-synth/")
    expect(page.locator("text=Evaluate now")).to_have_count(0)  # she may not use the reference
    page.click("text=request access")
    page.fill("#reason", "to evaluate my tables against it")
    page.click("button:has-text('Request access')")
    expect(page.locator(".messages")).to_contain_text("Access to real-people requested")
    expect(page.locator("[role=status]")).to_contain_text("waiting")
    page.screenshot(path=screenshots / "access-requested.png", full_page=True)

    page.context.clear_cookies()
    log_in(page, live_server, "bob", "bob-pass-123")
    page.goto(f"{live_server.url}/datasets/real-people/")
    expect(page.locator(".access-request")).to_contain_text("to evaluate my tables against it")
    page.screenshot(path=screenshots / "access-decide.png", full_page=True)
    page.click(".access-request button[value=grant]")
    expect(page.locator(".messages")).to_contain_text("alice's request for real-people: granted")

    page.context.clear_cookies()
    log_in(page, live_server, "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/datasets/real-people/")
    expect(page.locator("h1")).to_have_text("Real people")
    page.goto(f"{live_server.url}/datasets/open-synth/")
    expect(page.locator("button:has-text('Evaluate now')")).to_be_visible()
