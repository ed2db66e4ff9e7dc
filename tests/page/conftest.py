"""The page in real headless Chromium against the real server (`python app.py serve`) in a subprocess."""

import os
import time
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.support.live import ROOT, LiveServer
from tests.support.media import noise_image

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = ROOT / "test-artifacts" / "page"
# No LLM may be found: the page must say so, and topic jobs must not reach out anywhere.
NO_LLM = {name: "" for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GOOGLE_API_KEY", "GEMINI_API_KEY",
                                "OPENAI_BASE_URL", "MONEYREELS_LLM_BASE_URL")}

SHORT_SCRIPT = "Honey never spoils. Archaeologists found pots of honey in Egyptian tombs. It was still good to eat."
# About 60 s of narration: its render runs for several seconds, long enough to act on it mid-way.
LONG_SCRIPT = " ".join(
    ("The ocean covers most of our planet and holds secrets we are only beginning to understand. " * 9).split()[:130]
)


class AppServer(LiveServer):
    """The real server as a user starts it, with the default job kinds, rendering at quarter size."""

    def __init__(self, root: Path, **env):
        media = root / "media"
        media.mkdir(parents=True, exist_ok=True)
        noise_image(media / "pic.jpg")
        # The test's own API calls share the page's address: /api/v1's per-second limit would refuse
        # them at random while the page polls, so it is off here (its own tests cover it).
        super().__init__(root, command=("app.py", "serve"), MEDIA_DIR=media, MONEYREELS_OUTPUT_SCALE="0.25",
                         MONEYREELS_OLLAMA_URL="http://127.0.0.1:9/v1", MONEYREELS_API_RATE_LIMIT=0, **{**NO_LLM, **env})

    def create(self, **body) -> str:
        """Create a generate job through the API; return its id."""
        status, answer = self.request("POST", "/api/v1/jobs", body)
        assert status == 201, answer
        return answer["id"]

    def wait_for(self, job_id, state, timeout=60) -> dict:
        """Wait until the job has finished; assert it ended in `state`."""
        deadline = time.monotonic() + timeout
        while True:
            status, job = self.request("GET", f"/api/v1/jobs/{job_id}?wait=5s")
            if job["status"] in ("completed", "failed", "cancelled") or time.monotonic() > deadline:
                break
        assert job["status"] == state, job
        return job


def make_server(tmp_path_factory, name):
    return AppServer(tmp_path_factory.mktemp(name)).start()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    server = make_server(tmp_path_factory, "page-server")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: scripts/test.sh installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser):
    """open_page(url, width=1280, height=900) -> a fresh page; JavaScript errors fail the test."""
    contexts, errors = [], []

    def opener(url, width=1280, height=900, bypass_csp=True):
        # Playwright's wait_for_function evaluates strings, which the page's own CSP forbids;
        # test_layout checks the page under its CSP.
        context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=bypass_csp)
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(url)
        page.wait_for_selector("#platform option", state="attached")  # the choices arrived from the API
        return page

    yield opener
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def shot(page, name, full_page=True):
    """Save a screenshot of the page's state under test-artifacts/page/."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)
