"""Rate limits: at most `limit` requests per client in any `window` seconds (a sliding log)."""

import collections
import math
import threading
import time

from flask import current_app, g, request

from ..errors import RateLimited


class RateLimiter:
    """Count each client's requests in the last `window` seconds; refuse past `limit`."""

    def __init__(self, limit, window, clock=time.monotonic):
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits = collections.defaultdict(collections.deque)
        self._lock = threading.Lock()

    def hit(self, client, record=True) -> float:
        """Record a request (unless not `record`); return 0 if allowed, else the seconds until one would be."""
        now = self.clock()
        with self._lock:
            hits = self._hits[client]
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return hits[0] + self.window - now
            if record:
                hits.append(now)
            if len(self._hits) > 10_000:
                self._forget_idle(now)
            return 0.0

    def _forget_idle(self, now):
        for client in [c for c, hits in self._hits.items() if not hits or hits[-1] <= now - self.window]:
            del self._hits[client]


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
            limiter = limiters.setdefault(name, RateLimiter(allowed, window))
        wait = limiter.hit(g.owner or request.remote_addr or "")
        if wait:
            raise RateLimited(
                f"Rate limit exceeded: {allowed} requests per {window:g} seconds.",
                retry_after=max(1, math.ceil(wait)),
                details={"limit": allowed, "window_seconds": window},
            )

    return check
