"""The page's rough edges a newcomer hit: the opening tab, cut-off and overflowing text, stale rows, wording."""

import json

import pytest

from .conftest import LONG_SCRIPT, SHORT_SCRIPT, shot
from .test_make import choose, wait_playable

pytestmark = pytest.mark.page

CHECKED_MODE = "document.querySelector('input[name=mode]:checked').value"
# The selected option's text, measured in the select's own font, against the room the select gives it.
OPTION_FITS = """(() => {
  const select = document.querySelector('#platform');
  const style = getComputedStyle(select);
  const context = document.createElement('canvas').getContext('2d');
  context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const text = context.measureText(select.selectedOptions[0].text).width;
  const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;
  return [text, room];
})()"""


def test_without_an_llm_the_page_opens_on_script(server, open_page):
    page = open_page(server.url)
    page.wait_for_function("document.querySelector('#offline-note').textContent.length > 0")
    assert page.evaluate(CHECKED_MODE) == "script"
    assert page.is_visible("#script") and page.is_hidden("#topic")
    assert "works fully offline" in page.inner_text("#offline-note")
    choose(page, "Topic")
    page.reload()
    page.wait_for_selector("#platform option", state="attached")
    assert page.evaluate(CHECKED_MODE) == "topic"  # a choice the user made is kept


@pytest.mark.parametrize("width", [375, 1280])
def test_the_platform_choice_is_not_cut_off(server, open_page, width):
    page = open_page(server.url, width=width)
    for value in page.eval_on_selector_all("#platform option", "options => options.map(o => o.value)"):
        page.select_option("#platform", value)
        text, room = page.evaluate(OPTION_FITS)
        assert text <= room, (value, text, room)


def test_long_titles_do_not_widen_a_phone_page_and_rows_show_title_and_poster(server, open_page):
    title = "A very long first line of a script that goes on far beyond what a phone row can hold on screen"
    job_id = server.create(script=f"{title}.\n{SHORT_SCRIPT}")
    server.wait_for(job_id, "completed")
    page = open_page(server.url, width=375, height=812)
    row = page.locator(f'#jobs .job-row[data-job-id="{job_id}"]')
    assert row.locator(".job-name").inner_text().startswith("A very long first line of a script")
    thumb = row.locator("img.thumb")
    assert thumb.get_attribute("src") == f"/api/v1/jobs/{job_id}/artifacts/poster.jpg"
    page.wait_for_function(f"document.querySelector('.job-row[data-job-id=\"{job_id}\"] img.thumb').naturalWidth > 0")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, "phone-past-reels-with-posters")


def test_the_player_shows_the_poster_before_it_plays(server, open_page):
    job_id = server.create(script=SHORT_SCRIPT)
    server.wait_for(job_id, "completed")
    page = open_page(f"{server.url}/#job={job_id}")
    wait_playable(page)
    # The stream's snapshot can start the video before the job's links (the poster's among them) arrive.
    page.wait_for_function("document.querySelector('#player').getAttribute('poster') !== null")
    assert page.get_attribute("#player", "poster") == f"/api/v1/jobs/{job_id}/artifacts/poster.jpg"
    assert page.evaluate("document.querySelector('#player').paused")
    shot(page, "player-poster")


def test_past_reels_follow_the_open_job(server, open_page):
    first = server.create(script=LONG_SCRIPT)
    second = server.create(script=LONG_SCRIPT)
    page = open_page(f"{server.url}/#job={second}")
    row = page.locator(f'#jobs .job-row[data-job-id="{second}"]')
    page.wait_for_selector(f'#jobs .job-row[data-job-id="{second}"][data-status=queued]')
    server.request("POST", f"/api/v1/jobs/{first}/cancel")
    page.wait_for_selector("#job[data-status=running]")
    page.wait_for_selector(f'#jobs .job-row[data-job-id="{second}"][data-status=running]')
    assert "Running" in row.inner_text()
    shot(page, "past-reels-live")
    server.request("POST", f"/api/v1/jobs/{second}/cancel")
    server.wait_for(second, "cancelled")


def test_a_refused_manifest_shows_no_valid_json_line_and_plain_words(server, open_page):
    page = open_page(server.url)
    choose(page, "Manifest")
    page.fill("#manifest", json.dumps({"version": "v1", "output": {"width": 0, "height": 1920, "fps": 30}}))
    page.wait_for_function("document.querySelector('#manifest-check').textContent.startsWith('Valid JSON')")
    page.click("#manifest-form button[type=submit]")
    problem = page.locator("#manifest-errors li").first
    problem.wait_for()
    assert problem.inner_text() == "output.width Use a number above 0."
    assert page.inner_text("#manifest-check") == "" and page.is_hidden("#manifest-check")
    shot(page, "manifest-refused-plain-words")


def test_an_empty_field_says_so_in_plain_words(server, open_page):
    page = open_page(server.url)
    choose(page, "Script")
    page.fill("#script", "   ")
    page.click("#reel-form button[type=submit]")
    error = page.locator("#script-error")
    error.wait_for()
    assert error.inner_text() == "Please fill this in."
