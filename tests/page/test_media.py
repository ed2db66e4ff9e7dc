"""My media on the page: drop or choose files (with progress), thumbnails, tags, delete, and "use my media"."""

import base64
import io

import pytest
from PIL import Image

from .conftest import SHORT_SCRIPT, shot
from .test_make import choose, job_id_in_hash

pytestmark = pytest.mark.page

DROP = """([name, data]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type: "image/png" }));
  document.querySelector('#drop-zone').dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true }));
}"""


def png(color) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (90, 160), color).save(out, "PNG")
    return out.getvalue()


def card(page, name):
    return page.locator(f'#media .media-card[data-name="{name}"]')


def test_media_are_dropped_tagged_used_and_deleted(server, open_page):
    page = open_page(server.url)
    page.evaluate(DROP, ["honeycomb.png", base64.b64encode(png((230, 170, 20))).decode()])
    page.wait_for_selector('#uploads li[data-file="honeycomb.png"][data-state=added]')
    assert page.get_attribute('#uploads li[data-file="honeycomb.png"] progress', "value") == "1"
    card(page, "honeycomb.png").wait_for()
    page.wait_for_function("document.querySelector('.media-card[data-name=\"honeycomb.png\"] img').naturalWidth > 0")

    page.fill("#media-tags", "fake")
    page.set_input_files("#media-file", files=[
        {"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"not a picture at all"},
        {"name": "sky.png", "mimeType": "image/png", "buffer": png((40, 90, 220))},
    ])
    page.wait_for_selector('#uploads li[data-file="notes.jpg"][data-state=refused]')
    assert "content is not JPG" in page.inner_text('#uploads li[data-file="notes.jpg"]')
    card(page, "sky.png").wait_for()
    assert card(page, "notes.jpg").count() == 0
    assert card(page, "sky.png").locator("input").input_value() == "fake"
    shot(page, "media-library")

    tags = card(page, "honeycomb.png").locator("input")
    tags.fill("honey, golden")
    tags.press("Enter")
    tags.blur()
    page.wait_for_function("document.querySelector('.media-card[data-name=\"honeycomb.png\"] input').value"
                           " === 'honey, golden'")
    listed = {item["name"]: item["tags"] for item in server.request("GET", "/api/v1/media")[1]["media"]}
    assert listed["honeycomb.png"] == ["honey", "golden"]

    choose(page, "Script")
    page.fill("#script", SHORT_SCRIPT)
    page.check('input[name="useMyMedia"]')
    page.click("#reel-form button[type=submit]")
    job_id = job_id_in_hash(page)
    page.wait_for_selector("#job[data-status=completed]", timeout=60_000)
    manifest = page.request.get(f"{server.url}/api/v1/jobs/{job_id}/artifacts/manifest.json").text()
    assert "honeycomb.png" in manifest

    for name in ("honeycomb.png", "sky.png"):
        card(page, name).locator("button", has_text="Delete").click()
        card(page, name).wait_for(state="detached")
    assert server.request("GET", "/api/v1/media")[1]["media"] == []
    shot(page, "media-library-emptied")
