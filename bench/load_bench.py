"""Load while rendering: pollers, held SSE streams and submissions against one real server.

Starts MoneyReels (waitress, the real job kinds) on 127.0.0.1, queues a 20 s render, and
while it renders runs POLLERS clients polling events?after=N every second, STREAMS clients
holding the SSE stream, and a submitter posting a small render every SUBMIT_EVERY seconds,
for DURATION seconds. Prints per-kind throughput, p50/p99 latency and errors.

    python bench/load_bench.py [--duration 20] [--pollers 40] [--streams 10]
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
from tests.support.media import noise_image  # noqa: E402


def manifest(seconds, width, height, text="Load test"):
    return {"version": "v1", "output": {"width": width, "height": height, "fps": 30},
            "assets": [{"id": "pic", "type": "image", "url": "pic.jpg"}],
            "composition": {"timeline": [{"id": "still", "type": "image", "asset_id": "pic",
                                          "motion": {"type": "zoom_in"},
                                          "time": {"start_seconds": 0, "duration_seconds": seconds}}],
                            "text_overlays": [{"content": text, "time": {"start_seconds": 0,
                                                                         "duration_seconds": seconds}}]}}


async def http(port, method, path, body=None):
    """One request on a fresh connection; return (status, body bytes)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    data = json.dumps(body).encode() if body is not None else b""
    writer.write(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode() + data)
    await writer.drain()
    raw = await reader.read()
    writer.close()
    head, _, rest = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), rest


class Tally:
    def __init__(self):
        self.latencies, self.errors, self.count = [], 0, 0

    def row(self, name, seconds):
        lat = sorted(self.latencies) or [0.0]
        pick = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))] * 1000  # noqa: E731
        return f"{name:<10} {self.count:>8} {self.count / seconds:>8.1f} {pick(0.5):>8.1f} {pick(0.99):>8.1f} {self.errors:>7}"


async def timed(tally, coroutine, ok=(200,)):
    started = time.perf_counter()
    try:
        status, _ = await coroutine
        tally.latencies.append(time.perf_counter() - started)
        tally.count += 1
        tally.errors += status not in ok
    except (OSError, ValueError, IndexError):
        tally.errors += 1


async def poller(port, job_id, deadline, tally):
    await asyncio.sleep(random.uniform(0, 1))
    while time.monotonic() < deadline:
        await timed(tally, http(port, "GET", f"/api/jobs/{job_id}/events?after=0"))
        await asyncio.sleep(1.0)


async def streamer(port, job_id, deadline, tally):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /api/v1/jobs/{job_id}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    await writer.drain()
    while time.monotonic() < deadline:
        try:
            line = await asyncio.wait_for(reader.readline(), timeout=max(0.1, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            break
        if not line:
            break
        if line.startswith(b"event:"):
            tally.count += 1
    writer.close()


async def submitter(port, every, deadline, tally):
    while time.monotonic() < deadline:
        await timed(tally, http(port, "POST", "/v1/videos/render", manifest(1, 90, 160)), ok=(202,))
        await asyncio.sleep(every)


async def run(port, job_id, args, tallies):
    deadline = time.monotonic() + args.duration
    await asyncio.gather(
        *(poller(port, job_id, deadline, tallies["poll"]) for _ in range(args.pollers)),
        *(streamer(port, job_id, deadline, tallies["sse"]) for _ in range(args.streams)),
        submitter(port, args.submit_every, deadline, tallies["submit"]),
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--pollers", type=int, default=40)
    parser.add_argument("--streams", type=int, default=10)
    parser.add_argument("--submit-every", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        root = Path(root)
        (root / "media").mkdir()
        noise_image(root / "media" / "pic.jpg", 1080, 1920)
        # Every simulated client shares 127.0.0.1: let that one address hold all the streams.
        server = LiveServer(root, RUNNERS="real", MEDIA_DIR=root / "media", MONEYREELS_RATE_LIMIT=0,
                            MONEYREELS_API_RATE_LIMIT=0, MONEYREELS_MAX_WAITING_PER_CLIENT=args.streams).start()
        try:
            status, created = server.request("POST", "/v1/videos/render", manifest(20, 540, 960))
            job_id = created["job_id"]
            tallies = {"poll": Tally(), "sse": Tally(), "submit": Tally()}
            asyncio.run(run(server.port, job_id, args, tallies))
            state = server.request("GET", f"/v1/jobs/{job_id}")[1]["data"]["status"]
        finally:
            server.stop()
    print(f"{'kind':<10} {'requests':>8} {'per s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, tally in tallies.items():
        print(tally.row(name if name != "sse" else "sse events", args.duration))
    print(f"\n{args.pollers} pollers (1/s), {args.streams} SSE streams, 1 submit/{args.submit_every:g}s, "
          f"for {args.duration:g} s while a 540x960 render ran (its status at the end: {state})")


if __name__ == "__main__":
    main()
