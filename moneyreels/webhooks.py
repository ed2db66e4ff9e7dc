"""Reel Forge webhooks: a signed POST when a render job ends, persisted and retried.

A delivery row is written in the same transaction as the job's final state, so a crash
can delay a webhook but never lose it. Delivery is at least once: receivers dedupe by the
event `id`, as Reel Forge's documentation asks.
"""

import hashlib
import hmac
import json
import logging
import time
import uuid
from urllib.parse import urlsplit

import requests

from . import events
from .db import Delivery, Job, checkpoint, database
from .isotime import iso
from .states import DeliveryState, JobState

log = logging.getLogger(__name__)

ATTEMPTS = 5
BASE_DELAY = 5.0
TIMEOUT = 10.0
USER_AGENT = "ReelForge-Webhooks/1.0"


def sign(body: bytes, secret: str) -> str:
    """Lowercase hex HMAC-SHA256 of the exact body bytes."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def schedule_render_event(job, output_url, error, poster_url=None) -> Delivery:
    """Queue the webhook of a render job that just ended; call inside the job's final transaction.

    poster_url (an extension) is in `data` only when there is one, so other payloads keep Reel Forge's shape.
    """
    hook = job.request["webhook"]
    completed = job.state is JobState.COMPLETED
    envelope = {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": "video.render.completed" if completed else "video.render.failed",
        "data": {
            "job_id": job.id,
            "status": "completed" if completed else "failed",
            "output_url": output_url,
            **({"poster_url": poster_url} if poster_url else {}),
            "error": error,
            "metadata": job.request.get("metadata") or {},
        },
        "created_at": iso(job.completed_at),
    }
    delivery = Delivery.create(
        job=job.id, url=hook["url"], headers=hook.get("headers") or {}, secret=hook.get("secret"),
        body=json.dumps(envelope, separators=(",", ":")), next_attempt_at=time.time(),
    )
    # The delivery keeps the secret from here on; the job no longer needs it.
    request = {**job.request, "webhook": {key: value for key, value in hook.items() if key != "secret"}}
    Job.update(request=request).where(Job.id == job.id).execute()
    return delivery


def backoff(attempts: int) -> float:
    """Seconds before the next attempt after `attempts` failures: 5, 10, 20, 40."""
    return BASE_DELAY * 2 ** (attempts - 1)


def send(delivery: Delivery, session=requests) -> str | None:
    """POST one delivery; return None on a 2xx, else what went wrong."""
    body = delivery.body.encode()
    headers = {**delivery.headers, "Content-Type": "application/json", "User-Agent": USER_AGENT}
    if delivery.secret:
        headers["ReelForge-Signature"] = sign(body, delivery.secret)
    try:
        response = session.post(delivery.url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False)
    except requests.RequestException as exc:
        if "private or reserved address" in str(exc):
            return "refused: the URL resolves to a private address"
        return f"{type(exc).__name__}"
    except Exception as exc:
        # Anything else (a header the client cannot encode, a bug) is this delivery's failure alone.
        log.warning("webhook %s could not be sent", delivery.id, exc_info=True)
        return f"could not send ({type(exc).__name__})"
    if 200 <= response.status_code < 300:
        return None
    if 300 <= response.status_code < 400:
        return f"HTTP {response.status_code}: redirects are not followed"
    return f"HTTP {response.status_code}"


class Dispatcher:
    """Sends due deliveries; `loop()` does one pass, so tests step it with their own clock."""

    def __init__(self, session=requests, clock=time.time):
        self.session = session
        self.clock = clock

    def due(self):
        return list(
            Delivery.select()
            .where((Delivery.state == DeliveryState.PENDING) & (Delivery.next_attempt_at <= self.clock()))
            .order_by(Delivery.next_attempt_at)
            .limit(20)
        )

    def loop(self) -> int:
        """Attempt every due delivery once; return how many were attempted."""
        batch = self.due()
        for delivery in batch:
            try:
                self.attempt(delivery)
            except Exception:
                # One row that cannot even be recorded must not stop the rows after it.
                log.exception("webhook %s: recording the attempt failed", delivery.id)
        return len(batch)

    def attempt(self, delivery):
        problem = send(delivery, self.session)
        now = self.clock()
        # Name only the host: webhook URLs often carry a token in their path or query.
        where = urlsplit(delivery.url).netloc
        attempts = delivery.attempts + 1
        if problem is None:
            changes = {"state": DeliveryState.DELIVERED, "delivered_at": now, "secret": None, "last_error": None}
            message, level = f"Webhook delivered to {where}.", "success"
        elif attempts >= ATTEMPTS:
            changes = {"state": DeliveryState.FAILED, "secret": None, "last_error": problem}
            message, level = f"Webhook to {where} failed {attempts} times ({problem}); giving up.", "error"
        else:
            changes = {"next_attempt_at": now + backoff(attempts), "last_error": problem}
            message, level = f"Webhook to {where} failed ({problem}); retrying.", "warning"
        with database.atomic():
            Delivery.update(attempts=attempts, **changes).where(Delivery.id == delivery.id).execute()
            events.append(delivery.job_id, "webhook", message, level=level,
                          payload={"attempt": attempts, "state": changes.get("state", DeliveryState.PENDING)})
        events.notify()
        if "secret" in changes and delivery.secret and not checkpoint():
            log.warning("webhook %s: the WAL could not be emptied yet; the secret leaves it at the next checkpoint",
                        delivery.id)
        if problem:
            log.warning("webhook %s attempt %d: %s", delivery.id, attempts, problem)

    def next_due_in(self, default=5.0) -> float:
        first = (
            Delivery.select(Delivery.next_attempt_at).where(Delivery.state == DeliveryState.PENDING)
            .order_by(Delivery.next_attempt_at).first()
        )
        return default if first is None else max(0.0, min(default, first.next_attempt_at - self.clock()))

    def run_forever(self, stopping):
        while not stopping.is_set():
            try:
                self.loop()
                events.wait(stopping.is_set, self.next_due_in())
            except Exception:
                log.exception("webhook dispatcher pass failed")
                stopping.wait(5.0)
