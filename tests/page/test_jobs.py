"""Managing reels: cancel, delete, reload mid-job, past reels a page at a time, a server restart."""

import pytest

from .conftest import LONG_SCRIPT, SHORT_SCRIPT, make_server, shot
from .test_make import wait_playable

pytestmark = pytest.mark.page

RUNNING = "#job[data-status=running]"


def test_a_running_job_is_cancelled_from_the_page(server, open_page):
    job_id = server.create(script=LONG_SCRIPT, platform="instagram")
    page = open_page(f"{server.url}/#job={job_id}")
    page.wait_for_selector(RUNNING)
    assert page.is_hidden("#delete-job")
    shot(page, "job-running")
    page.click("#cancel-job")

    page.wait_for_selector("#job[data-status=cancelled]")
    assert page.inner_text("#job-status") == "Cancelled"
    assert server.request("GET", f"/api/v1/jobs/{job_id}")[1]["status"] == "cancelled"
    assert page.is_hidden("#cancel-job")
    assert page.is_visible("#delete-job") and page.is_visible("#retry-job")
    assert page.is_hidden("#result")
    page.locator("#log li", has_text="Job cancelled.").wait_for()


def test_a_finished_job_is_deleted_with_its_files(server, open_page):
    job_id = server.create(script=SHORT_SCRIPT, dryRun=True)
    server.wait_for(job_id, "completed")
    page = open_page(f"{server.url}/#job={job_id}")
    page.wait_for_selector("#job[data-status=completed]")
    row = page.locator(f'#jobs .job-row[data-job-id="{job_id}"]')
    row.wait_for()
    page.click("#delete-job")

    page.wait_for_selector("#job", state="hidden")
    row.wait_for(state="detached")
    assert page.evaluate("location.hash") == ""
    assert server.request("GET", f"/api/v1/jobs/{job_id}")[0] == 404


def test_reloading_mid_job_resumes_watching_it(server, open_page):
    page = open_page(server.url)
    page.locator(".modes label", has_text="Script").click()
    page.fill("#script", LONG_SCRIPT)
    page.select_option("#platform", "instagram")
    page.click("#reel-form button[type=submit]")
    page.wait_for_function("location.hash.startsWith('#job=')")
    job_id = page.evaluate("location.hash.slice(5)")
    page.wait_for_selector(RUNNING)

    page.reload()
    page.wait_for_selector(f'#job[data-job-id="{job_id}"]')
    assert page.evaluate("location.hash") == f"#job={job_id}"
    page.wait_for_selector("#job[data-status=completed]", timeout=90_000)
    assert wait_playable(page) > 30
    assert page.inner_text("#log").startswith("Job queued.")  # the log was replayed from the start


def test_past_reels_page_by_page_and_reopen(server, open_page):
    ids = [server.create(script=f"Reel {n}. {SHORT_SCRIPT}", dryRun=True) for n in range(9)]
    server.wait_for(ids[-1], "completed")
    total = server.request("GET", "/api/v1/jobs?limit=1")[1]["total"]
    page = open_page(server.url)
    page.wait_for_selector("#jobs .job-row")
    assert page.inner_text("#page-info") == f"1–8 of {total}"
    assert page.locator("#jobs .job-row").count() == 8
    assert page.locator("#jobs .job-row").first.get_attribute("data-job-id") == ids[-1]
    assert page.is_disabled("#prev-page")

    page.click("#next-page")
    page.wait_for_function("document.querySelector('#page-info').textContent.startsWith('9–')")
    assert page.locator(f'#jobs .job-row[data-job-id="{ids[0]}"]').count() == 1
    page.click("#prev-page")
    page.wait_for_function("document.querySelector('#page-info').textContent.startsWith('1–')")

    page.locator(f'#jobs .job-row[data-job-id="{ids[-1]}"] a').click()
    page.wait_for_selector(f'#job[data-job-id="{ids[-1]}"][data-status=completed]')
    assert page.evaluate("location.hash") == f"#job={ids[-1]}"
    assert page.is_hidden("#result")  # a dry run makes no video
    shot(page, "past-reels")


def test_the_page_follows_a_job_over_server_sent_events(server, open_page):
    job_id = server.create(script=SHORT_SCRIPT, dryRun=True)
    page = open_page(f"{server.url}/#job={job_id}")
    page.wait_for_selector("#job[data-status=completed]")
    assert page.get_attribute("#job", "data-transport") == "sse"
    page.locator("#log li", has_text="Job completed.").wait_for()


def test_when_the_stream_is_refused_the_page_polls(server, open_page):
    job_id = server.create(script=SHORT_SCRIPT)
    page = open_page(server.url)
    refuse_the_stream(page)
    page.goto(f"{server.url}/#job={job_id}")
    page.wait_for_selector("#job[data-status=completed]", timeout=60_000)
    assert page.get_attribute("#job", "data-transport") == "polling"
    assert wait_playable(page) > 5
    page.locator("#log li", has_text="Job completed.").wait_for()
    assert page.inner_text("#log").startswith("Job queued.")
    assert page.get_attribute('.stage[data-stage="critic"]', "data-status") == "done"


def refuse_the_stream(page):
    page.route("**/events?lastEventId=0", lambda route: route.fulfill(status=502, body="Bad gateway"))


@pytest.mark.parametrize("transport", ["sse", "polling"])
def test_a_server_restart_shows_a_banner_and_the_job_carries_on(tmp_path_factory, open_page, transport):
    restarting = make_server(tmp_path_factory, "restart-server")
    try:
        job_id = restarting.create(script=LONG_SCRIPT, platform="instagram")
        page = open_page(restarting.url)
        if transport == "polling":
            refuse_the_stream(page)
        page.goto(f"{restarting.url}/#job={job_id}")
        page.wait_for_selector(RUNNING)
        assert page.get_attribute("#job", "data-transport") == transport
        restarting.stop()

        banner = page.locator("#banner")
        banner.wait_for()
        assert "reconnecting" in banner.inner_text()
        shot(page, f"server-restart-banner-{transport}")
        restarting.start()
        banner.wait_for(state="hidden", timeout=30_000)
        page.wait_for_selector("#job[data-status=completed]", timeout=90_000)
        assert wait_playable(page) > 30
    finally:
        restarting.stop()
