"""Benchmark what animations and keyframes cost: the standard bench reel, plain and animated.

Variants of the standard reel (bench/render_bench.py), each rendered in a child process:
- plain: as it is;
- titles: plus three animated titles (pop in, slide out; fade in, wipe out; typewriter in,
  keyframed scale and rotation) and a keyframed logo, over the whole reel;
- full-frame: plus every still entering and leaving (fade, slide, wipe, blur in turn) instead
  of its crossfade, so every frame blends a moving full-frame picture.

Run: python bench/animation_bench.py  (prints a table; no assertions)
"""

import json
import os
import sys
import tempfile
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from render_bench import FPS, HEIGHT, PRESET, SECONDS, STILLS, WIDTH, make_media, manifest, measure  # noqa: E402

ENTRANCES = ["fade", "slide", "wipe", "blur"]


def titles(data: dict) -> dict:
    """Add three animated titles and a keyframed logo."""
    box = {"x": "8%", "width": "84%", "height": "12%"}
    style = {"font_size": 110, "font_weight": 900, "color": "#ffbe0b", "stroke_color": "black", "stroke_width": 6}
    spans = [(0, 10), (10, 10), (20, 10)]
    moves = [{"animations": {"in": {"type": "pop", "duration_seconds": 0.5},
                             "out": {"type": "slide", "direction": "left", "duration_seconds": 0.5}}},
             {"animations": {"in": {"type": "fade", "duration_seconds": 0.6},
                             "out": {"type": "wipe", "direction": "right", "duration_seconds": 0.6}}},
             {"animations": {"in": {"type": "typewriter", "duration_seconds": 1.5}},
              "keyframes": {"scale": [{"time": 0, "value": 0.9}, {"time": 10, "value": 1.1, "easing": "ease-in-out"}],
                            "rotation": [{"time": 0, "value": -3}, {"time": 10, "value": 3}]}}]
    data["composition"]["text_overlays"] = [
        {"content": f"Title number {i + 1}", "time": {"start_seconds": start, "duration_seconds": length},
         "layout": {**box, "y": "10%"}, "style": style, **move}
        for i, ((start, length), move) in enumerate(zip(spans, moves))]
    data["assets"].append({"id": "logo", "type": "image", "url": "logo.png"})
    data["composition"]["timeline"].append({
        "id": "logo", "type": "image", "asset_id": "logo", "time": {"start_seconds": 0, "duration_seconds": SECONDS},
        "layout": {"x": "75%", "y": "3%", "width": "20%", "height": "11%"}, "background_mode": "transparent",
        "animations": {"in": {"type": "fade", "duration_seconds": 1}, "out": {"type": "fade", "duration_seconds": 1}},
        "keyframes": {"rotation": [{"time": 0, "value": 0}, {"time": SECONDS, "value": 360}]}})
    return data


def full_frame(data: dict) -> dict:
    """Give every still an entrance and an exit instead of its crossfade."""
    for i, layer in enumerate(data["composition"]["timeline"][:STILLS]):
        layer.pop("transition", None)
        kind = ENTRANCES[i % len(ENTRANCES)]
        layer["animations"] = {"in": {"type": kind, "duration_seconds": 0.5},
                               "out": {"type": "fade", "duration_seconds": 0.3}}
    return data


def main():
    with tempfile.TemporaryDirectory() as tmp:
        media = Path(tmp)
        make_media(media)
        Image.new("RGBA", (400, 220), (230, 57, 70, 255)).save(media / "logo.png")
        results = {}
        for name, edit in (("plain", lambda data: data), ("titles", titles), ("full-frame", full_frame)):
            path = media / f"manifest-{name}.json"
            path.write_text(json.dumps(edit(manifest(media))))
            results[name] = measure([sys.executable, str(Path(__file__).parent / "render_bench.py"), "--render",
                                     str(path), str(media), str(media / f"{name}.mp4")])
    base = results["plain"][2]
    print(f"\nanimations on the bench reel: {SECONDS} s, {WIDTH}x{HEIGHT} @ {FPS} fps, preset {PRESET}, "
          f"{os.cpu_count()} cores\n")
    print(f"{'variant':<12}{'wall s':>8}{'CPU s':>8}{'x duration':>12}{'CPU vs plain':>14}{'peak RSS MB':>13}")
    for name, (wall, peak, cpu) in results.items():
        print(f"{name:<12}{wall:>8.2f}{cpu:>8.2f}{wall / SECONDS:>12.2f}{cpu / base - 1:>+14.1%}{peak / 2**20:>13.0f}")


if __name__ == "__main__":
    main()
