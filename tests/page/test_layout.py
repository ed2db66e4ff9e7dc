"""The page on a phone-width window, and with the keyboard alone."""

import pytest

from .conftest import SHORT_SCRIPT, shot

pytestmark = pytest.mark.page

SCROLL_WIDTH = "document.documentElement.scrollWidth"


def test_no_horizontal_scroll_at_375_px(server, open_page):
    job_id = server.create(script=SHORT_SCRIPT)
    server.wait_for(job_id, "completed")
    page = open_page(server.url, width=375, height=812)
    for mode in ("Topic", "Script", "Manifest"):
        page.locator(".modes label", has_text=mode).click()
        assert page.evaluate(SCROLL_WIDTH) <= 375, mode
        if mode == "Manifest":
            page.wait_for_function("document.querySelector('#manifest').value.length > 0")
            assert page.evaluate(SCROLL_WIDTH) <= 375, mode
    shot(page, "phone-make-manifest", full_page=False)

    page.goto(f"{server.url}/#job={job_id}")
    page.wait_for_selector("#job[data-status=completed]")
    page.wait_for_selector("#artifacts a")
    assert page.evaluate(SCROLL_WIDTH) <= 375
    page.locator("#job").scroll_into_view_if_needed()
    shot(page, "phone-job", full_page=False)
    shot(page, "phone-full-page")


def test_every_control_has_a_name_and_is_a_real_control(server, open_page):
    page = open_page(server.url)
    page.locator("details.options summary", has_text="Providers").click()
    nameless = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea, button, a[href]')]
        .filter((el) => el.offsetParent !== null)
        .filter((el) => !((el.labels && [...el.labels].some((l) => l.textContent.trim()))
                          || el.getAttribute('aria-label') || el.textContent.trim()))
        .map((el) => el.outerHTML.slice(0, 80))""")
    assert nameless == []
    assert page.locator("[onclick], div[role=button], span[role=button]").count() == 0
    assert page.get_attribute("#log", "aria-live") == "polite"
    assert page.get_attribute("#job-status", "role") == "status"


def test_the_keyboard_alone_makes_a_reel(server, open_page):
    page = open_page(server.url)
    page.locator(".modes label", has_text="Topic").click()
    page.focus('input[name="mode"][value="topic"]')
    page.keyboard.press("ArrowRight")  # radios: arrows move between modes
    assert page.is_visible("#script") and page.is_hidden("#topic")
    outline = page.evaluate("getComputedStyle(document.activeElement.closest('label')).outlineStyle")
    assert outline == "solid"  # the focused mode shows a focus ring

    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "script":
            break
    assert page.evaluate("document.activeElement.id") == "script"
    page.keyboard.type(SHORT_SCRIPT)
    page.focus("#reel-form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_function("location.hash.startsWith('#job=')")
    page.wait_for_selector("#job[data-status=completed]", timeout=60_000)


def test_the_page_works_under_its_content_security_policy(server, open_page):
    job_id = server.create(script=SHORT_SCRIPT)
    server.wait_for(job_id, "completed")
    violations = []
    page = open_page(f"{server.url}/#job={job_id}", bypass_csp=False)
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    assert "script-src 'self'" in page.request.get(server.url).headers["content-security-policy"]
    page.wait_for_selector("#job[data-status=completed]")
    page.wait_for_selector("#artifacts a")
    for _ in range(100):
        if page.evaluate("document.querySelector('#player').duration > 5"):
            break
        page.wait_for_timeout(100)
    assert page.evaluate("document.querySelector('#player').duration") > 5
    assert violations == []
