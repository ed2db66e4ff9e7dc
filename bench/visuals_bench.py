"""Benchmark the offline visuals and music providers at the reel size.

Prints the milliseconds per draw_art image (1080x1920 JPEG) for each style, per title card, and
the seconds to synthesise and write a ~32 s music track per mood (cache bypassed).

Run: python bench/visuals_bench.py  (prints a table; no assertions)
"""

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moneyreels.providers import art, music  # noqa: E402

SIZE = (1080, 1920)
RUNS = 5
PALETTE = art.Palette(("#0b1d51", "#1e3a8a", "#0e7490"), ("#38bdf8", "#a5f3fc"), "#ffffff")


def timed(function, runs: int = RUNS) -> float:
    """Return the median seconds of `runs` calls, after one warm-up call."""
    function(-1)
    times = []
    for i in range(runs):
        start = time.perf_counter()
        function(i)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for style in art.STYLES:
            seconds = timed(lambda i: art.draw_art("bench", PALETTE, SIZE, out / "a.jpg", seed=i, style=style))
            rows.append((f"draw_art {style}", f"{seconds * 1000:.0f} ms"))
        for kind in art.PANELS:
            seconds = timed(lambda i: art.draw_panel(kind, PALETTE, (972, 653), out / "p.png"))
            rows.append((f"draw_panel {kind} (972x653)", f"{seconds * 1000:.0f} ms"))
        for mood in music.MOODS:
            # A fresh cache folder per call, so every call synthesises and writes the WAV.
            seconds = timed(lambda i: music.track(mood, out / f"{mood}-{i}", seconds=32.0), runs=3)
            length = music.track(mood, out / f"{mood}-0", seconds=32.0).seconds
            rows.append((f"music {mood} ({length:.1f} s track)", f"{seconds:.2f} s"))
    width = max(len(name) for name, _ in rows)
    print(f"{'what':<{width}}  time (median)")
    for name, value in rows:
        print(f"{name:<{width}}  {value:>8}")


if __name__ == "__main__":
    main()
