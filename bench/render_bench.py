"""Benchmark the render engine on two 30 s 1080x1920 reels, against bare libx264 and MoviePy.

The standard reel: 30 s of 1080x1920 @ 30 fps, six Ken Burns stills with crossfades, ~75 word
captions, a voice track and a looped music bed. The showcase reel: the same stills and words with
pop captions, music ducked under the voice, a title per scene entering and leaving with
`animations`, and a different xfade transition between each pair of scenes (SHOWCASE_TRANSITIONS,
SHOWCASE_TITLES: new transition names and animation fields go there).

Floors: the same stills as a plain slideshow (`-loop`-free concat, no filters: mostly static
frames, cheap for x264) and as a panning slideshow (a zero-copy moving crop: moving frames), and
each render's own output decoded to raw frames then encoded again with the engine's x264 settings:
exactly the same pictures, so the gap to it is what the filtergraph costs.

MoviePy: the standard reel built the way MoviePy 2 users build it (bench/moviepy_reel.py), with
the engine's x264 preset on 2 threads, in a child process of this same run. MoviePy is no
dependency of MoneyReels; give the bench a venv of its own that has both:

    python3 -m venv /tmp/benchvenv
    /tmp/benchvenv/bin/pip install -r requirements.txt -r bench/requirements.txt
    /tmp/benchvenv/bin/python bench/render_bench.py

Without MoviePy installed the MoviePy row is skipped (and says how to get it).

Run: python bench/render_bench.py  (prints a table; no assertions)
     python bench/render_bench.py --effects  (the standard reel once per caption effect)
"""

import importlib.util
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moneyreels.render.outputs import CRF, PRESET, video_codec_args  # noqa: E402 (after the path is set)

log = logging.getLogger(__name__)

WIDTH, HEIGHT, FPS, SECONDS, STILLS = 1080, 1920, 30, 30, 6
MOTIONS = ["zoom_in", "pan_left", "zoom_out", "pan_right", "zoom_in", "zoom_out"]
EFFECTS = ["color", "highlight", "underline", "fade", "pop", "bounce", "karaoke"]
# The showcase's transition into scenes 2-6, and each scene title's fields on top of its text,
# time and layout: add a transition name or an animation here and the showcase shows it.
SHOWCASE_TRANSITIONS = ["crossfade", "circleopen", "slideup", "dissolve", "wipe"]


def _title_motion(enter: dict, leave: dict) -> dict:
    return {"animations": {"in": enter, "out": leave}}


SHOWCASE_TITLES = [
    _title_motion({"type": "pop", "duration_seconds": 0.4}, {"type": "fade", "duration_seconds": 0.3}),
    _title_motion({"type": "slide", "direction": "left", "duration_seconds": 0.5, "fade": True},
                  {"type": "slide", "direction": "right", "duration_seconds": 0.4}),
    _title_motion({"type": "typewriter", "duration_seconds": 1.0}, {"type": "wipe", "direction": "right"}),
    _title_motion({"type": "blur", "duration_seconds": 0.6}, {"type": "scale", "duration_seconds": 0.4}),
    _title_motion({"type": "wipe", "direction": "left"}, {"type": "pop", "duration_seconds": 0.4}),
    _title_motion({"type": "scale", "duration_seconds": 0.5, "easing": "ease-in-out"},
                  {"type": "slide", "direction": "top", "duration_seconds": 0.4, "fade": True}),
]


