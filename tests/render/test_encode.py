"""The x264 settings a render encodes with, read back from the options x264 writes into the stream."""

import re

from tests.support.video import reel

from moneyreels.manifest import Manifest
from moneyreels.render import RenderOptions, render

ASSETS = [{"id": "clip", "type": "video", "url": "red_land.mp4"}]
MANIFEST = reel([{"id": "clip", "type": "video", "asset_id": "clip", "time": {"start_seconds": 0, "duration_seconds": 1}}],
                ASSETS)


def x264_options(path) -> dict[str, str]:
    """Return the options x264 recorded in its SEI message (`... - options: cabac=1 ref=1 ...`)."""
    found = re.search(rb"x264 - core \d+.*? - options: ([^\x00]+)", path.read_bytes())
    assert found, "no x264 options in the output"
    return dict(pair.split("=", 1) for pair in found.group(1).decode().split() if "=" in pair)


def test_the_default_encode_is_superfast_with_macroblock_tree_rate_control(tmp_path, media):
    out = tmp_path / "out.mp4"
    render(Manifest.model_validate(MANIFEST), out, RenderOptions(media_dirs=[media], work_dir=tmp_path))
    options = x264_options(out)
    # superfast's motion search and sub-pixel refinement, with veryfast's mbtree and lookahead.
    assert (options["me"], options["subme"]) == ("dia", "1")
    assert (options["mbtree"], options["rc_lookahead"], options["crf"]) == ("1", "10", "23.0")


def test_another_preset_keeps_its_own_rate_control(render_reel):
    options = x264_options(render_reel(MANIFEST, preset="medium")[1])
    assert (options["me"], options["subme"], options["rc_lookahead"]) == ("hex", "7", "40")
