"""Polling load: many clients poll events?after=N while jobs write events.

Starts the real server (waitress) on 127.0.0.1 with a test job kind that logs a tick every
TICK_INTERVAL seconds, then runs CLIENTS clients on one asyncio loop (so the load generator
itself stays light), each on its own keep-alive connection, polling its job's events every
INTERVAL seconds for DURATION seconds. A browser polls about once a second; 0.1 s is a hard
client; 0 saturates the server. Prints requests/s and latency percentiles for each.

    python bench/poll_bench.py [--clients 50] [--duration 10] [--interval 0.1]
"""

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.live import LiveServer  # noqa: E402

WARM_UP_SECONDS = 1.0


class Tally:
    def __init__(self):
        self.latencies, self.errors, self.events = [], [], 0


async def get(reader, writer, path):
    """Send one keep-alive GET and return (status, parsed JSON body)."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    length = next(int(line.split(":")[1]) for line in lines if line.lower().startswith("content-length"))
    return status, json.loads(await reader.readexactly(length))


async def client(port, job_id, interval, warm_until, deadline, tally):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    after = 0
    # Real clients are not in lock-step: start each at a random point of its interval.
    await asyncio.sleep(random.uniform(0, interval))
    while time.monotonic() < deadline:
        await asyncio.sleep(interval)
        started = time.perf_counter()
        try:
            status, body = await get(reader, writer, f"/api/jobs/{job_id}/events?after={after}")
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            tally.errors.append(type(exc).__name__)
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            continue
        if time.monotonic() > warm_until:
            tally.latencies.append(time.perf_counter() - started)
        if status != 200:
            tally.errors.append(status)
            continue
        ids = [event["id"] for event in body["events"]]
        if ids and (ids[0] <= after or ids != sorted(ids)):
            tally.errors.append("out of order")
        if ids:
            after = ids[-1]
            tally.events += len(ids)
    writer.close()


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run(server, clients, job_count, interval, duration):
    """Poll for `duration` seconds and return one formatted table row."""
    job_ids = [server.request("POST", "/api/generate", {"videoSubject": f"bench {n}"})[1]["jobId"]
               for n in range(job_count)]
    tally = Tally()
    # The first second opens connections (and the server's per-thread SQLite connections): not measured.
    warm_until = time.monotonic() + WARM_UP_SECONDS
    deadline = warm_until + duration

    async def everyone():
        await asyncio.gather(*(client(server.port, job_ids[n % job_count], interval, warm_until, deadline, tally)
                               for n in range(clients)))

    asyncio.run(everyone())
    elapsed = duration
    lat = tally.latencies
    return (
        f"{clients:>8} {interval:>8.2f} {len(lat):>9} {len(lat) / elapsed:>8.0f} "
        f"{percentile(lat, 0.5) * 1000:>7.1f} {percentile(lat, 0.99) * 1000:>7.1f} "
        f"{max(lat) * 1000:>7.1f} {len(tally.errors):>6} {tally.events:>11}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between one client's polls")
    parser.add_argument("--jobs", type=int, default=2, help="jobs writing events at once")
    parser.add_argument("--tick", type=float, default=0.02, help="seconds between a job's events")
    args = parser.parse_args()

    print(f"{'clients':>8} {'interval':>8} {'requests':>9} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'max ms':>7} {'errors':>6} {'events read':>11}")
    for interval in (1.0, args.interval, 0.0):
        with tempfile.TemporaryDirectory() as root:
            server = LiveServer(Path(root), TICKS=10**6, TICK_INTERVAL=args.tick, WORKERS=args.jobs).start()
            try:
                print(run(server, args.clients, args.jobs, interval, args.duration), flush=True)
            finally:
                server.stop()


if __name__ == "__main__":
    main()
