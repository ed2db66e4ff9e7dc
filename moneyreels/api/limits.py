"""Rate limits: at most `limit` requests per client in any `window` seconds (a sliding log).

The log lives in the database (`RateHits`), so a limit holds across every web process on it:
two processes behind a proxy do not each grant the whole allowance. The row is locked while
it is read and written (FOR UPDATE on PostgreSQL, the IMMEDIATE write lock on SQLite), so
concurrent requests from one client are counted one after the other. Times are wall-clock
seconds, the one clock every process (on hosts kept in sync, as leases need) shares.
"""

import itertools
import math
import time

from flask import current_app, g, request

from ..db import RateHits, database, locked
from ..errors import RateLimited

# Every this many hits, a limiter deletes the rows of clients idle for a whole window.
SWEEP_EVERY = 1000


class RateLimiter:
    """Count each client's requests to limit `name` in the last `window` seconds; refuse past `limit`."""

    def __init__(self, limit, window, clock=time.time, name="requests"):
        self.limit = limit
        self.window = window
        self.clock = clock
        self.name = name
        self._count = itertools.count(1)

    def hit(self, client, record=True) -> float:
        """Record a request (unless not `record`); return 0 if allowed, else the seconds until one would be."""
        now = self.clock()
        key = f"{self.name}:{client}"
        if not record:
            row = RateHits.get_or_none(RateHits.key == key)
            return self._wait(self._recent(row, now), now)
        with database.atomic():
            RateHits.insert(key=key, hits=[], expires_at=now).on_conflict_ignore().execute()
            hits = self._recent(locked(RateHits.select().where(RateHits.key == key)).get(), now)
            wait = self._wait(hits, now)
            if not wait:
                RateHits.update(hits=[*hits, now], expires_at=now + self.window).where(RateHits.key == key).execute()
        if next(self._count) % SWEEP_EVERY == 0:
            RateHits.delete().where(RateHits.expires_at < now).execute()
        return wait

    def _recent(self, row, now) -> list[float]:
        return [] if row is None else [at for at in row.hits if at > now - self.window]

    def _wait(self, hits, now) -> float:
        return hits[0] + self.window - now if len(hits) >= self.limit else 0.0


def limit_requests(name, limits, exempt=()):
    """A before_request hook limiting each key (or client address when open).

    `limits(settings)` gives (requests, window seconds); 0 requests turns the limit off.
    Endpoints in `exempt` (cheap, static reads) are not counted.
    """

    def check():
        allowed, window = limits(current_app.config["SETTINGS"])
        if not allowed or request.endpoint in exempt:
            return
        limiters = current_app.extensions.setdefault("moneyreels.limiters", {})
        limiter = limiters.get(name)
        if limiter is None:
            limiter = limiters.setdefault(name, RateLimiter(allowed, window, name=name))
        wait = limiter.hit(g.owner or request.remote_addr or "")
        if wait:
            raise RateLimited(
                f"Rate limit exceeded: {allowed} requests per {window:g} seconds.",
                retry_after=max(1, math.ceil(wait)),
                details={"limit": allowed, "window_seconds": window},
            )

    return check
