"""Reel Forge webhooks: signed, persisted, retried, sent to a real receiver on 127.0.0.1."""

import hashlib
import hmac
import json
import re

import pytest

from moneyreels import create_app, db, events, jobs, kinds, webhooks
from moneyreels.db import Delivery, Job
from moneyreels.webhooks import Dispatcher
from moneyreels.worker import Worker
from tests.support.media import image_manifest
from tests.support.fakes import Reply, WebhookReceiver


class Clock:
    def __init__(self, now=1_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def receiver():
    with WebhookReceiver() as running:
        yield running


def render_with_hook(client, settings, receiver, **fields):
    body = image_manifest(webhook_url=receiver.hook_url, **fields)
    job_id = client.post("/v1/videos/render", json=body).json["job_id"]
    Worker(settings, kinds.runners()).loop()
    return job_id


def test_completed_render_posts_a_signed_envelope(client, settings, receiver):
    job_id = render_with_hook(
        client, settings, receiver, webhook_secret="whsec_test", webhook_headers={"X-Environment": "test"},
        metadata={"scenario": "12345", "n": 3},
    )
    assert Dispatcher().loop() == 1
    [hit] = receiver.requests
    headers = hit.headers  # names lower-cased by the fake
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "ReelForge-Webhooks/1.0"
    assert headers["x-environment"] == "test"
    assert headers["reelforge-signature"] == hmac.new(b"whsec_test", hit.body, hashlib.sha256).hexdigest()
    event = json.loads(hit.body)
    assert list(event) == ["id", "type", "data", "created_at"]
    assert re.match(r"^evt_[0-9a-f]{32}$", event["id"]) and event["type"] == "video.render.completed"
    assert event["data"] == {
        "job_id": job_id, "status": "completed",
        "output_url": f"http://localhost/v1/files/{job_id}/final.mp4", "error": None,
        "metadata": {"scenario": "12345", "n": 3},
    }
    assert Delivery.get().state == "delivered"


def test_failed_render_posts_video_render_failed_with_the_error(client, settings, receiver):
    render_with_hook(client, settings, receiver, assets=[{"id": "pic", "type": "image", "url": "missing.jpg"}])
    Dispatcher().loop()
    event = json.loads(receiver.requests[0].body)
    assert event["type"] == "video.render.failed"
    assert event["data"]["status"] == "failed" and event["data"]["output_url"] is None
    assert event["data"]["error"]["code"] == "invalid_asset_url"
    assert "reelforge-signature" not in {name.lower() for name in receiver.requests[0].headers}


def test_server_wide_secret_signs_when_the_request_has_none(settings, receiver):
    client = create_app(settings.model_copy(update={"webhook_secret": "whsec_server"})).test_client()
    render_with_hook(client, settings, receiver)
    Dispatcher().loop()
    hit = receiver.requests[0]
    assert hit.headers["reelforge-signature"] == hmac.new(b"whsec_server", hit.body, hashlib.sha256).hexdigest()


def test_the_secret_is_never_shown_and_leaves_the_job(client, settings, receiver):
    job_id = render_with_hook(client, settings, receiver, webhook_secret="whsec_hidden")
    assert "whsec_hidden" not in client.get(f"/v1/jobs/{job_id}").get_data(as_text=True)
    assert "whsec_hidden" not in json.dumps(Job.get_by_id(job_id).request)
    assert all("whsec_hidden" not in json.dumps(e.payload) + e.message for e in events.after(job_id))
    Dispatcher().loop()
    assert Delivery.get().secret is None


def test_failures_retry_with_exponential_backoff_then_deliver(client, settings, receiver):
    receiver.script(Reply(500), Reply(503))
    job_id = render_with_hook(client, settings, receiver)
    clock = Clock(Delivery.get().next_attempt_at)
    dispatcher = Dispatcher(clock=clock)
    assert dispatcher.loop() == 1
    assert Delivery.get().attempts == 1 and Delivery.get().last_error == "HTTP 500"
    clock.now += 4.9
    assert dispatcher.loop() == 0
    clock.now += 0.2
    assert dispatcher.loop() == 1
    clock.now += 9.9
    assert dispatcher.loop() == 0
    clock.now += 0.2
    assert dispatcher.loop() == 1
    delivery = Delivery.get()
    assert delivery.state == "delivered" and delivery.attempts == 3
    assert len(receiver.requests) == 3
    assert len({hit.body for hit in receiver.requests}) == 1
    logged = [e.message for e in events.after(job_id) if e.type == "webhook"]
    assert logged[-1] == f"Webhook delivered to {receiver.hook_url.split('/')[2]}."


def test_five_failures_give_up(client, settings, receiver):
    receiver.script(*[Reply(500)] * 5)
    render_with_hook(client, settings, receiver, webhook_secret="s")
    clock = Clock(Delivery.get().next_attempt_at)
    dispatcher = Dispatcher(clock=clock)
    for _ in range(6):
        dispatcher.loop()
        clock.now += 100
    delivery = Delivery.get()
    assert delivery.state == "failed" and delivery.attempts == 5 and delivery.secret is None
    assert len(receiver.requests) == 5


def test_redirects_are_failures_and_not_followed(client, settings, receiver):
    receiver.script(Reply(302, headers={"Location": receiver.hook_url + "/elsewhere"}))
    render_with_hook(client, settings, receiver)
    Dispatcher().loop()
    assert [hit.path for hit in receiver.requests] == ["/hooks"]
    delivery = Delivery.get()
    assert delivery.state == "pending" and "redirects are not followed" in delivery.last_error


def test_a_slow_receiver_times_out(client, settings, receiver, monkeypatch):
    monkeypatch.setattr(webhooks, "TIMEOUT", 0.2)
    receiver.script(Reply(200, delay=1.0))
    render_with_hook(client, settings, receiver)
    Dispatcher().loop()
    delivery = Delivery.get()
    assert delivery.attempts == 1 and delivery.state == "pending" and "Timeout" in delivery.last_error


def test_a_pending_delivery_survives_a_restart(client, settings, receiver):
    render_with_hook(client, settings, receiver)
    db.database.close()
    db.connect(settings.connection_url)
    assert Dispatcher().loop() == 1
    assert len(receiver.requests) == 1


def test_the_delivery_is_written_with_the_final_state_or_not_at_all(client, settings, receiver, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(webhooks, "schedule_render_event", broken)
    job_id = client.post("/v1/videos/render", json=image_manifest(webhook_url=receiver.hook_url)).json["job_id"]
    jobs.claim("w", 30)
    with pytest.raises(RuntimeError):
        jobs.transition(job_id, jobs.State.COMPLETED, on_finished=kinds.finished)
    assert Job.get_by_id(job_id).state == "running"
    assert Delivery.select().count() == 0


def test_jobs_without_a_webhook_schedule_nothing(client, settings):
    client.post("/v1/videos/render", json=image_manifest())
    Worker(settings, kinds.runners()).loop()
    assert Delivery.select().count() == 0


def test_backoff_doubles_from_five_seconds():
    assert [webhooks.backoff(n) for n in range(1, 5)] == [5, 10, 20, 40]


def test_webhooks_to_private_addresses_are_refused_on_a_public_server(settings, receiver):
    public = create_app(settings.model_copy(update={"host": "0.0.0.0"})).test_client()
    response = public.post("/v1/videos/render", json=image_manifest(webhook_url=receiver.hook_url))
    assert response.status_code == 400 and "private" in response.json["error"]["message"]
    allowed = create_app(settings.model_copy(update={"host": "0.0.0.0", "allow_private_urls": True})).test_client()
    assert allowed.post("/v1/videos/render", json=image_manifest(webhook_url=receiver.hook_url)).status_code == 202


def test_the_dispatcher_checks_addresses_when_it_connects(client, settings, receiver):
    from moneyreels import netguard

    render_with_hook(client, settings, receiver)
    Dispatcher(session=netguard.guarded_session(allow_private=False)).loop()
    assert receiver.requests == [] and Delivery.get().last_error == "refused: the URL resolves to a private address"
    assert Delivery.get().attempts == 1


def test_a_delivery_that_cannot_be_sent_fails_alone_and_the_next_is_delivered(client, settings, receiver):
    render_with_hook(client, settings, receiver)
    good = Delivery.get()
    # Written before header values were validated: this one cannot be encoded by the HTTP client.
    bad = Delivery.create(job=good.job_id, url=receiver.hook_url, headers={"X-Name": "Zoë ☃"}, body="{}",
                          next_attempt_at=good.next_attempt_at - 10)
    assert [d.id for d in Dispatcher().due()] == [bad.id, good.id]
    assert Dispatcher().loop() == 2
    assert Delivery.get_by_id(good.id).state == "delivered" and len(receiver.requests) == 1
    failed = Delivery.get_by_id(bad.id)
    assert failed.state == "pending" and failed.attempts == 1
    assert failed.last_error == "could not send (UnicodeEncodeError)"
    assert failed.next_attempt_at > good.next_attempt_at


@pytest.mark.sqlite
def test_the_scrubbed_secret_leaves_the_database_and_its_wal(client, settings, receiver):
    secret = "whsec_" + "q7" * 20
    render_with_hook(client, settings, receiver, webhook_secret=secret)
    files = [settings.database_path, settings.database_path.with_name(settings.database_path.name + "-wal")]
    assert any(secret.encode() in path.read_bytes() for path in files if path.exists())
    Dispatcher().loop()
    assert Delivery.get().state == "delivered"
    for path in files:
        assert not path.exists() or secret.encode() not in path.read_bytes(), path.name


def test_a_claimed_delivery_is_sent_by_its_claimer_only_until_its_lease_runs_out(client, settings, receiver):
    render_with_hook(client, settings, receiver)
    clock = Clock(Delivery.get().next_attempt_at)
    first, second = Dispatcher(clock=clock), Dispatcher(clock=clock)
    claimed = first.claim()
    assert claimed is not None and Delivery.get().lease_owner == first.name
    assert second.loop() == 0 and receiver.requests == []  # another process's claim is left alone
    clock.now += webhooks.LEASE_SECONDS + 1  # the first dispatcher died mid-send
    assert second.loop() == 1 and len(receiver.requests) == 1
    assert Delivery.get().state == "delivered" and Delivery.get().lease_owner is None
    first.attempt(claimed)  # the first one comes back: its lease is gone, so it records nothing
    assert Delivery.get().attempts == 1
    assert [e.type for e in Job.get().events].count("webhook") == 1
