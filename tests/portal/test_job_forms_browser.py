"""Any job type's form, in a real browser: the toy `fit-means` (tests/support/jobtypes.py) is
offered on the jobs page, its form is drawn from its schema, and it runs on a real worker."""

import re

import pytest
from playwright.sync_api import Page, expect

from catalog.models import Dataset
from jobs.types import JOB_TYPES
from tests.portal.test_portal_browser import log_in
from tests.support.jobtypes import FIT_MEANS
from tests.support.tables import noise_table, publish_table

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_registered_job_type_is_offered_and_run_from_its_form(page: Page, live_server, user, filesystem_broker,
                                                                 start_worker):
    table = Dataset.objects.create(slug="my-table", title="Mine", modality="tabular", kind="synthetic",
                                   access="private", owner=user)
    publish_table(table, noise_table(), "v1")
    start_worker(filesystem_broker, env={"SYNTHREG_JOB_TYPES": "tests.support.jobtypes.FIT_MEANS"})
    with JOB_TYPES.temporarily_registered(FIT_MEANS):
        log_in(page, live_server, "alice", "alice-pass-123")
        page.goto(f"{live_server.url}/jobs/")
        page.click("text=Fit column means (test)")
        expect(page.locator("h1")).to_have_text("Fit column means (test)")
        page.fill("#p-table", "nowhere")
        page.click("button[type=submit]")
        expect(page.locator(".error")).to_contain_text("parameters.table: no dataset 'nowhere' you can use")
        page.fill("#p-table", "my-table")
        page.click("button[type=submit]")

        expect(page).to_have_url(re.compile(r"/jobs/[0-9a-f-]+/$"))
        expect(page.locator("#job-progress [data-state]")).to_have_text("succeeded", timeout=60_000)
        page.click("text=alice-means v1")
        expect(page.locator("a", has_text="model.safetensors")).to_be_visible()
