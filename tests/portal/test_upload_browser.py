"""The upload page in a real browser: chunks with a progress bar, the schema shown and overridden,
the dataset registered restricted."""

import re

import pytest
from playwright.sync_api import Page, expect

from catalog import storage
from catalog.models import Dataset
from tests.portal.test_portal_browser import log_in
from tests.support.uploads import csv_table

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_upload_a_table_confirm_its_schema_and_register_it(page: Page, live_server, user, settings, tmp_path):
    import pandas as pd

    settings.SYNTHREG_UPLOAD_CHUNK_BYTES = 512  # several chunks, so the bar moves
    path = tmp_path / "people.csv"
    path.write_bytes(csv_table(rows=120))
    log_in(page, live_server, "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/")
    page.click("text=Upload your own data")
    page.set_input_files("#file", str(path))
    page.fill("#slug", "Bad Slug")
    page.click("#upload-submit")
    expect(page.locator("#schema")).to_be_visible()
    expect(page.locator(".progress")).to_have_attribute("aria-valuenow", "100")
    expect(page.locator("#schema tbody tr")).to_have_count(6)
    expect(page.locator("#schema tbody tr", has_text="person_id")).to_contain_text("identifier-like")
    page.click("#upload-submit")  # the bad slug is refused next to its field
    expect(page.locator('[data-error-for="slug"]')).to_contain_text("lower-case")
    expect(page.locator("#slug")).to_have_attribute("aria-invalid", "true")
    page.fill("#slug", "people")
    page.select_option('select[data-column="age"]', "categorical")
    page.select_option('select[data-column="person_id"]', "drop")
    page.click("#upload-submit")
    expect(page).to_have_url(re.compile(r"/datasets/people/$"))
    dataset = Dataset.objects.get(slug="people")
    assert dataset.access == "restricted"
    version = dataset.versions.get()
    with storage.open_version_file(version.storage_prefix, "data.parquet") as fh:
        frame = pd.read_parquet(fh)
    assert "person_id" not in frame and not pd.api.types.is_numeric_dtype(frame["age"]) and len(frame) == 120
