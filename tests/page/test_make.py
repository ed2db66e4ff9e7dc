"""Making reels from the page: a script to a playable video, a manifest render, and errors by their field."""

import json
import re

import pytest

from .conftest import SHORT_SCRIPT, shot

pytestmark = pytest.mark.page


def choose(page, mode):
    page.locator(".modes label", has_text=re.compile(f"^\\s*{mode}\\s*$", re.I)).click()


def job_id_in_hash(page) -> str:
    page.wait_for_function("location.hash.startsWith('#job=')")
    return page.evaluate("location.hash.slice(5)")


def wait_playable(page):
    """The reel is loaded in the page's player: metadata read, with a real duration."""
    page.wait_for_function("(() => { const v = document.querySelector('#player');"
                           " return v.readyState >= 1 && v.duration > 0; })()")
    return page.evaluate("document.querySelector('#player').duration")


def test_a_script_becomes_a_reel_that_plays_in_the_page(server, open_page):
    page = open_page(server.url)
    choose(page, "Script")
    assert "works fully offline" in page.inner_text("#offline-note")
    page.fill("#script", SHORT_SCRIPT)
    page.click("#reel-form button[type=submit]")

    job_id = job_id_in_hash(page)
    assert page.get_attribute("#job", "data-job-id") == job_id
    page.wait_for_selector("#job[data-status=completed]", timeout=60_000)
    assert wait_playable(page) > 5

    stages = page.locator("#stages .stage")
    assert stages.count() == 6
    assert page.get_attribute('.stage[data-stage="research"]', "data-status") == "skipped"
    for stage in ("director", "tts", "visuals", "assembly", "critic"):
        assert page.get_attribute(f'.stage[data-stage="{stage}"]', "data-status") == "done"
    assert page.locator("#scenes li").count() >= 1
    assert re.match(r"\d+(\.\d+)?/10", page.inner_text("#review-score"))
    assert page.get_attribute("#progress", "value") == "1"
    page.locator("#log li", has_text="Job completed.").wait_for()
    assert page.locator("#log li", has_text="Assembly done").count() == 1

    links = {a.get_attribute("download"): a.get_attribute("href") for a in page.locator("#artifacts a").all()}
    assert links["final.mp4"] == f"/api/v1/jobs/{job_id}/artifacts/final.mp4"
    manifest = page.request.get(server.url + links["manifest.json"])
    assert manifest.ok and "composition" in manifest.json()
    assert page.request.get(server.url + links[f"{job_id}.json"]).json()["score"]["scenes"]

    newest = page.locator("#jobs .job-row").first
    assert newest.get_attribute("data-job-id") == job_id
    assert "Completed" in newest.inner_text()
    shot(page, "script-reel-completed")


def test_a_manifest_renders_with_progress_and_no_stages(server, open_page):
    page = open_page(server.url)
    choose(page, "Manifest")
    page.select_option("#recipe", label="Starter: two lines of text")
    page.click("#load-recipe")
    manifest = json.loads(page.input_value("#manifest"))
    manifest["output"] = {"width": 270, "height": 480, "fps": 24}
    page.fill("#manifest", json.dumps(manifest, indent=2))
    page.click("#manifest-form button[type=submit]")

    job_id_in_hash(page)
    page.wait_for_selector("#job[data-status=completed]", timeout=60_000)
    assert wait_playable(page) == pytest.approx(4, abs=0.2)
    assert page.is_hidden("#stages")
    assert page.is_visible("#progress-box")
    assert page.get_attribute("#progress", "value") == "1"
    assert page.inner_text("#job-title") == "Made on my machine."  # the title: its first text
    shot(page, "manifest-render-completed")


def test_an_empty_topic_is_refused_next_to_the_topic_field(server, open_page):
    page = open_page(server.url)
    before = server.request("GET", "/api/v1/jobs?limit=1")[1]["total"]
    choose(page, "Topic")
    note = page.locator("#offline-note")
    assert "warn" in note.get_attribute("class")
    assert "Ollama" in note.inner_text() and "ANTHROPIC_API_KEY" in note.inner_text()
    page.fill("#topic", "   ")
    page.click("#reel-form button[type=submit]")

    error = page.locator("#topic-error")
    error.wait_for()
    assert error.inner_text() == "Please fill this in."
    assert page.get_attribute("#topic", "aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "topic"
    assert server.request("GET", "/api/v1/jobs?limit=1")[1]["total"] == before
    shot(page, "topic-validation-error")

    page.fill("#topic", "Why honey never spoils")
    page.click("#reel-form button[type=submit]")
    job_id_in_hash(page)
    assert page.inner_text("#topic-error") == ""
    page.wait_for_selector("#job[data-status=failed]")
    assert "needs an LLM" in page.inner_text("#job-error")
    assert page.is_visible("#retry-job")


def test_manifest_errors_are_listed_under_the_editor(server, open_page):
    page = open_page(server.url)
    choose(page, "Manifest")
    page.fill("#manifest", '{\n  "version": "v1",\n  "output": {"width": 0, }\n}')
    check = page.locator("#manifest-check")
    page.wait_for_function("document.querySelector('#manifest-check').textContent.includes('line 3')")
    assert "JSON error" in check.inner_text()
    page.click("#manifest-form button[type=submit]")
    assert page.inner_text("#manifest-form .form-error") == "Fix the JSON first."

    page.fill("#manifest", json.dumps({"version": "v1", "output": {"width": 0, "height": 1920, "fps": 30}}))
    page.wait_for_function("document.querySelector('#manifest-check').textContent.startsWith('Valid JSON')")
    page.click("#manifest-form button[type=submit]")
    problem = page.locator("#manifest-errors li").first
    problem.wait_for()
    assert problem.locator("code").inner_text() == "output.width"
    assert "Use a number above 0." in problem.inner_text()
    assert page.get_attribute("#manifest", "aria-invalid") == "true"
    assert not page.evaluate("location.hash")
    shot(page, "manifest-validation-error")
