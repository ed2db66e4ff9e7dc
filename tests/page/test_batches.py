"""Many reels from the page: paste scripts or upload a CSV, watch the batch fill in, cancel it."""

import pytest

from .conftest import LONG_SCRIPT, shot
from .test_make import choose

pytestmark = pytest.mark.page

FACTS = ["Honey never spoils, even after thousands of years.", "Octopuses have three hearts and blue blood.",
         "Bananas are berries, but strawberries are not."]


def script(fact):
    return f"{fact} Scientists keep studying why this happens. It still surprises people today."


def test_a_csv_batch_fills_in_as_its_reels_finish(server, open_page):
    page = open_page(server.url)
    choose(page, "Batch")
    rows = "\n".join(f'"{fact[:20]}","{script(fact)}",true' for fact in FACTS)
    page.set_input_files("#batch-file", files=[{"name": "reels.csv", "mimeType": "text/csv",
                                                "buffer": f"title,script,dryRun\n{rows}\n".encode()}])
    page.click("#batch-form button[type=submit]")
    page.wait_for_selector("#batch:not([hidden]) #batch-jobs li")
    names = page.locator("#batch-jobs .job-name").all_inner_texts()
    assert names == [fact[:20].strip() for fact in FACTS]
    shot(page, "batch-queued")
    page.wait_for_selector("#batch[data-status=finished]", timeout=60_000)
    assert page.locator("#batch-jobs li[data-status=completed]").count() == 3
    assert page.inner_text("#batch-counts") == "3 reels: 3 completed"
    assert page.is_hidden("#cancel-batch")
    for fact in FACTS:  # past reels list them too
        page.locator("#jobs .job-name", has_text=fact[:20]).first.wait_for()
    shot(page, "batch-finished")


def test_pasted_scripts_queue_a_batch_that_is_cancelled_together(server, open_page):
    page = open_page(server.url)
    choose(page, "Batch")
    page.fill("#batch-scripts", "\n\n".join([LONG_SCRIPT] * 3))
    page.click("#batch-form button[type=submit]")
    page.wait_for_selector("#batch:not([hidden]) #batch-jobs li")
    assert page.locator("#batch-jobs li").count() == 3
    page.click("#cancel-batch")
    page.wait_for_selector("#batch[data-status=finished]", timeout=60_000)
    statuses = page.locator("#batch-jobs li").evaluate_all("rows => rows.map(row => row.dataset.status)")
    assert statuses.count("cancelled") >= 2 and set(statuses) <= {"cancelled", "completed"}
    shot(page, "batch-cancelled")


def test_a_bad_row_queues_nothing_and_says_which(server, open_page):
    page = open_page(server.url)
    before = server.request("GET", "/api/v1/jobs?limit=1")[1]["total"]
    choose(page, "Batch")
    page.fill("#batch-scripts", script(FACTS[0]) + "\n\nToo short.")
    page.click("#batch-form button[type=submit]")
    problem = page.locator("#batch-errors li").first
    problem.wait_for()
    assert problem.locator("code").inner_text() == "jobs.1.script"
    assert "Nothing was queued" in page.inner_text("#batch-form .form-error")
    assert server.request("GET", "/api/v1/jobs?limit=1")[1]["total"] == before
    shot(page, "batch-refused")
