"""Visuals: one asset per scene by its visual type, and the music bed.

Remote providers (AI images and video, stock) are used when the job has them; when one
fails the scene falls back to the local source (a stage error event says so), never
failing the job: MEDIA_DIR for stock, art drawn in the archetype's palette otherwise.
"""

import shutil

from .. import media_library
from ..errors import MoneyReelsError
from ..providers import art, media, music
from ..providers.images import build_prompt
from . import kinetic, onscreen
from .score import DirectorScore, word_count

MIN_CLIP_SECONDS = 2.0


def draw(plan, index, scene, path):
    """Draw a scene's backdrop: art in the palette (a text_card's is the plainest, a gradient: its
    words are the kinetic text)."""
    # Consecutive scenes take consecutive styles and palette turns, so no frame repeats the one before.
    style = "gradient" if scene.visual_type == "text_card" else art.STYLES[index % len(art.STYLES)]
    return art.draw_art(f"{scene.visual_prompt} {plan.archetype.artStyle}", art.rotated(plan.palette, index), plan.size,
                        path, seed=index + 1, style=style)


def draw_panel(plan, index, shown) -> str | None:
    """Draw the panel the scene's kinetic text sits on, sized to its composition's box; None without text."""
    if not (shown["phrase"] or shown["numbers"]):
        return None
    x0, y0, x1, y1 = kinetic.COMPOSITIONS[shown["composition"]]["panel"]
    width, height = plan.size
    size = (max(2, round((x1 - x0) * width)), max(2, round((y1 - y0) * height)))
    path = plan.dir / "visuals" / f"panel-{index + 1:03d}.png"
    return str(art.draw_panel(shown["composition"], art.rotated(plan.palette, index), size, path).resolve())


def on_screen(index, scene, source) -> dict:
    """What the scene shows in words: numbers always; the key phrase over local pictures, not over generated ones."""
    local = source in ("drawn", "media")
    return {"composition": kinetic.composition(index), "numbers": onscreen.hero_numbers(scene.script_line),
            "phrase": onscreen.key_phrase(scene.script_line) if local else ""}


def seconds_of(plan, scene) -> float:
    return max(MIN_CLIP_SECONDS, word_count(scene.script_line) / plan.pacing.words_per_second + 0.5)


