"""POST /api/v1/batches: many reels at once from JSON or CSV, followed and cancelled together."""

import csv
import io
import json

import pytest

from moneyreels import create_app, db, jobs
from moneyreels.worker import Worker
from tests.support.runners import ticker

SENTENCES = ["Honey never spoils, even after thousands of years.", "Octopuses have three hearts and blue blood.",
             "Bananas are berries, but strawberries are not.", "A day on Venus is longer than its year.",
             "Sharks existed before trees did on Earth.", "Wombats leave cube shaped droppings behind.",
             "The Eiffel Tower grows taller every summer.", "Sloths can hold their breath for forty minutes.",
             "Hot water can freeze faster than cold water.", "There are more stars than grains of sand."]


def script(index):
    return f"{SENTENCES[index]} Scientists keep studying why this happens. It still surprises people today."


def csv_file(rows, header=("title", "script", "noMusic")) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def upload(client, data: bytes, **headers):
    return client.post("/api/v1/batches", data={"file": (io.BytesIO(data), "reels.csv")},
                       content_type="multipart/form-data", headers=headers)


def ten_from_csv(client):
    rows = [("" if i % 2 else f"Fact {i}", script(i), "yes" if i < 5 else "") for i in range(10)]
    return upload(client, csv_file(rows))


def test_a_csv_of_ten_scripts_makes_ten_jobs_with_their_titles(client):
    answer = ten_from_csv(client)
    assert answer.status_code == 201, answer.json
    batch = answer.json
    assert answer.headers["Location"] == f"/api/v1/batches/{batch['id']}"
    assert batch["total"] == 10 and batch["counts"]["queued"] == 10 and batch["status"] == "running"
    expected = [f"Fact {i}" if i % 2 == 0 else SENTENCES[i] for i in range(10)]
    assert [job["title"] for job in batch["jobs"]] == expected
    listed = client.get("/api/v1/jobs?limit=20").json["jobs"]
    assert sorted(job["title"] for job in listed) == sorted(expected)
    stored = [jobs.get(job["id"]).request for job in batch["jobs"]]
    assert [request.get("noMusic", False) for request in stored] == [True] * 5 + [False] * 5
    assert client.get(batch["_links"]["self"]["href"]).json == batch


def test_cancelling_the_batch_cancels_what_has_not_finished(client, settings):
    batch = ten_from_csv(client).json
    Worker(settings, {"generate": lambda ctx: ticker(ctx, ticks=1, interval=0)}).loop()  # the first one finishes
    running = jobs.claim("worker-test", 30)  # the second one is running
    assert running.id == batch["jobs"][1]["id"]

    cancelled = client.post(batch["_links"]["cancel"]["href"])
    assert cancelled.status_code == 200
    body = cancelled.json
    assert body["counts"] == {"queued": 0, "running": 1, "completed": 1, "failed": 0, "cancelled": 8}
    assert jobs.get(running.id).cancel_requested
    assert [job["status"] for job in body["jobs"][:3]] == ["completed", "running", "cancelled"]
    jobs.transition(running.id, jobs.State.CANCELLED)
    after = client.get(body["_links"]["self"]["href"]).json
    assert after["status"] == "finished" and "cancel" not in after["_links"]
    assert client.post(body["_links"]["self"]["href"] + "/cancel").json["counts"]["cancelled"] == 9


def test_json_jobs_take_the_shared_defaults_unless_they_set_their_own(client):
    answer = client.post("/api/v1/batches", json={
        "jobs": [{"script": script(0)}, {"script": script(1), "platform": "tiktok", "title": "Hearts"}],
        "defaults": {"platform": "instagram", "noMusic": True}})
    assert answer.status_code == 201, answer.json
    stored = [jobs.get(job["id"]).request for job in answer.json["jobs"]]
    assert [(r["platform"], r["noMusic"]) for r in stored] == [("instagram", True), ("tiktok", True)]
    assert [job["title"] for job in answer.json["jobs"]] == [SENTENCES[0], "Hearts"]


def fields(answer):
    return [error["field"] for error in answer.json["error"]["details"]["errors"]]


@pytest.mark.parametrize("body, named", [
    ({"jobs": [{"script": script(0)}, {"script": "Too short."}, {"topic": ""}]}, ["jobs.1.script", "jobs.2.topic"]),
    ({"jobs": [{"script": script(0), "platform": "myspace"}]}, ["jobs.0.platform"]),
    ({"jobs": []}, ["jobs"]),
    ({"jobs": [{"script": script(0)}] * 101}, ["jobs"]),
    ({"jobs": ["not an object"]}, ["jobs.0"]),
    ({"jobs": [{"script": script(0)}], "extra": 1}, ["extra"]),
])
def test_a_bad_row_refuses_the_whole_batch_naming_each_row(client, body, named):
    answer = client.post("/api/v1/batches", json=body)
    assert answer.status_code == 400
    assert fields(answer) == named
    assert client.get("/api/v1/jobs?kind=all").json["total"] == 0


@pytest.mark.parametrize("data, named, words", [
    (csv_file([("x", script(0))], header=("title", "scirpt")), "file", "unknown column 'scirpt'"),
    (csv_file([(script(0), "maybe")], header=("script", "dryRun")), "file.row2.dryRun", "true or false"),
    (b"\xff\xfe\x00bad", "file", "not UTF-8"),
    (b"", "file", "empty"),
    (b"script\n", "file", "no reels"),
    (csv_file([(script(0), "extra cell")], header=("script",)), "file", "row 2 has 2 cells"),
    (csv_file([(script(0),)] * 101, header=("script",)), "file", "more than 100"),
    (csv_file([("Too short.",)], header=("script",)), "jobs.0.script", "too short"),
])
def test_a_bad_csv_is_refused_naming_the_problem_and_nothing_is_queued(client, data, named, words):
    answer = upload(client, data)
    assert answer.status_code == 400, answer.json
    assert fields(answer) == [named]
    assert words in json.dumps(answer.json)
    assert client.get("/api/v1/jobs?kind=all").json["total"] == 0


def test_uploads_need_the_file_field_and_the_pages_own_origin(client):
    missing = client.post("/api/v1/batches", data={"other": "x"}, content_type="multipart/form-data")
    assert missing.status_code == 400 and fields(missing) == ["file"]
    foreign = upload(client, csv_file([("t", script(0), "")]), Origin="http://evil.example")
    assert foreign.status_code == 403 and foreign.json["error"]["code"] == "cross_origin"
    plain = client.post("/api/v1/batches", data="script\nhello", content_type="text/plain")
    assert plain.status_code == 415
    # Only the endpoints that take uploads take multipart: creating one job still wants JSON.
    jobs_upload = client.post("/api/v1/jobs", data={"script": script(0)}, content_type="multipart/form-data")
    assert jobs_upload.status_code == 415


def test_a_batch_belongs_to_its_key(settings):
    app = create_app(settings.model_copy(update={"api_keys": ("alpha", "beta")}))
    client = app.test_client()
    created = client.post("/api/v1/batches", json={"jobs": [{"script": script(0)}]}, headers={"x-api-key": "alpha"})
    href = created.json["_links"]["self"]["href"]
    assert client.get(href, headers={"x-api-key": "alpha"}).status_code == 200
    assert client.get(href, headers={"x-api-key": "beta"}).status_code == 404
    assert client.post(href + "/cancel", headers={"x-api-key": "beta"}).status_code == 404
    assert client.get(href).status_code == 401
    assert client.get("/api/v1/batches/not-a-uuid", headers={"x-api-key": "alpha"}).status_code == 400
    db.database.close()