def make_still(path: Path, seed: int):
    """Draw a detailed photo-like JPEG: gradient sky, shapes, texture, soft focus areas."""
    rng = np.random.default_rng(seed)
    w, h = 1600, 2400
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([
        128 + 100 * np.sin(x / (150 + 40 * seed) + seed),
        128 + 100 * np.cos(y / (210 + 30 * seed)),
        128 + 90 * np.sin((x + y) / 330),
    ], axis=-1)
    texture = rng.normal(0, 14, (h // 4, w // 4, 1)).repeat(4, 0).repeat(4, 1)
    image = Image.fromarray(np.clip(base + texture, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(60):
        cx, cy, r = rng.integers(0, w), rng.integers(0, h), rng.integers(20, 260)
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour, outline=(0, 0, 0), width=4)
    for _ in range(40):
        x0, y0 = rng.integers(0, w), rng.integers(0, h)
        draw.line((x0, y0, x0 + rng.integers(-400, 400), y0 + rng.integers(-400, 400)),
                  fill=tuple(int(c) for c in rng.integers(0, 255, 3)), width=int(rng.integers(2, 12)))
    image = image.filter(ImageFilter.DETAIL)
    image.save(path, quality=90)


def write_wav(path: Path, samples: np.ndarray, rate: int = 48000):
    data = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(data.tobytes())


def make_voice(path: Path, seconds: float, rate: int = 48000):
    """Synthesize speech-like sound: a gliding harmonic voice with syllable envelopes."""
    t = np.arange(int(seconds * rate)) / rate
    pitch = 140 + 25 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 8))
    syllables = np.clip(np.sin(2 * np.pi * 2.5 * t), 0, 1) ** 0.5
    write_wav(path, 0.25 * voice * syllables, rate)


def make_music(path: Path, seconds: float, rate: int = 48000):
    """Synthesize a four-chord loop."""
    t = np.arange(int(seconds * rate)) / rate
    roots = np.array([1, 0.89, 0.75, 0.84])[(np.floor(t) % 4).astype(int)]
    music = sum(np.sin(2 * np.pi * f * roots * t) for f in (220, 277.2, 329.6)) / 3
    write_wav(path, 0.3 * music * (0.6 + 0.4 * np.exp(-((t * 2) % 1) * 6)), rate)


def manifest(media: Path, effect: str | None = None) -> dict:
    per = SECONDS / STILLS
    timeline = [{
        "id": f"still-{i}", "type": "image", "asset_id": f"still-{i}",
        "time": {"start_seconds": i * per, "duration_seconds": per},
        "motion": {"type": MOTIONS[i], "intensity": 0.15},
        **({"transition": {"type": "crossfade", "duration_seconds": 0.5}} if i else {}),
    } for i in range(STILLS)]
    timeline += [
        {"id": "voice", "type": "audio", "asset_id": "voice",
         "time": {"start_seconds": 0, "duration_seconds": SECONDS}},
        {"id": "music", "type": "audio", "asset_id": "music",
         "time": {"start_seconds": 0, "duration_seconds": SECONDS},
         "media_settings": {"volume": 0.2, "loop": True, "fade_out_seconds": 2}},
    ]
    words = "this is the standard bench reel with word captions and six moving stills".split()
    step = SECONDS / 75
    captions = [{"text": words[i % len(words)], "start_seconds": round(i * step, 3),
                 "end_seconds": round((i + 1) * step - 0.02, 3)} for i in range(75)]
    assets = [{"id": f"still-{i}", "type": "image", "url": f"still-{i}.jpg"} for i in range(STILLS)]
    assets += [{"id": name, "type": "audio", "url": f"{name}.wav"} for name in ("voice", "music")]
    return {
        "version": "v1", "output": {"width": WIDTH, "height": HEIGHT, "fps": FPS}, "assets": assets,
        "composition": {"timeline": timeline, "captions": [{
            "id": "words", "words": captions, "layout": {"x": "5%", "y": "68%", "width": "90%", "height": "14%"},
            "style": {"font_size": 84, "font_weight": 800, "color": "white", "stroke_color": "black",
                      "stroke_width": 6, "shadow_color": "rgba(0,0,0,0.6)", "shadow_offset_y": 6, "shadow_blur": 10},
            "highlight_color": "#FFD700", "max_words_per_page": 3, **({"effect": effect} if effect else {})}]},
    }


def showcase(media: Path) -> dict:
    """Return the showcase reel: the standard reel with every effect the engine has turned on."""
    data = manifest(media, "pop")
    timeline = data["composition"]["timeline"]
    for layer, kind in zip(timeline[1:STILLS], SHOWCASE_TRANSITIONS):
        layer["transition"] = {"type": kind, "duration_seconds": 0.5}
    music = next(layer for layer in timeline if layer["id"] == "music")
    music["media_settings"].update(volume=0.5, duck_under={"layer": "voice", "depth_db": 12})
    per = SECONDS / STILLS
    data["composition"]["text_overlays"] = [{
        "id": f"title-{i}", "content": f"Scene {i + 1}: ${(i + 1) * 1200:,}",
        "time": {"start_seconds": i * per + 0.3, "duration_seconds": per - 0.8},
        "layout": {"x": "8%", "y": "10%", "width": "84%", "height": "12%"},
        "style": {"font_size": 120, "font_weight": 900, "color": "#ffbe0b", "stroke_color": "black",
                  "stroke_width": 6},
        **fields} for i, fields in enumerate(SHOWCASE_TITLES)]
    return data


def tree_rss(pid: int) -> int:
    """Return the summed RSS in bytes of pid and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
        stack += children.get(current, [])
    return total


def measure(command: list[str]) -> tuple[float, int, float]:
    """Run command; return (wall seconds, peak RSS of its process tree, its CPU seconds).

    CPU seconds (user + system of the whole tree) vary far less than wall time when other work
    shares the machine.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen(command)
    peak = 0
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(process.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    returncode = process.wait()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    if returncode:
        raise SystemExit(f"{command[:3]} failed with {returncode}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, peak, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def render_child(manifest_path: str, media: str, out: str):
    """Render in a child process so its peak RSS is measured alone."""
    from moneyreels.manifest import Manifest
    from moneyreels.render import RenderOptions, render

    with tempfile.TemporaryDirectory() as work:
        data = Manifest.model_validate(json.loads(Path(manifest_path).read_text()))
        start = time.perf_counter()
        render(data, Path(out), RenderOptions(media_dirs=[Path(media)], work_dir=Path(work)))
        # A running server pays only this for a job: no interpreter start, no imports.
        call_seconds(out).write_text(f"{time.perf_counter() - start:.3f}")


def call_seconds(out) -> Path:
    """Where a render child leaves the time its render() call took."""
    return Path(f"{out}.seconds")


def make_media(media: Path):
    for i in range(STILLS):
        make_still(media / f"still-{i}.jpg", i)
    make_voice(media / "voice.wav", SECONDS)
    make_music(media / "music.wav", 4)


def effects():
    """Render the standard reel once per caption effect; print each one's time against `color`."""
    with tempfile.TemporaryDirectory() as tmp:
        media = Path(tmp)
        make_media(media)
        results = {}
        for effect in EFFECTS:
            path = media / f"manifest-{effect}.json"
            path.write_text(json.dumps(manifest(media, effect)))
            results[effect] = measure([sys.executable, __file__, "--render", str(path), str(media),
                                       str(media / f"{effect}.mp4")])
    base = results["color"][2]
    print(f"\ncaption effects on the bench reel: {SECONDS} s, {WIDTH}x{HEIGHT} @ {FPS} fps, 75 words, preset {PRESET}\n")
    print(f"{'effect':<12}{'wall s':>8}{'CPU s':>8}{'CPU vs color':>14}{'peak RSS MB':>13}")
    for effect, (wall, peak, cpu) in results.items():
        print(f"{effect:<12}{wall:>8.2f}{cpu:>8.2f}{cpu / base - 1:>+14.1%}{peak / 2**20:>13.0f}")


def moviepy_child(manifest_path: str, media: str, out: str):
    """Build the standard reel with MoviePy in a child process, so its peak RSS is measured alone."""
    import moviepy_reel

    moviepy_reel.build(json.loads(Path(manifest_path).read_text()), Path(media), Path(out), PRESET)


def same_frames_floor(ffmpeg: str, video: Path) -> tuple[float, int, float]:
    """Decode video to raw frames and time encoding them again with the engine's x264 settings."""
    raw = video.with_suffix(".yuv")
    subprocess.run([ffmpeg, "-v", "error", "-i", str(video), "-f", "rawvideo", "-pix_fmt", "yuv420p", str(raw)],
                   check=True)
    try:
        return measure([ffmpeg, "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{WIDTH}x{HEIGHT}",
                        "-r", str(FPS), "-i", str(raw), *video_codec_args(PRESET, CRF), "-frames:v", str(SECONDS * FPS),
                        str(video.with_name(f"{video.stem}-again.mp4"))])
    finally:
        raw.unlink()


def main():
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    results, calls = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        media = Path(tmp)
        make_media(media)
        for name, data in {"standard": manifest(media), "showcase": showcase(media)}.items():
            path = media / f"{name}.json"
            path.write_text(json.dumps(data))
            out = media / f"{name}.mp4"
            results[f"{name}: render (ours)"] = measure([sys.executable, __file__, "--render", str(path), str(media),
                                                         str(out)])
            calls[name] = float(call_seconds(out).read_text())
            results[f"{name}: same frames floor"] = same_frames_floor(ffmpeg, out)
        if importlib.util.find_spec("moviepy"):
            results["standard: MoviePy 2"] = measure([sys.executable, __file__, "--moviepy", str(media / "standard.json"),
                                                      str(media), str(media / "moviepy.mp4")])
        else:
            log.warning("MoviePy is not installed here: see this file's docstring for the bench venv")
        results.update(slideshow_floors(ffmpeg, media))
    print_table(results, calls)


def slideshow_floors(ffmpeg: str, media: Path) -> dict:
    """Time bare libx264 on the stills as a static and as a panning slideshow."""
    for i in range(STILLS):
        Image.open(media / f"still-{i}.jpg").resize((WIDTH, HEIGHT)).save(media / f"flat-{i}.jpg", quality=90)
    slides = media / "slides.txt"
    slides.write_text("".join(f"file 'flat-{i}.jpg'\nduration {SECONDS / STILLS}\n" for i in range(STILLS))
                      + f"file 'flat-{STILLS - 1}.jpg'\n")
    source = [ffmpeg, "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(slides)]
    encode = [*video_codec_args(PRESET, CRF), "-frames:v", str(SECONDS * FPS)]
    pan = f"scale={WIDTH + 120}:{HEIGHT + 220},fps={FPS},crop={WIDTH}:{HEIGHT}:x='mod(n,120)':y='mod(n,220)'"
    return {
        "floor: static slideshow": measure([*source, "-r", str(FPS), *encode, str(media / "floor.mp4")]),
        "floor: panning slideshow": measure([*source, "-vf", pan, *encode, str(media / "pan.mp4")]),
    }


def print_table(results: dict, calls: dict):
    frames = SECONDS * FPS
    print(f"\nbench reels: {SECONDS} s, {WIDTH}x{HEIGHT} @ {FPS} fps, libx264 preset {PRESET} crf {CRF}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}\n")
    print(f"{'run':<30}{'wall s':>8}{'CPU s':>8}{'fps':>8}{'x duration':>12}{'peak RSS MB':>13}")
    for name, (wall, peak, cpu) in results.items():
        print(f"{name:<30}{wall:>8.2f}{cpu:>8.2f}{frames / wall:>8.1f}{wall / SECONDS:>12.2f}{peak / 2**20:>13.0f}")
    print()
    for reel in ("standard", "showcase"):
        ours, floor = results[f"{reel}: render (ours)"], results[f"{reel}: same frames floor"]
        print(f"{reel} render / its same-frames floor: {ours[0] / floor[0]:.2f} wall, {ours[2] / floor[2]:.2f} CPU")
        call = calls[reel]
        print(f"{reel} render() call alone (a server's job: no Python start, no imports): {call:.2f} s, "
              f"{call / SECONDS:.2f}x its duration, {call / floor[0]:.2f}x the floor's wall")
    if "standard: MoviePy 2" in results:
        theirs, ours = results["standard: MoviePy 2"], results["standard: render (ours)"]
        print(f"MoviePy 2 / MoneyReels on the standard reel: {theirs[0] / ours[0]:.2f} wall, {theirs[2] / ours[2]:.2f} CPU, "
              f"{theirs[1] / ours[1]:.2f} peak RSS")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--render"]:
        render_child(*sys.argv[2:5])
    elif sys.argv[1:2] == ["--moviepy"]:
        moviepy_child(*sys.argv[2:5])
    elif sys.argv[1:2] == ["--effects"]:
        effects()
    else:
        main()
