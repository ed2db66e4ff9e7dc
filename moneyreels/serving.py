"""waitress, set up on purpose: how many connections, how long idle or half-sent requests may stay.

waitress only hands a request to a thread once it is complete, so slow clients hold
connections, not threads; the connection limit is what they exhaust. So it is high (and
polled, as select() stops at 1024 descriptors), idle connections go after CHANNEL_TIMEOUT,
and a connection still sending its headers after HEADER_SECONDS is closed.
"""

import logging

from waitress.server import BaseWSGIServer, create_server

log = logging.getLogger(__name__)

CHANNEL_TIMEOUT = 30  # seconds a connection may sit idle between requests
CLEANUP_INTERVAL = 2  # how often idle and slow connections are looked for
HEADER_SECONDS = 10  # a request's headers must arrive within this (slowloris)


def make_server(app, settings):
    """A waitress server for app with deliberate limits."""
    server = create_server(
        app, host=settings.host, port=settings.port, threads=settings.threads,
        connection_limit=settings.max_connections, asyncore_use_poll=True,
        channel_timeout=CHANNEL_TIMEOUT, cleanup_interval=CLEANUP_INTERVAL,
        # Reading ahead while a request runs is how waitress notices a client that hung up
        # (waitress.client_disconnected), so a closed SSE stream or long-poll frees its thread.
        channel_request_lookahead=1,
    )
    sockets = getattr(server, "map", None) or server._map
    for listener in {id(d): d for d in sockets.values() if isinstance(d, BaseWSGIServer)}.values():
        _reap_slow_headers(listener)
    return server


def _reap_slow_headers(listener: BaseWSGIServer) -> None:
    """Make listener's maintenance also close connections whose headers are taking too long."""
    idle = listener.maintenance

    def maintenance(now):
        idle(now)
        for channel in list(listener.active_channels.values()):
            partial = getattr(channel, "request", None)
            if partial is None or partial.headers_finished:
                continue
            first_seen = getattr(partial, "moneyreels_seen", None)
            if first_seen is None:
                partial.moneyreels_seen = now
            elif now - first_seen > HEADER_SECONDS:
                log.info("closing a connection from %s: its headers took over %d s", channel.addr, HEADER_SECONDS)
                channel.will_close = True

    listener.maintenance = maintenance