class Sources:
    """Where each visual type comes from for one job, with the fallbacks in order."""

    def __init__(self, plan, chosen):
        self.plan, self.chosen = plan, chosen
        self.used_media, self.used_stock = set(), set()

    def path(self, index, extension):
        return self.plan.dir / "visuals" / f"scene-{index + 1:03d}{extension}"

    def attempt(self, index, what, make):
        """Run one remote attempt; on failure emit the stage error and return None."""
        try:
            return make()
        except MoneyReelsError as exc:
            self.plan.stages.emit("visuals", "error", f"Scene {index + 1}: {what} failed: {exc.message}",
                                  level="error", error=exc.message, sceneIndex=index, fallback=True)
            return None

    def ai_video(self, index, scene):
        provider = self.chosen.video
        if provider is None:
            return None
        path = self.path(index, ".mp4")
        seconds = seconds_of(self.plan, scene)
        made = self.attempt(index, f"{provider.label} video", lambda: provider.generate(
            build_prompt(scene.visual_prompt, self.plan.archetype.artStyle), seconds, path,
            checkpoint=self.plan.ctx.checkpoint, model=self.plan.request.providers.videoModel))
        if made:
            self.plan.ledger.add(self.plan.request.providers.videoModel or provider.default_model, "seconds", seconds)
            return {"kind": "video", "source": provider.key, "file": str(made.resolve())}
        return None

    def ai_image(self, index, scene):
        provider = self.chosen.image
        if provider is None:
            return None
        made = self.attempt(index, f"{provider.label} image", lambda: provider.generate(
            build_prompt(scene.visual_prompt, self.plan.archetype.artStyle), self.plan.size, self.path(index, ".jpg")))
        if made:
            self.plan.ledger.add(provider.model, "images", 1)
            return {"kind": "image", "source": provider.key, "file": str(made.resolve())}
        return None

    def remote_stock(self, index, scene, kind):
        provider = self.chosen.stock
        if provider is None:
            return None

        def fetch():
            hit = provider.search(scene.visual_prompt, kind, min_seconds=seconds_of(self.plan, scene),
                                  exclude=self.used_stock)
            if hit is None:
                return None
            self.used_stock.add(hit.id)
            extension = ".mp4" if hit.kind == "video" else ".jpg"
            return hit, provider.download(hit, self.path(index, extension), max_bytes=self.plan.settings.max_asset_bytes)

        found = self.attempt(index, f"{provider.label} search", fetch)
        if found:
            hit, path = found
            self.plan.ledger.add(provider.key, "downloads", 1)
            return {"kind": hit.kind, "source": provider.key, "file": str(path.resolve()), "credit": hit.page_url}
        return None

    def local_media(self, scene, kinds, folders=None):
        """The best-matching file of MEDIA_DIR, then of the job's owner's own library (or only of `folders`)."""
        library = media_library.folder(self.plan.settings, self.plan.job.owner)
        for folder in folders or [self.plan.settings.media_dir, library]:
            for kind in kinds:
                found = media.search(folder, scene.visual_prompt, kind, exclude=self.used_media)
                if found is not None:
                    self.used_media.add(found.path)
                    return {"kind": found.kind, "source": "media", "file": str(found.path.resolve())}
        return None

    def my_media(self, scene):
        """With useMyMedia, the user's own uploads come before any other source of a scene's picture."""
        if not self.plan.request.useMyMedia or scene.visual_type == "text_card":
            return None
        return self.local_media(scene, ("video", "image"), [media_library.folder(self.plan.settings,
                                                                                  self.plan.job.owner)])

    def fallback_note(self, kind) -> str | None:
        """Say why a scene was drawn, unless drawing is simply this job's way to make that type."""
        if kind == "text_card" or (kind == "ai_image" and self.chosen.image is None):
            return None
        if kind == "ai_video" and self.chosen.video is None and self.chosen.image is None:
            return "AI video is off for this job; drawn instead" if self.plan.request.noVideo else \
                "no video provider is configured; drawn instead"
        return f"no {kind.replace('_', ' ')} source gave a result; drawn instead"

    def make(self, index, scene) -> dict:
        """Produce one scene's asset, remote first where the type asks for it, then local."""
        kind = scene.visual_type
        candidates = {
            "ai_video": lambda: self.ai_video(index, scene) or self.ai_image(index, scene),
            "ai_image": lambda: self.ai_image(index, scene),
            "stock_video": lambda: self.remote_stock(index, scene, "video") or self.remote_stock(index, scene, "image")
            or self.local_media(scene, ("video", "image")),
            "stock_image": lambda: self.remote_stock(index, scene, "image") or self.local_media(scene, ("image",)),
            "text_card": lambda: None,
        }
        asset = self.my_media(scene) or candidates[kind]()
        note = None
        if asset is None:
            asset = {"kind": "image", "source": "drawn",
                     "file": str(draw(self.plan, index, scene, self.path(index, ".jpg")).resolve())}
            note = self.fallback_note(kind)
        path = self.plan.relative(asset["file"]) if asset["source"] != "media" else asset["file"].rsplit("/", 1)[-1]
        shown = on_screen(index, scene, asset["source"])
        return {"sceneIndex": index, "visualType": kind, "note": note, "path": path, "onScreen": shown,
                "panel": draw_panel(self.plan, index, shown), **asset}


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


def run(plan, chosen) -> str:
    """Make every scene's visual and the music; return the stage detail."""
    score = DirectorScore.model_validate(plan.outputs["score"])
    (plan.dir / "visuals").mkdir(parents=True, exist_ok=True)
    sources = Sources(plan, chosen)
    assets = []
    for index, scene in enumerate(score.scenes):
        plan.ctx.checkpoint()
        asset = sources.make(index, scene)
        assets.append(asset)
        if asset["note"]:
            plan.log(f"Scene {index + 1}: {asset['note']}.", level="warning")
        plan.stages.emit("visuals", "asset", f"Scene {index + 1}: {asset['path']}.", sceneIndex=index,
                         visualType=scene.visual_type, path=asset["path"])
    plan.save(assets=assets, musicTrack=add_music(plan, score))
    fallbacks = sum(1 for asset in assets if asset["note"])
    return f"{len(assets)} assets" + (f" ({fallbacks} drawn instead)" if fallbacks else "")
