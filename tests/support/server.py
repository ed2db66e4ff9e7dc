"""Run the real server (waitress, signals, worker) for tests and benchmarks.

`python -m tests.support.server`: by default `generate` jobs run a test ticker (TICKS ticks,
TICK_INTERVAL apart) so tests control how long a job runs, and renders render; with RUNNERS=crash
they abort the process instead; with RUNNERS=real, the product's own job kinds run.
GUARD_PASSES=localhost lets the network guard (switched on with
MONEYREELS_ALLOW_PRIVATE_URLS=false) connect to those names, so a hostile server on loopback
can play a public host while every other address, 127.0.0.1 included, stays refused.
"""

import functools
import logging
import os
import socket
import sys

from moneyreels import kinds, netguard
from moneyreels.cli import serve
from moneyreels.config import load_settings
from tests.support.runners import crasher, ticker


def guard_passing(names, checked=netguard.public_addresses):
    """A netguard.public_addresses that lets these names (as IPv4) through and checks every other host."""

    def public_addresses(host, port):
        if host in names:
            return socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_STREAM)
        return checked(host, port)

    return public_addresses


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    if os.environ.get("GUARD_PASSES"):
        netguard.public_addresses = guard_passing(set(os.environ["GUARD_PASSES"].split(",")))
    runners = None
    if os.environ.get("RUNNERS") == "crash":
        runners = {"generate": crasher}
    elif os.environ.get("RUNNERS") != "real":
        runner = functools.partial(
            ticker, ticks=int(os.environ.get("TICKS", "400")), interval=float(os.environ.get("TICK_INTERVAL", "0.02"))
        )
        runners = {**kinds.runners(), "generate": runner}
    sys.exit(serve(load_settings(), runners=runners))
