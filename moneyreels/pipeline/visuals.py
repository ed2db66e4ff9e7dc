"""Visuals: one asset per scene by its visual type, and the music bed."""

import shutil

from ..providers import art, media, music
from .score import DirectorScore

IMAGE_EXTENSION = ".jpg"


def draw(plan, index, scene, path):
    """Draw a scene locally: a title card for text_card, abstract art in the palette otherwise."""
    seed = index + 1
    if scene.visual_type == "text_card":
        return art.draw_text_card(scene.visual_prompt, plan.palette, plan.size, path, seed=seed)
    # Consecutive scenes take consecutive styles, so no frame repeats the one before.
    style = art.STYLES[index % len(art.STYLES)]
    return art.draw_art(f"{scene.visual_prompt} {plan.archetype.artStyle}", plan.palette, plan.size, path,
                        seed=seed, style=style)


def find_media(plan, scene, used):
    """Look in MEDIA_DIR for stock scenes: a video for stock_video first, else an image."""
    kinds = ("video", "image") if scene.visual_type == "stock_video" else ("image",)
    for kind in kinds:
        found = media.search(plan.settings.media_dir, scene.visual_prompt, kind, exclude=used)
        if found is not None:
            return found
    return None


def make(plan, index, scene, used) -> dict:
    """Produce one scene's asset; say what was used instead when the wanted source had nothing."""
    asset = {"sceneIndex": index, "visualType": scene.visual_type, "kind": "image", "source": "drawn", "note": None}
    if scene.visual_type in ("stock_image", "stock_video"):
        found = find_media(plan, scene, used)
        if found is not None:
            used.add(found.path)
            return {**asset, "kind": found.kind, "source": "media", "file": str(found.path.resolve()),
                    "path": found.path.name}
        asset["note"] = "no local media matched; drawn instead"
    elif scene.visual_type == "ai_video":
        asset["note"] = "AI video is off for this job; drawn instead" if plan.request.noVideo else \
            "no video provider is configured; drawn instead"
    path = draw(plan, index, scene, plan.dir / "visuals" / f"scene-{index + 1:03d}{IMAGE_EXTENSION}")
    return {**asset, "file": str(path.resolve()), "path": plan.relative(path)}


def add_music(plan, score):
    if plan.request.noMusic:
        plan.log("No music: noMusic is set.")
        return None
    chosen = music.track(score.music_mood, plan.settings.data_dir / "music-cache")
    copy = plan.dir / "music.wav"
    shutil.copyfile(chosen.path, copy)
    plan.stages.emit("visuals", "music", f"Music: {chosen.name}.", track=chosen.name, mood=chosen.mood,
                     requestedMood=chosen.requested_mood, fallback=chosen.fallback)
    plan.stages.emit("visuals", "music_resolved", "Music resolved.", provider="bundled", prompt=chosen.mood,
                     metadata={"seconds": chosen.seconds}, fallback=chosen.fallback)
    return {"track": chosen.name, "mood": chosen.mood, "provider": "bundled", "path": plan.relative(copy),
            "fallback": chosen.fallback}


def run(plan) -> str:
    """Make every scene's visual and the music; return the stage detail."""
    score = DirectorScore.model_validate(plan.outputs["score"])
    (plan.dir / "visuals").mkdir(parents=True, exist_ok=True)
    assets, used = [], set()
    for index, scene in enumerate(score.scenes):
        plan.ctx.checkpoint()
        asset = make(plan, index, scene, used)
        assets.append(asset)
        if asset["note"]:
            plan.log(f"Scene {index + 1}: {asset['note']}.", level="warning")
        plan.stages.emit("visuals", "asset", f"Scene {index + 1}: {asset['path']}.", sceneIndex=index,
                         visualType=scene.visual_type, path=asset["path"])
    plan.save(assets=assets, musicTrack=add_music(plan, score))
    return f"{len(assets)} assets"
