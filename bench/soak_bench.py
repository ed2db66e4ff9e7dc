"""Soak: many small render jobs through one real server; memory and file descriptors stay flat.

Starts MoneyReels (waitress, the real job kinds) on 127.0.0.1, submits JOBS small renders in
batches, waits for each batch, and samples the server's RSS and open file descriptors after
every batch. Prints the samples and the growth from the first batch to the last.

    python bench/soak_bench.py [--jobs 200] [--batch 20]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.live import LiveServer  # noqa: E402
from tests.support.media import noise_image  # noqa: E402

MANIFEST = {
    "version": "v1", "output": {"width": 180, "height": 320, "fps": 15},
    "assets": [{"id": "pic", "type": "image", "url": "pic.jpg"}],
    "composition": {"timeline": [{"id": "still", "type": "image", "asset_id": "pic",
                                  "time": {"start_seconds": 0, "duration_seconds": 1}}],
                    "text_overlays": [{"content": "Soak", "time": {"start_seconds": 0, "duration_seconds": 1}}]},
}


def rss_mb(pid) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def open_fds(pid) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--batch", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        root = Path(root)
        (root / "media").mkdir()
        noise_image(root / "media" / "pic.jpg", 360, 640)
        server = LiveServer(root, RUNNERS="real", MEDIA_DIR=root / "media", MONEYREELS_RATE_LIMIT=0).start()
        pid = server.process.pid
        samples, failed, started = [], 0, time.perf_counter()
        try:
            for done in range(0, args.jobs, args.batch):
                ids = [server.request("POST", "/v1/videos/render", MANIFEST)[1]["job_id"]
                       for _ in range(min(args.batch, args.jobs - done))]
                for job_id in ids:
                    while (status := server.request("GET", f"/v1/jobs/{job_id}")[1]["data"]["status"]) in (
                            "queued", "processing"):
                        time.sleep(0.1)
                    failed += status != "completed"
                samples.append((done + len(ids), rss_mb(pid), open_fds(pid)))
        finally:
            server.stop()
    wall = time.perf_counter() - started
    print(f"{'jobs':>6} {'rss MB':>8} {'fds':>5}")
    for jobs_done, rss, fds in samples:
        print(f"{jobs_done:>6} {rss:>8.1f} {fds:>5}")
    first, last = samples[0], samples[-1]
    print(f"\n{args.jobs} renders in {wall:.0f} s ({args.jobs / wall:.1f}/s), {failed} failed; "
          f"from batch 1 to the last: RSS {last[1] - first[1]:+.1f} MB, fds {last[2] - first[2]:+d}")


if __name__ == "__main__":
    main()
