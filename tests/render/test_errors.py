"""Semantic preflight errors, ffmpeg crashes, cancellation, progress and output hygiene."""

import os
import time
from pathlib import Path

import pytest
from tests.support.video import FFMPEG, reel

from moneyreels.errors import JobCancelled, RenderError
from moneyreels.manifest import Manifest
from moneyreels.render import RenderOptions, render

ASSETS = [{"id": "clip", "type": "video", "url": "red_land.mp4"}, {"id": "ramp", "type": "video", "url": "ramp.mp4"},
          {"id": "pic", "type": "image", "url": "checker.png"}]


def clip(asset="clip", start=0.0, duration=2.0, **fields):
    return {"id": fields.pop("id", asset), "type": "video", "asset_id": asset,
            "time": {"start_seconds": start, "duration_seconds": duration}, **fields}


def failure(render_reel, manifest, **options) -> RenderError:
    with pytest.raises(RenderError) as caught:
        render_reel(manifest, **options)
    return caught.value


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "work")


def test_trim_past_the_end_of_the_source_is_impossible(render_reel):
    error = failure(render_reel, reel([clip(trim={"start_seconds": 2.5}, duration=2)], ASSETS))
    assert error.code == "impossible_trim"
    assert error.details["layer_id"] == "clip" and error.details["source_duration_seconds"] == pytest.approx(3, 0.05)
    assert failure(render_reel, reel([clip(trim={"start_seconds": 5})], ASSETS)).code == "impossible_trim"


def test_a_layer_starting_after_the_end_is_out_of_bounds(render_reel):
    overlays = [{"id": "text-1", "content": "late", "time": {"start_seconds": 2, "duration_seconds": 1}}]
    error = failure(render_reel, reel([clip(duration=2)], ASSETS, text_overlays=overlays))
    assert error.code == "manifest_out_of_bounds"
    assert error.details == {"layer_id": "text-1", "start_seconds": 2, "total_duration_seconds": 2}
    image = {"id": "late-pic", "type": "image", "asset_id": "pic", "time": {"start_seconds": 3, "duration_seconds": 1}}
    error = failure(render_reel, reel([clip(duration=2), image], ASSETS))
    assert error.details["layer_id"] == "late-pic"


def test_output_longer_than_the_limit_is_refused(render_reel):
    error = failure(render_reel, reel([clip(duration=3)], ASSETS), max_duration_seconds=2)
    assert error.code == "duration_too_long"
    assert error.details["total_duration_seconds"] == 3


def test_trim_extraction_longer_than_the_limit_is_refused(render_reel):
    error = failure(render_reel, reel([clip("ramp", duration=4, trim={"start_seconds": 1})], ASSETS),
                    max_trim_seconds=3)
    assert error.code == "duration_too_long"
    assert error.details["layer_id"] == "ramp"


def test_ffmpeg_failure_is_a_worker_crash_with_its_last_lines(render_reel, tmp_path):
    # Probes pass through to the real ffmpeg; the render itself fails after 30 lines of output.
    fake = tmp_path / "ffmpeg"
    fake.write_text(f"#!/bin/sh\ncase \"$*\" in *filter_complex*) ;; *) exec {FFMPEG} \"$@\";; esac\n"
                    "for i in $(seq 1 30); do echo \"line $i\" >&2; done\nexit 3\n")
    fake.chmod(0o755)
    error = failure(render_reel, reel([clip(duration=1)], ASSETS), ffmpeg=str(fake))
    assert error.code == "worker_crash"
    assert error.details["returncode"] == 3
    assert error.details["stderr"] == [f"line {i}" for i in range(11, 31)]
    assert leftovers(tmp_path) == ["ffmpeg"]  # no output, no partial file


def _ffmpeg_children() -> list[int]:
    """Return the ids of ffmpeg processes this test process started and that are still alive."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except (OSError, ValueError):
            continue
        name, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        if "ffmpeg" in name and int(rest[1]) == os.getpid() and rest[0] != "Z":
            found.append(int(entry))
    return found


def test_cancel_stops_ffmpeg_within_a_second_and_leaves_nothing(tmp_path, media):
    manifest = Manifest.model_validate(reel(
        [{"id": "pic", "type": "image", "asset_id": "pic", "time": {"start_seconds": 0, "duration_seconds": 20},
          "motion": {"type": "zoom_in"}}], ASSETS, width=720, height=1280, fps=30))
    work = tmp_path / "work"
    work.mkdir()
    state = {}

    def checkpoint():
        if "encoding" in state and time.monotonic() - state["encoding"] > 0.5:
            state["running"] = _ffmpeg_children()
            state["cancelled"] = time.monotonic()
            raise JobCancelled()

    def on_progress(fraction, message):
        if message == "Encoding":
            state.setdefault("encoding", time.monotonic())

    with pytest.raises(JobCancelled):
        render(manifest, tmp_path / "out.mp4", RenderOptions(media_dirs=[media], work_dir=work, preset="medium"),
               on_progress=on_progress, checkpoint=checkpoint)
    assert time.monotonic() - state["cancelled"] < 1.0
    assert state["running"], "ffmpeg should have been running when the job was cancelled"
    assert _ffmpeg_children() == []
    assert leftovers(tmp_path) == []


def test_progress_rises_to_one_and_the_output_replaces_atomically(render_reel, tmp_path, media):
    seen = []
    manifest = Manifest.model_validate(reel([clip(duration=2)], ASSETS))
    out = tmp_path / "reel.mp4"
    out.write_bytes(b"old")
    work = tmp_path / "work"
    work.mkdir()
    result = render(manifest, out, RenderOptions(media_dirs=[media], work_dir=work, preset="ultrafast"),
                    on_progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0 and fractions[-1] == 1
    assert {"Fetching assets", "Encoding", "Done"} <= {m for _, m in seen}
    assert out.stat().st_size > 1000 and leftovers(tmp_path) == ["reel.mp4"]
    assert (result.duration_seconds, result.width, result.height, result.fps) == (2, 180, 320, 15)
