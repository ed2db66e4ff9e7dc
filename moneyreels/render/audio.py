"""Mix every audio layer and every video layer's own sound into one stereo track."""

from moneyreels.render.graph import Graph, seconds
from moneyreels.render.timeline import Clip, Plan

SAMPLE_RATE = 48000


def mix_audio(g: Graph, plan: Plan, video_inputs: dict[str, int]) -> str:
    """Add the mix to g and return its label; silence when nothing is audible.

    video_inputs maps a video layer id to the input its frames come from, so its sound is
    read from the same input instead of opening the file twice.
    """
    voices = []
    for clip in plan.clips:
        info = clip.source.info
        if not info.has_audio or clip.layer.type == "image":
            continue
        audible = _audible_seconds(clip)
        if clip.layer.type == "video":
            index = video_inputs[clip.layer.id]
        else:
            index = g.media_input(clip.source, seek=clip.trim, duration=audible, loop=clip.layer.media_settings.loop)
        voices.append(g.chain([f"{index}:a"], _voice_filters(clip, audible), stem="a"))
    total = seconds(plan.duration)
    if not voices:
        return g.chain([], [f"anullsrc=r={SAMPLE_RATE}:cl=stereo", f"atrim=duration={total}"], stem="a")
    # normalize=0: each layer keeps exactly the volume the manifest gave it.
    mixed = voices[0] if len(voices) == 1 else g.chain(
        voices, [f"amix=inputs={len(voices)}:normalize=0:duration=longest:dropout_transition=0"], stem="a")
    if plan.loudness_lufs is not None:
        # One pass, dynamic mode: it reaches the target without reading the mix twice; loudnorm
        # works at 192 kHz, so resample back.
        mixed = g.chain([mixed], [f"loudnorm=I={plan.loudness_lufs:g}:TP=-1.5:LRA=11",
                                  f"aresample={SAMPLE_RATE}"], stem="a")
    return g.chain([mixed], [f"apad=whole_dur={total}", f"atrim=duration={total}"], stem="a")


def _audible_seconds(clip: Clip) -> float:
    """Return how long the clip sounds: its duration, or less when a non-looped source ends early."""
    if clip.layer.media_settings.loop:
        return clip.duration
    return min(clip.duration, (clip.source.info.duration or 0.0) - clip.trim)


def _voice_filters(clip: Clip, audible: float) -> list[str]:
    settings = clip.layer.media_settings
    filters = ["asetpts=PTS-STARTPTS", f"aresample={SAMPLE_RATE}",
               "aformat=sample_fmts=fltp:channel_layouts=stereo", f"atrim=duration={seconds(audible)}"]
    if settings.volume != 1:
        filters.append(f"volume={settings.volume:g}")
    if settings.fade_in_seconds:
        filters.append(f"afade=t=in:d={seconds(min(settings.fade_in_seconds, audible))}")
    if settings.fade_out_seconds:
        fade = min(settings.fade_out_seconds, audible)
        filters.append(f"afade=t=out:st={seconds(audible - fade)}:d={seconds(fade)}")
    if clip.start > 0:
        filters.append(f"adelay=delays={round(clip.start * 1000)}:all=1")
    return filters
