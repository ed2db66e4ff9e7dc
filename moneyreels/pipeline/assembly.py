"""Assembly: compile the score, voice, timings, assets and music into a manifest, and render it."""

import json

from ..manifest import Manifest
from ..render.job import OUTPUT_NAME, render_into
from . import kinetic
from .catalog import CAPTION_STYLES, SAFE_AREAS
from .score import DirectorScore

MOTION_INTENSITY = {"low": 0.08, "medium": 0.14, "high": 0.22}
TRANSITION_SECONDS = 0.4
MUSIC_VOLUME = 0.25
# The music dips 14 dB under the voice within 50 ms and is back 0.4 s into a pause.
MUSIC_DUCKING = {"layer": "voice", "depth_db": 14, "attack_ms": 50, "release_ms": 400}
# Where short-video platforms normalise playback; a reel mixed there is not turned down or up.
LOUDNESS_LUFS = -14
SCALED_KEYS = ("font_size", "stroke_width", "shadow_blur", "shadow_offset_x", "shadow_offset_y")


def caption_track(plan, words) -> dict:
    """The archetype's caption style, scaled to the output size, inside the platform's safe area."""
    style = CAPTION_STYLES[plan.archetype.captionStyle]
    scaled = {key: (value * plan.scale if key in SCALED_KEYS else value) for key, value in style.style.items()}
    return {
        "id": "captions",
        "words": [{"text": text, "start_seconds": start, "end_seconds": max(end, start + 0.05)}
                  for text, start, end in words],
        "style": scaled,
        "effect": style.effect,
        "highlight_color": style.highlight_color,
        "max_words_per_page": style.max_words_per_page,
        "max_chars_per_line": style.max_chars_per_line,
        "text_transform": style.text_transform,
        "position": style.position,
        "safe_area": SAFE_AREAS[plan.platform.name],
    }


def visual_layer(plan, index, scene, asset, timing) -> dict:
    layer = {
        "id": f"scene-{index + 1}",
        "type": asset["kind"],
        "asset_id": f"visual-{index + 1}",
        "time": {"start_seconds": timing["start"], "duration_seconds": timing["duration"]},
    }
    if asset["kind"] == "image" and scene.motion != "static":
        layer["motion"] = {"type": scene.motion, "intensity": MOTION_INTENSITY[plan.archetype.motionIntensity]}
    if asset["kind"] == "video":
        layer["media_settings"] = {"volume": 0, "loop": True}
    if index and scene.transition != "cut":
        layer["transition"] = {"type": scene.transition, "duration_seconds": TRANSITION_SECONDS}
    return layer


def compile_manifest(plan) -> dict:
    score = DirectorScore.model_validate(plan.outputs["score"])
    narration, assets = plan.outputs["narration"], plan.outputs["assets"]
    width, height = plan.size
    manifest_assets, timeline, texts, panels = [], [], [], []
    for index, (scene, asset, timing) in enumerate(zip(score.scenes, assets, narration["scenes"])):
        manifest_assets.append({"id": f"visual-{index + 1}", "type": asset["kind"], "url": plan.here(asset["file"])})
        timeline.append(visual_layer(plan, index, scene, asset, timing))
        if asset.get("onScreen"):
            texts += kinetic.overlays(plan, index, asset["onScreen"], timing)
        if asset.get("panel"):
            manifest_assets.append({"id": f"panel-{index + 1}", "type": "image", "url": plan.here(asset["panel"])})
            panels.append(kinetic.panel_layer(index, asset["onScreen"], timing))
    # Panels follow every scene layer, so the scenes stay one run and still blend into each other.
    timeline += panels
    total = narration["duration"]
    manifest_assets.append({"id": "voice", "type": "audio", "url": str((plan.dir / narration["voice"]).resolve())})
    timeline.append({"id": "voice", "type": "audio", "asset_id": "voice",
                     "time": {"start_seconds": 0, "duration_seconds": total}})
    music = plan.outputs.get("musicTrack")
    if music:
        manifest_assets.append({"id": "music", "type": "audio", "url": str((plan.dir / music["path"]).resolve())})
        timeline.append({"id": "music", "type": "audio", "asset_id": "music",
                         "time": {"start_seconds": 0, "duration_seconds": total},
                         "media_settings": {"volume": MUSIC_VOLUME, "loop": True, "fade_in_seconds": 1.0,
                                            "fade_out_seconds": 1.5, "duck_under": MUSIC_DUCKING}})
    words = [word for scene in narration["scenes"] for word in scene["words"]]
    speaker = narration.get("speaker") or {}
    return {
        "version": "v1",
        # Reel Forge's flat metadata: which voice spoke the reel.
        "metadata": {"voice_provider": speaker.get("provider") or narration.get("provider", ""),
                     "voice": speaker.get("name") or ""},
        "output": {"width": width, "height": height, "fps": plan.platform.fps, "loudness_lufs": LOUDNESS_LUFS},
        "assets": manifest_assets,
        "composition": {"timeline": timeline, "text_overlays": kinetic.ordered(texts),
                        "captions": [caption_track(plan, words)] if words else []},
    }


def run(plan) -> str:
    """Compile, save and render the manifest; return the stage detail."""
    data = compile_manifest(plan)
    path = plan.dir / "manifest.json"
    path.write_text(json.dumps(data, indent=2))
    result = render_into(plan.dir, Manifest.model_validate(data), plan.settings, owner=plan.job.owner,
                         on_progress=plan.ctx.progress,
                         checkpoint=plan.ctx.checkpoint,
                         max_duration_seconds=max(plan.settings.max_duration_seconds,
                                                  plan.platform.maxDurationSeconds + 5))
    for warning in result.warnings:
        plan.log(warning, level="warning")
    plan.save(videoPath=OUTPUT_NAME, runDir=".", manifestPath="manifest.json",
              total_duration_seconds=round(result.duration_seconds, 3))
    return OUTPUT_NAME
