"""Build the standard bench reel the way MoviePy 2 users do: clips stacked and composited per frame.

Six 5 s ImageClips with a resize-by-time (or move-by-time) Ken Burns, each crossfading in over
the last 0.5 s of the one before, a TextClip per caption page, the voice and the looped music bed,
one CompositeVideoClip written by write_videofile with libx264 on two threads. Only the bench
imports this, in its own venv (see bench/requirements.txt); MoneyReels never does.
"""

from pathlib import Path

from moviepy import AudioFileClip, CompositeAudioClip, CompositeVideoClip, ImageClip, TextClip, afx, vfx

FADE = 0.5  # crossfade seconds, as the standard reel's transitions


def ken_burns(path: Path, kind: str, start: float, duration: float, size: tuple[int, int], intensity: float):
    """Return a still covering `size` that zooms or pans over `duration` seconds from `start`."""
    width, height = size
    clip = ImageClip(str(path))
    cover = max(width / clip.w, height / clip.h)
    clip = clip.resized(cover).cropped(x_center=clip.w * cover / 2, y_center=clip.h * cover / 2,
                                       width=width, height=height)
    if kind.startswith("zoom"):
        grow = (lambda t: 1 + intensity * t / duration) if kind == "zoom_in" \
            else (lambda t: 1 + intensity * (1 - t / duration))
        clip = clip.resized(grow).with_position("center")
    else:
        clip = clip.resized(1 + intensity)
        travel = clip.w - width
        along = (lambda t: t / duration) if kind == "pan_right" else (lambda t: 1 - t / duration)
        clip = clip.with_position(lambda t: (-travel * along(t), -(clip.h - height) / 2))
    return clip.with_start(start).with_duration(duration)


def build(manifest: dict, media: Path, out: Path, preset: str, threads: int = 2):
    """Render the bench manifest's stills, captions and audio to out with MoviePy."""
    output, composition = manifest["output"], manifest["composition"]
    size, fps = (output["width"], output["height"]), output["fps"]
    clips = []
    for layer in [layer for layer in composition["timeline"] if layer["type"] == "image"]:
        start, duration = layer["time"]["start_seconds"], layer["time"]["duration_seconds"]
        faded = "transition" in layer
        clip = ken_burns(media / f"{layer['asset_id']}.jpg", layer["motion"]["type"],
                         start - FADE if faded else start, duration + (FADE if faded else 0), size,
                         layer["motion"]["intensity"])
        clips.append(clip.with_effects([vfx.CrossFadeIn(FADE)]) if faded else clip)
    track = composition["captions"][0]
    style, per_page = track["style"], track["max_words_per_page"]
    words = track["words"]
    font = _font_path()
    for first in range(0, len(words), per_page):
        page = words[first:first + per_page]
        text = TextClip(font=font, text=" ".join(w["text"] for w in page), font_size=style["font_size"],
                        color=style["color"], stroke_color=style["stroke_color"], stroke_width=style["stroke_width"],
                        method="label", margin=(style["stroke_width"], style["stroke_width"]))
        clips.append(text.with_position(("center", int(0.68 * size[1])))
                     .with_start(page[0]["start_seconds"]).with_end(page[-1]["end_seconds"]))
    seconds = max(clip.end for clip in clips)
    music = next(layer for layer in composition["timeline"] if layer["id"] == "music")["media_settings"]
    audio = CompositeAudioClip([
        AudioFileClip(str(media / "voice.wav")),
        AudioFileClip(str(media / "music.wav")).with_effects([
            afx.AudioLoop(duration=seconds), afx.MultiplyVolume(music["volume"]),
            afx.AudioFadeOut(music["fade_out_seconds"])]),
    ]).with_duration(seconds)
    video = CompositeVideoClip(clips, size=size).with_duration(seconds).with_audio(audio)
    video.write_videofile(str(out), fps=fps, codec="libx264", preset=preset, threads=threads,
                          audio_codec="aac", pixel_format="yuv420p", temp_audiofile_path=str(out.parent), logger=None)


def _font_path() -> str:
    """Return the font MoneyReels draws captions with, so both reels set the same face."""
    from moneyreels.render import fonts

    return fonts.resolve(None, 800).path
