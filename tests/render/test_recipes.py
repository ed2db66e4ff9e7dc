"""The five recipes of the Reel Forge docs, rendered small and checked frame by frame."""

import json
from pathlib import Path

import numpy as np
from tests.support.video import H, W, assert_reel, close, frame_at, loudness, pixel, reel

RED, GREEN, BLUE, BLACK = (255, 0, 0), (0, 255, 0), (0, 0, 255), (0, 0, 0)


def count_colour(frame, colour, box=None, tolerance=60):
    """Count pixels within tolerance of colour, optionally inside box (x0, y0, x1, y1)."""
    if box:
        frame = frame[box[1]:box[3], box[0]:box[2]]
    return int((np.abs(frame.astype(int) - colour).max(axis=2) <= tolerance).sum())


def test_recipe_1_simple_stitching(render_reel, http_server):
    clips = [("clip-1", "red_land.mp4"), ("clip-2", "blue_port.mp4"), ("clip-3", "green_port.mp4")]
    manifest = reel(
        assets=[{"id": cid, "type": "video", "url": f"{http_server.url}/{name}"} for cid, name in clips],
        auto_stitch=True,
        timeline=[{"id": f"layer-{cid}", "type": "video", "asset_id": cid, "background_mode": "blurred"}
                  for cid, _ in clips],
    )
    result, out = render_reel(manifest)
    assert result.duration_seconds == 7
    assert_reel(out, duration=7)
    first = frame_at(out, 1.0)
    assert close(pixel(first, W // 2, H // 2), RED)
    # A 16:9 clip in a 9:16 frame: the bars are a blurred copy (reddish), not black.
    assert pixel(first, W // 2, 10)[0] > 150
    assert close(pixel(frame_at(out, 4.0), W // 2, H // 2), BLUE)
    assert close(pixel(frame_at(out, 6.0), W // 2, H // 2), GREEN)


def test_recipe_2_audio_and_video_mixing(render_reel, http_server, media):
    manifest = reel(
        assets=[{"id": "main-video", "type": "video", "url": f"{http_server.url}/blue_port.mp4"},
                {"id": "lofi-beat", "type": "audio", "url": f"{http_server.url}/tone.wav"}],
        timeline=[
            {"id": "layer-video", "type": "video", "asset_id": "main-video",
             "time": {"start_seconds": 0, "duration_seconds": 2}},
            {"id": "layer-audio", "type": "audio", "asset_id": "lofi-beat",
             "time": {"start_seconds": 0, "duration_seconds": 3},
             "media_settings": {"volume": 0.5, "loop": True, "fade_in_seconds": 1.0}},
        ],
    )
    _, out = render_reel(manifest)
    assert_reel(out, duration=3)
    # The 1 s tone loops to 3 s at half its level; the fade-in keeps its first 0.2 s quieter.
    source = loudness(media / "tone.wav", 0.2, 0.5)
    assert abs(loudness(out, 2.3, 0.5) - source * 0.5) < source * 0.1
    assert loudness(out, 0.0, 0.2) < loudness(out, 1.2, 0.3) / 2
    assert close(pixel(frame_at(out, 1.0), W // 2, H // 2), BLUE)


def test_recipe_3_smart_trimming_over_http(render_reel, http_server, request_log, media):
    manifest = reel(
        assets=[{"id": "long-podcast", "type": "video", "url": f"{http_server.url}/ramp.mp4"}],
        timeline=[{"id": "highlight-clip", "type": "video", "asset_id": "long-podcast",
                   "trim": {"start_seconds": 12}, "time": {"start_seconds": 0, "duration_seconds": 2}}],
    )
    _, out = render_reel(manifest)
    assert_reel(out, duration=2)
    # The ramp's brightness is 10 per source second: 12.5 s in means about 125.
    assert abs(pixel(frame_at(out, 0.5), W // 2, H // 2)[1] - 125) < 15
    size = (media / "ramp.mp4").stat().st_size
    gets = [r for r in request_log if r["method"] == "GET" and r["path"] == "/ramp.mp4"]
    assert any(r["range"] and r["range"] != "bytes=0-" for r in gets), gets
    assert sum(r["sent"] for r in gets) < size * 0.5


def test_recipe_4_split_screen(render_reel, http_server):
    manifest = reel(
        assets=[{"id": "gameplay", "type": "video", "url": f"{http_server.url}/red_land.mp4"},
                {"id": "facecam", "type": "video", "url": f"{http_server.url}/green_port.mp4"}],
        timeline=[
            {"id": "layer-top", "type": "video", "asset_id": "gameplay", "background_mode": "solid",
             "time": {"start_seconds": 0, "duration_seconds": 2},
             "layout": {"x": "0%", "y": "0%", "width": "100%", "height": "50%", "fit": "contain"}},
            {"id": "layer-bottom", "type": "video", "asset_id": "facecam", "background_mode": "solid",
             "time": {"start_seconds": 0, "duration_seconds": 2},
             "layout": {"x": "0%", "y": "50%", "width": "100%", "height": "50%", "fit": "contain"}},
        ],
    )
    _, out = render_reel(manifest)
    frame = frame_at(out, 1.0)
    # Top: 180x101 of red centred in the 180x160 top half, black bars above and below.
    assert close(pixel(frame, W // 2, 80), RED)
    assert close(pixel(frame, W // 2, 10), BLACK)
    assert close(pixel(frame, W // 2, 150), BLACK)
    # Bottom: the 9:16 clip fits 90x160 in the middle, black bars left and right.
    assert close(pixel(frame, W // 2, 240), GREEN)
    assert close(pixel(frame, 10, 240), BLACK)
    assert close(pixel(frame, W - 10, 240), BLACK)


def test_recipe_5_fact_drop(render_reel, http_server):
    facts = [("Did you know?", "white", (255, 255, 255)), ("Honey never spoils.", "#FFD700", (255, 215, 0)),
             ("Even after 3,000 years!", "#00FF00", (0, 255, 0))]
    manifest = reel(
        assets=[{"id": "bg-video", "type": "video", "url": f"{http_server.url}/blue_port.mp4"},
                {"id": "bg-music", "type": "audio", "url": f"{http_server.url}/tone.wav"}],
        global_styles={"text": {"font_size": 24, "font_weight": 700, "text_align": "center",
                                "stroke_color": "black", "stroke_width": 1, "shadow_color": "black",
                                "shadow_offset_x": 1, "shadow_offset_y": 1, "shadow_blur": 2}},
        global_layouts={"text": {"x": "0%", "y": "8%", "width": "100%", "height": "24%"}},
        timeline=[
            {"id": "layer-video", "type": "video", "asset_id": "bg-video", "media_settings": {"loop": True},
             "time": {"start_seconds": 0, "duration_seconds": 3}},
            {"id": "layer-music", "type": "audio", "asset_id": "bg-music",
             "time": {"start_seconds": 0, "duration_seconds": 3}, "media_settings": {"volume": 0.5, "loop": True}},
        ],
        text_overlays=[{"id": f"text-{i}", "content": content, "style": {"color": colour},
                        "time": {"start_seconds": i, "duration_seconds": 1}}
                       for i, (content, colour, _) in enumerate(facts)],
    )
    _, out = render_reel(manifest)
    assert_reel(out, duration=3)
    text_box = (0, round(H * 0.08), W, round(H * 0.32))
    below = (0, round(H * 0.4), W, H)
    for i, (_, _, rgb) in enumerate(facts):
        frame = frame_at(out, i + 0.5)
        assert count_colour(frame, rgb, text_box) > 30, i
        assert count_colour(frame, rgb, below) == 0, i
        later = [c for _, _, c in facts[i + 1:]]
        assert all(count_colour(frame, c, text_box, tolerance=30) < 5 for c in later), i
    assert loudness(out, 1.0, 1.0) > 0.015  # the tone at half volume: RMS about 0.022


def test_page_recipe_animated_title_sequence_renders_its_moves(render_reel):
    recipe = Path(__file__).parents[2] / "moneyreels" / "static" / "recipes" / "6-animated-title-sequence.json"
    manifest = json.loads(recipe.read_text())
    manifest["output"] = {"width": 360, "height": 640, "fps": 10}  # a third of the size: boxes are in %
    for overlay in manifest["composition"]["text_overlays"]:
        overlay["style"]["font_size"] = overlay["style"]["font_size"] / 3
    result, out = render_reel(manifest)
    assert_reel(out, 360, 640, 10, duration=6)
    assert result.warnings == []
    gold, blue = (255, 215, 0), (142, 202, 230)
    title, habits = (0, round(640 * 0.26), 360, round(640 * 0.40)), (0, round(640 * 0.55), 360, round(640 * 0.75))
    assert count_colour(frame_at(out, 0.0), gold, title) == 0  # the pop starts invisible
    middle = frame_at(out, 4.0)
    assert count_colour(middle, gold, title) > 200 and count_colour(middle, blue, habits, tolerance=50) > 200
    last = frame_at(out, 5.9)  # every exit ends on the last frame
    assert count_colour(last, gold, title) == 0 and count_colour(last, blue, habits, tolerance=50) == 0
