"""Every named transition renders inside the one filtergraph and differs from a cut at its midpoint."""

import re
import subprocess

import numpy as np
import pytest
from PIL import Image

from moneyreels.transitions import BUILT_IN, TRANSITIONS, XFADE
from tests.support.video import FFMPEG, probe, reel

W, H, FPS = 64, 112, 20
LAYER_SECONDS, TRANSITION_FRAMES = 0.6, 10  # 12 frames a layer, the first 10 of them blending it in
COLOURS = {"red": (230, 30, 30), "blue": (30, 30, 230)}


def test_the_catalogue_is_what_the_bundled_ffmpeg_draws():
    help_text = subprocess.run([FFMPEG, "-hide_banner", "-h", "filter=xfade"], capture_output=True, text=True).stdout
    listed = set(re.findall(r"^\s{5}(\w+)\s+-?\d+\s", help_text, re.MULTILINE)) - {"custom"}
    assert len(listed) > 50
    assert {entry.xfade for entry in TRANSITIONS.values()} == listed
    assert {name for name, entry in TRANSITIONS.items() if entry.kind == BUILT_IN} == {"crossfade", "slide", "wipe"}
    assert all(entry.kind == XFADE for name, entry in TRANSITIONS.items() if name not in ("crossfade", "slide", "wipe"))


def frames_of(path):
    """Decode every frame of path as an (n, h, w, 3) uint8 array."""
    raw = subprocess.run([FFMPEG, "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, H, W, 3).astype(int)


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    """Render one reel of solid layers, each joined to the one before by the next transition; and as cuts."""
    from moneyreels.manifest import Manifest
    from moneyreels.render import RenderOptions, render

    root = tmp_path_factory.mktemp("transitions")
    # Shaded from dark to full along the diagonal: solid colours alike everywhere would turn
    # `distance` (which switches each pixel by how far its two colours are apart) into a cut.
    shade = 0.45 + 0.55 * np.add.outer(np.arange(H), np.arange(W)) / (W + H)
    for name, colour in COLOURS.items():
        Image.fromarray((shade[..., None] * colour).astype(np.uint8)).save(root / f"{name}.png")
    assets = [{"id": name, "type": "image", "url": f"{name}.png"} for name in COLOURS]
    names = list(TRANSITIONS)

    def layers(with_transitions):
        timeline = []
        for index in range(len(names) + 1):
            layer = {"id": f"l{index}", "type": "image", "asset_id": ("red", "blue")[index % 2],
                     "time": {"start_seconds": round(index * LAYER_SECONDS, 3), "duration_seconds": LAYER_SECONDS}}
            if index and with_transitions:
                layer["transition"] = {"type": names[index - 1], "duration_seconds": TRANSITION_FRAMES / FPS}
            timeline.append(layer)
        return timeline

    outputs = {}
    for label, flag in (("blended", True), ("cut", False)):
        work = root / f"work-{label}"
        work.mkdir()
        out = root / f"{label}.mp4"
        result = render(Manifest.model_validate(reel(layers(flag), assets, width=W, height=H, fps=FPS)), out,
                        RenderOptions(media_dirs=[root], work_dir=work, preset="ultrafast", crf=10))
        assert result.warnings == []
        outputs[label] = out
    return names, frames_of(outputs["blended"]), frames_of(outputs["cut"]), probe(outputs["blended"])


def difference(a, b):
    return float(np.abs(a - b).mean())


def test_every_transition_blends_at_its_midpoint_and_ends_on_the_new_layer(chain):
    names, blended, cut, info = chain
    assert info["video"]["codec_name"] == "h264"
    assert blended.shape == cut.shape == (round((len(names) + 1) * LAYER_SECONDS * FPS), H, W, 3)
    for index, name in enumerate(names, start=1):
        start = round(index * LAYER_SECONDS * FPS)
        middle = start + TRANSITION_FRAMES // 2
        assert difference(cut[start - 1], cut[start]) > 60  # the cut: red, then blue at once
        assert difference(blended[middle], cut[middle]) > 10, name
        assert difference(blended[start - 1], cut[start - 1]) < 3, name  # untouched before
        assert difference(blended[start + TRANSITION_FRAMES], cut[start + TRANSITION_FRAMES]) < 3, name  # whole after
