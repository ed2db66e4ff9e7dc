"""TTS: speak every scene's line, keep word timings, and lay the lines end to end in one track."""

import wave

import numpy as np

from ..errors import MoneyReelsError
from ..providers.tts import EspeakTTS
from .score import SCENE_GAP, TAIL, DirectorScore, words_per_second

MIN_SCENE_SECONDS = 1.5
# The voice's loudest peaks are lowered this much: speech peaks ~20 dB over its loudness, and the
# mix's -1.5 dBTP ceiling would otherwise keep a -14 LUFS target out of reach (Piper's reached -17).
PEAK_REDUCTION_DB = 12
LIMITER_FRAME_SECONDS = 0.005
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


def even_peaks(samples: np.ndarray, rate: int, reduction_db: float = PEAK_REDUCTION_DB) -> np.ndarray:
    """Lower the peaks over the loudest level less reduction_db, then restore the old peak: a look-ahead limiter.

    Each 5 ms frame's gain brings the highest peak of it and its neighbours under the ceiling;
    gains are interpolated sample by sample, so no sample's gain exceeds what its frame needs.
    """
    level = np.abs(samples.astype(np.float32))
    top = float(level.max()) if level.size else 0.0
    if top == 0:
        return samples
    frame = max(1, round(rate * LIMITER_FRAME_SECONDS))
    count = -(-level.size // frame)
    peaks = np.pad(level, (0, count * frame - level.size)).reshape(count, frame).max(axis=1)
    near = np.maximum(peaks, np.maximum(np.r_[peaks[1:], 0], np.r_[0, peaks[:-1]]))
    gains = np.minimum(1.0, top * 10 ** (-reduction_db / 20) / np.maximum(near, 1e-9))
    limited = samples * np.interp(np.arange(level.size), (np.arange(count) + 0.5) * frame, gains)
    return limited * (top / max(float(np.abs(limited).max()), 1e-9))


def lay_out(clips, total, path):
    """Write one mono track of `total` seconds with each (start, wav path) clip in place, its peaks evened."""
    rate = read_wav(clips[0][1])[0]
    track = np.zeros(int(round(total * rate)) + 1, dtype=np.int16)
    for start, clip in clips:
        clip_rate, samples = read_wav(clip)
        if clip_rate != rate:
            raise ValueError(f"{clip.name} is {clip_rate} Hz, not {rate} Hz")
        offset = int(round(start * rate))
        samples = samples[: len(track) - offset]
        track[offset: offset + len(samples)] = samples
    write_wav(path, rate, np.round(even_peaks(track, rate)))


def run(plan, tts, voice) -> str:
    """Narrate the score, falling back to espeak if a remote voice fails; return the stage detail."""
    try:
        return narrate(plan, tts, voice)
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
    track = folder / "voice.wav"
    lay_out(clips, start, track)
    spoken_by = {"provider": tts.key, "name": voice or getattr(tts, "default_voice", None)}
    plan.save(narration={"scenes": scenes, "duration": round(start, 3), "voice": plan.relative(track),
                         "provider": tts.key, "speaker": spoken_by},
              providers={**plan.outputs.get("providers", {}), "tts": tts.key, "voice": spoken_by["name"]})
    return f"{start:.0f}s audio"
