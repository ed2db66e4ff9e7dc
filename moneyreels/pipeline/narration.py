"""TTS: speak every scene's line, keep word timings, and lay the lines end to end in one track."""

import wave

import numpy as np

from ..errors import MoneyReelsError
from ..providers.tts import EspeakTTS
from .score import SCENE_GAP, TAIL, DirectorScore, words_per_second

MIN_SCENE_SECONDS = 1.5
# Words per second a voice speaks at speed 1.0 (espeak's 175 words a minute, and most voices).
NATURAL_WORDS_PER_SECOND = 2.9


def read_wav(path):
    with wave.open(str(path), "rb") as source:
        rate, channels = source.getframerate(), source.getnchannels()
        samples = np.frombuffer(source.readframes(source.getnframes()), dtype=np.int16)
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return rate, samples


def write_wav(path, rate, samples):
    with wave.open(str(path), "wb") as target:
        target.setnchannels(1)
        target.setsampwidth(2)
        target.setframerate(rate)
        target.writeframes(samples.astype(np.int16).tobytes())


def lay_out(clips, total, path):
    """Write one mono track of `total` seconds with each (start, wav path) clip in place."""
    rate = read_wav(clips[0][1])[0]
    track = np.zeros(int(round(total * rate)) + 1, dtype=np.int16)
    for start, clip in clips:
        clip_rate, samples = read_wav(clip)
        if clip_rate != rate:
            raise ValueError(f"{clip.name} is {clip_rate} Hz, not {rate} Hz")
        offset = int(round(start * rate))
        samples = samples[: len(track) - offset]
        track[offset: offset + len(samples)] = samples
    write_wav(path, rate, track)


def run(plan, tts) -> str:
    """Narrate the score, falling back to espeak if a remote voice fails; return the stage detail."""
    try:
        return narrate(plan, tts, plan.request.voice)
    except MoneyReelsError as exc:
        if isinstance(tts, EspeakTTS):
            raise
        plan.stages.emit("tts", "error", f"{tts.label} failed: {exc.message}", level="error", error=exc.message,
                         fallback="espeak")
        plan.log(f"{tts.label} failed; the narration falls back to eSpeak NG.", level="warning")
        return narrate(plan, EspeakTTS(), None) + " (espeak fallback)"


def narrate(plan, tts, voice) -> str:
    score = DirectorScore.model_validate(plan.outputs["score"])
    folder = plan.dir / "tts"
    folder.mkdir(parents=True, exist_ok=True)
    scenes, clips, start = [], [], 0.0
    speed = words_per_second(score, plan.pacing, plan.platform) / NATURAL_WORDS_PER_SECOND
    for index, scene in enumerate(score.scenes):
        plan.ctx.checkpoint()
        speech = tts.synthesize(scene.script_line, folder / f"scene-{index + 1:03d}.wav", voice=voice, speed=speed)
        plan.ledger.add(tts.key, "characters", len(scene.script_line))
        duration = max(speech.duration + SCENE_GAP, MIN_SCENE_SECONDS)
        if index == len(score.scenes) - 1:
            duration += TAIL
        scenes.append({
            "start": round(start, 3),
            "duration": round(duration, 3),
            "speech": round(speech.duration, 3),
            "audio": plan.relative(speech.path),
            "words": [[word.text, round(start + word.start, 3), round(start + word.end, 3)] for word in speech.words],
        })
        clips.append((start, speech.path))
        start += duration
    voice = folder / "voice.wav"
    lay_out(clips, start, voice)
    plan.save(narration={"scenes": scenes, "duration": round(start, 3), "voice": plan.relative(voice),
                         "provider": tts.key})
    return f"{start:.0f}s audio"
