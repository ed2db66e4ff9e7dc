"""The page on a server with API keys: sign in once, then everything works as on an open install."""

import pytest

from .conftest import SHORT_SCRIPT, AppServer, shot
from .test_make import choose, job_id_in_hash, wait_playable

pytestmark = pytest.mark.page

KEYS = "alpha-key,beta-key"


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory):
    server = AppServer(tmp_path_factory.mktemp("keyed-server"), MONEYREELS_API_KEYS=KEYS).start()
    yield server
    server.stop()


@pytest.fixture
def fresh_page(browser):
    """A page in its own browser context (its own cookies); JavaScript errors fail the test."""
    contexts, errors = [], []

    def opener(url):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url)
        return page

    yield opener
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def sign_in(page, key):
    page.wait_for_selector("#signin:not([hidden])")
    page.fill("#api-key", key)
    page.click("#signin-form button[type=submit]")


def test_sign_in_make_watch_play_sign_out_and_another_key_sees_nothing(keyed_server, fresh_page):
    page = fresh_page(keyed_server.url)
    page.wait_for_selector("#signin:not([hidden])")
    assert page.is_hidden("main") and page.is_hidden("#sign-out")
    shot(page, "keys-sign-in")

    sign_in(page, "not-a-key")
    page.wait_for_function("document.querySelector('#signin-error').textContent.length > 0")
    assert page.inner_text("#signin-error") == "Invalid API key."
    assert page.is_hidden("main")
    shot(page, "keys-wrong-key")

    page.fill("#api-key", "alpha-key")
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#platform option", state="attached")
    assert page.is_visible("main") and page.is_visible("#sign-out") and page.is_hidden("#signin")
    assert page.evaluate("document.cookie") == ""  # HttpOnly: the page's scripts never see the session
    shot(page, "keys-signed-in")

    choose(page, "Script")
    page.fill("#script", SHORT_SCRIPT)
    page.click("#reel-form button[type=submit]")
    job_id = job_id_in_hash(page)
    page.wait_for_selector("#job[data-status=running]")
    assert page.get_attribute("#job", "data-transport") == "sse"
    shot(page, "keys-watching")
    page.wait_for_selector("#job[data-status=completed]", timeout=60_000)
    assert page.get_attribute("#job", "data-transport") == "sse"
    assert wait_playable(page) > 5
    page.evaluate("document.querySelector('#player').play()")
    page.wait_for_function("document.querySelector('#player').currentTime > 0.2")
    download = page.request.get(keyed_server.url + page.get_attribute("#artifacts a[download='final.mp4']", "href"))
    assert download.ok and download.headers["content-type"] == "video/mp4"
    assert page.locator(f'#jobs .job-row[data-job-id="{job_id}"]').count() == 1
    shot(page, "keys-playing")

    page.click("#sign-out")
    page.wait_for_selector("#signin:not([hidden])")
    assert page.is_hidden("main")
    refused = page.request.get(f"{keyed_server.url}/api/v1/jobs/{job_id}")
    assert refused.status == 401
    shot(page, "keys-signed-out")

    sign_in(page, "beta-key")
    page.wait_for_selector("#jobs li.empty")
    assert page.inner_text("#jobs") == "No reels yet. Make one above."
    page.goto(f"{keyed_server.url}/#job={job_id}")
    page.wait_for_function("document.querySelector('#job-error').textContent.length > 0")
    assert page.locator(f'#jobs .job-row[data-job-id="{job_id}"]').count() == 0
    shot(page, "keys-second-key-sees-nothing")
