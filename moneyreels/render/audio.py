"""Mix every audio layer and every video layer's own sound into one stereo track."""

from moneyreels.easing import keys_expr, keys_of
from moneyreels.render.graph import Graph, seconds
from moneyreels.render.timeline import Clip, Timeline

SAMPLE_RATE = 48000
# Ducking's sidechain: boosted 25 dB and limited to -24 dBFS, any sound louder than about -50 dBFS
# (speech, quiet syllables too) reaches the same level, 36 dB over a -60 dBFS threshold; the
# near-silence of a pause (-85 dBFS) stays under it. The compressor's release then brings the
# music back after a roughly fixed time, not one that depends on how loud the voice was.
DUCK_SIDECHAIN = "alimiter=level_in=17.8:limit=0.0625:level=0"
DUCK_THRESHOLD = 0.001


def mix_audio(g: Graph, plan: Timeline, video_inputs: dict[str, int]) -> str:
    """Add the mix to g and return its label; silence when nothing is audible.

    video_inputs maps a video layer id to the input its frames come from, so its sound is
    read from the same input instead of opening the file twice.
    """
    sounds: dict[str, str] = {}  # layer id -> its stream, placed on the timeline
    for clip in plan.clips:
        info = clip.source.info
        if not info.has_audio or clip.layer.type == "image":
            continue
        audible = _audible_seconds(clip)
        index = video_inputs.get(clip.layer.id)
        if index is None:  # an audio layer, or a video's sound in an output without pictures (MP3)
            index = g.media_input(clip.source, seek=clip.trim, duration=audible, loop=clip.layer.media_settings.loop)
        sounds[clip.layer.id] = g.chain([f"{index}:a"], _voice_filters(clip, audible), stem="a")
    total = seconds(plan.duration)
    voices = _duck(g, sounds, {clip.layer.id: clip.layer.media_settings.duck_under for clip in plan.clips}, total)
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


def _duck(g: Graph, sounds: dict[str, str], ducking: dict, total: str) -> list[str]:
    """Return the streams to mix, each one with a duck_under lowered while the layer it names sounds.

    sidechaincompress with the named layer as its sidechain: evened out and far over a low
    threshold, any sound there compresses fully, and `mix` keeps 10^(-depth/20) of the dry
    signal, so the dip is the manifest's depth whatever the voice's level. A layer that
    names a silent one (a video without sound) is left as it is.
    """
    ducked = {layer: duck for layer, duck in ducking.items() if duck and layer in sounds and duck.layer in sounds}
    for target in {duck.layer for duck in ducked.values()}:
        users = [layer for layer, duck in ducked.items() if duck.layer == target]
        copies = [g.label("a") for _ in range(len(users) + 1)]
        g.chains.append(f"[{sounds[target]}]asplit={len(copies)}" + "".join(f"[{label}]" for label in copies))
        sounds[target] = copies[0]
        for layer, copy in zip(users, copies[1:]):
            duck = ducked[layer]
            # The sidechain must last as long as the ducked sound, or the compressor stops early.
            sidechain = g.chain([copy], [f"apad=whole_dur={total}", DUCK_SIDECHAIN], stem="a")
            mix = 1 - 10 ** (-duck.depth_db / 20)
            sounds[layer] = g.chain([sounds[layer], sidechain], [
                f"sidechaincompress=threshold={DUCK_THRESHOLD}:ratio=20:detection=peak"
                f":attack={duck.attack_ms:g}:release={duck.release_ms:g}:mix={mix:.6f}"], stem="a")
    return list(sounds.values())


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
    keys = clip.layer.keyframes.volume if clip.layer.keyframes else None
    if keys:
        # volume evaluates once per audio frame: frames of 10 ms make the envelope smooth.
        level = keys_expr(keys_of(keys), "t")
        filters += [f"asetnsamples=n={SAMPLE_RATE // 100}:p=0", f"volume=volume='{level}':eval=frame"]
    if settings.fade_in_seconds:
        filters.append(f"afade=t=in:d={seconds(min(settings.fade_in_seconds, audible))}")
    if settings.fade_out_seconds:
        fade = min(settings.fade_out_seconds, audible)
        filters.append(f"afade=t=out:st={seconds(audible - fade)}:d={seconds(fade)}")
    if clip.start > 0:
        filters.append(f"adelay=delays={round(clip.start * 1000)}:all=1")
    return filters
