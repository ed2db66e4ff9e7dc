"""The manifest editor's template recipe: a box per merge field, stored as a template, rendered merged."""

import json

import pytest

from .conftest import shot
from .test_make import choose, job_id_in_hash, wait_playable

pytestmark = pytest.mark.page

FIELDS = ["QUOTE", "COLOR", "SECONDS", "AUTHOR", "DAY"]


def boxes(page) -> dict:
    return {box.get_attribute("name"): box.input_value() for box in page.locator("#merge-inputs input").all()}


def test_the_template_recipe_renders_with_the_values_typed_in_its_boxes(server, open_page):
    page = open_page(server.url)
    choose(page, "Manifest")
    assert page.is_hidden("#merge-fields")
    assert "{{FIELD}}" in page.inner_text("#merge-fields .hint")
    page.select_option("#recipe", label="Template with merge fields")
    page.click("#load-recipe")
    page.wait_for_selector("#merge-fields", state="visible")
    assert boxes(page) == {"QUOTE": "Small steps, every day.", "COLOR": "#FFD700", "SECONDS": "4",
                           "AUTHOR": "Ada", "DAY": "12"}

    # Smaller and shorter for the test; the boxes keep their values while the manifest is edited.
    manifest = json.loads(page.input_value("#manifest"))
    manifest["output"] = {"width": 270, "height": 480, "fps": 24}
    page.fill("#merge-SECONDS", "")
    page.fill("#manifest", json.dumps(manifest, indent=2, ensure_ascii=False))
    page.wait_for_function("document.querySelector('#manifest-check').textContent.includes('270×480')")
    assert list(boxes(page)) == FIELDS and boxes(page)["SECONDS"] == ""

    # An empty duration: the server names the manifest field and the page marks the box behind it.
    page.click("#manifest-form button[type=submit]")
    page.wait_for_selector("#merge-SECONDS[aria-invalid=true]")
    assert page.inner_text("#merge-SECONDS-error") == (
        "Use a number. It goes in composition.text_overlays.0.time.duration_seconds.")
    assert page.evaluate("document.activeElement.id") == "merge-SECONDS"
    shot(page, "template-merge-field-refused")

    page.fill("#merge-SECONDS", "1.5")
    page.fill("#merge-QUOTE", "Ship it")
    page.click("#manifest-form button[type=submit]")
    job_id_in_hash(page)
    page.wait_for_selector("#job[data-status=completed]", timeout=60_000)
    assert wait_playable(page) == pytest.approx(1.5, abs=0.2)
    assert page.inner_text("#job-title") == "“Ship it”"  # the merged quote, as the reel's first text
    shot(page, "template-merge-rendered")

    # Both renders stored the page's one template (the second replaced it), which the API lists.
    status, listed = server.request("GET", "/v1/templates")
    assert status == 200
    ours = [t for t in listed["data"] if t["name"] == "Made on the page"]
    assert len(ours) == 1 and ours[0]["fields"] == FIELDS
    assert ours[0]["id"] in page.inner_text("#template-note")
