"""Jobs carry a title: the one given, else words from the topic, the script, the score or the manifest."""

import pytest

from tests.pipeline.test_generate import SCORE

LONG = "An opening sentence that goes on and on well past the eighty characters a list row can show nicely here"


@pytest.mark.parametrize("body, title", [
    ({"script": "Hello there, my friends.", "title": "  My reel  "}, "My reel"),
    ({"topic": "Why is the sky blue?"}, "Why is the sky blue?"),
    ({"script": "\n\nFirst line of the script.\nSecond line."}, "First line of the script."),
    ({"script": LONG}, "An opening sentence that goes on and on well past the eighty characters a list…"),
])
def test_a_job_lists_with_its_title(client, body, title):
    created = client.post("/api/v1/jobs", json=body)
    assert created.status_code == 201, created.json
    assert client.get(f"/api/v1/jobs/{created.json['id']}").json["title"] == title
    listed = client.get("/api/v1/jobs").json["jobs"]
    assert [job["title"] for job in listed] == [title]


def test_a_score_job_without_a_topic_line_takes_the_scores_first_line(client, app):
    from moneyreels import db
    from moneyreels.titles import title_of

    job = db.Job(kind="generate", request={"score": SCORE}, outputs={})
    assert title_of(job) == SCORE["scenes"][0]["script_line"]
    assert title_of(db.Job(kind="render", request={"manifest": {}})) == "Manifest render"


def test_a_render_job_takes_its_metadata_title_else_its_first_text(client):
    overlay = {"id": "t", "content": "Big news", "time": {"start_seconds": 0, "duration_seconds": 1}}
    manifest = {"version": "v1", "output": {"width": 180, "height": 320, "fps": 10},
                "composition": {"text_overlays": [overlay]}}
    first = client.post("/v1/videos/render", json=manifest).json["job_id"]
    second = client.post("/v1/videos/render", json={**manifest, "metadata": {"title": "Launch teaser"}}).json["job_id"]
    titles = {job["id"]: job["title"] for job in client.get("/api/v1/jobs?kind=render").json["jobs"]}
    assert titles == {first: "Big news", second: "Launch teaser"}
