"""Synthesise the bundled music beds, one per mood, and cache them as WAV files.

Every mood is a small arrangement (tempo, scale, a chord progression, pad, bass,
plucked arpeggio, optional drums) rendered additively with numpy. Notes are
written into a circular buffer, so a note that rings past the end continues at
the start: the track loops without a seam, which the pipeline relies on when a
reel outlasts the bed. Synthesis is seeded by the mood name, so a mood always
yields the same bytes.
"""

import logging
import math
import os
import re
import tempfile
import wave
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

VERSION = 1  # bump whenever the synthesis changes, so cached files are remade
RATE = 44100
BEATS_PER_BAR = 4
STEPS_PER_BEAT = 4  # drum and arpeggio patterns are written in 16th notes
TARGET_RMS_DB = -18.0  # a bed under a voice
PEAK_LIMIT = 10 ** (-1 / 20)  # -1 dBFS
HIGH_PASS = 35.0  # Hz: no DC or sub-bass rumble under the voice
FILTER_MARGIN = 8192  # samples, well beyond the filters' ring time

SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "harmonic_minor": (0, 2, 3, 5, 7, 8, 11),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
}


@dataclass(frozen=True)
class MoodSpec:
    """One mood's arrangement; patterns are 16 steps long ('x' hit, '.' rest)."""

    title: str
    bpm: float
    root: int  # MIDI note of the key's tonic, in the bass octave
    scale: str
    progression: tuple[int, ...]  # scale degrees (0 = tonic), one chord per `bars_per_chord`
    bars_per_chord: int = 1
    sevenths: bool = False
    pad: float = 0.5  # levels of each part; 0 leaves it out
    pad_attack: float = 0.6
    bass: float = 0.5
    bass_steps: str = "x.......x......."
    lead: float = 0.35
    lead_timbre: str = "pluck"  # pluck | bell | keys
    lead_steps: str = "x.x.x.x.x.x.x.x."
    lead_octave: int = 2  # octaves above the root
    kick: str = ""
    snare: str = ""
    hat: str = ""
    drums: float = 0.5
    cutoff: float = 5000.0  # Hz, the master low-pass


MOODS: dict[str, MoodSpec] = {
    "epic_cinematic": MoodSpec(
        "Epic Cinematic", 84, 38, "minor", (0, 5, 2, 6), sevenths=False, pad=0.7, pad_attack=0.9,
        bass=0.6, bass_steps="x.......x.x.....", lead=0.3, lead_steps="x.xxx.xxx.xxx.xx",
        kick="x.........x.....", snare="....x.......x...", drums=0.5, cutoff=4200),
    "upbeat_pop": MoodSpec(
        "Upbeat Pop", 118, 43, "major", (0, 4, 5, 3), pad=0.35, pad_attack=0.05, bass=0.55,
        bass_steps="x.x...x.x.x...x.", lead=0.4, lead_steps="x.xx.xx.x.xx.xx.",
        kick="x...x...x...x...", snare="....x.......x...", hat="..x...x...x...x.", cutoff=7000),
    "calm_ambient": MoodSpec(
        "Calm Ambient", 64, 40, "lydian", (0, 4, 1, 4), bars_per_chord=2, sevenths=True, pad=0.8,
        pad_attack=1.8, bass=0.3, bass_steps="x...............", lead=0.25, lead_timbre="bell",
        lead_steps="x.....x.....x...", lead_octave=3, cutoff=3000),
    "dark_suspense": MoodSpec(
        "Dark Suspense", 72, 36, "phrygian", (0, 1, 0, 6), pad=0.75, pad_attack=1.2, bass=0.55,
        bass_steps="x.....x.x.......", lead=0.22, lead_timbre="bell", lead_steps="x.......x...x...",
        kick="x.......x.......", drums=0.4, cutoff=2200),
    "playful_quirky": MoodSpec(
        "Playful Quirky", 112, 48, "major", (0, 3, 4, 0), pad=0.25, pad_attack=0.05, bass=0.5,
        bass_steps="x...x...x...x...", lead=0.45, lead_steps="x.x.xx..x.x.xx..", lead_octave=2,
        snare="....x.......x...", hat="x.x.x.x.x.x.x.x.", drums=0.35, cutoff=6500),
    "inspirational": MoodSpec(
        "Inspirational", 96, 41, "major", (0, 4, 5, 3), pad=0.6, pad_attack=0.5, bass=0.5,
        bass_steps="x.......x.......", lead=0.35, lead_steps="x.xxx.xxx.xxx.xx",
        kick="x.......x.......", hat="....x.......x...", drums=0.35, cutoff=5500),
    "lofi_chill": MoodSpec(
        "Lo-fi Chill", 78, 41, "dorian", (1, 4, 0, 5), sevenths=True, pad=0.55, pad_attack=0.2,
        bass=0.5, bass_steps="x.....x...x.....", lead=0.3, lead_timbre="keys", lead_steps="x..x..x...x..x..",
        kick="x.....x...x.....", snare="....x.......x...", hat="x.x.x.x.x.x.x.x.", drums=0.45, cutoff=2600),
    "dramatic_tension": MoodSpec(
        "Dramatic Tension", 100, 38, "harmonic_minor", (0, 5, 3, 4), pad=0.6, pad_attack=0.3, bass=0.6,
        bass_steps="x.x.x.x.x.x.x.x.", lead=0.3, lead_steps="xxxxxxxxxxxxxxxx",
        kick="x.......x.......", snare="............x...", drums=0.5, cutoff=3800),
    "warm_acoustic": MoodSpec(
        "Warm Acoustic", 92, 43, "major", (0, 5, 3, 4), pad=0.3, pad_attack=0.4, bass=0.45,
        bass_steps="x.......x.......", lead=0.5, lead_steps="x.x.x.x.x.x.x.x.", lead_octave=1,
        hat="..x...x...x...x.", drums=0.25, cutoff=4500),
    "mysterious": MoodSpec(
        "Mysterious", 70, 45, "harmonic_minor", (0, 3, 5, 4), sevenths=True, pad=0.7, pad_attack=1.4,
        bass=0.4, bass_steps="x.......x.......", lead=0.3, lead_timbre="bell", lead_steps="x..x..x...x.....",
        lead_octave=3, cutoff=3200),
    "satirical": MoodSpec(
        "Satirical", 126, 45, "mixolydian", (0, 6, 3, 4), pad=0.2, pad_attack=0.05, bass=0.55,
        bass_steps="x...x...x...x...", lead=0.45, lead_timbre="keys", lead_steps="x.x..x.xx.x..x..",
        snare="..x...x...x...x.", drums=0.3, cutoff=6000),
    "energetic_electronic": MoodSpec(
        "Energetic Electronic", 128, 45, "minor", (0, 5, 2, 6), pad=0.4, pad_attack=0.05, bass=0.6,
        bass_steps="..x...x...x...x.", lead=0.35, lead_steps="xxxxxxxxxxxxxxxx",
        kick="x...x...x...x...", snare="....x.......x...", hat="..x...x...x...x.", drums=0.6, cutoff=8000),
}
DEFAULT_MOOD = "inspirational"
SYNONYMS = {
    "epic_cinematic": "epic cinematic heroic trailer grand orchestral battle",
    "upbeat_pop": "upbeat pop happy cheerful fun bright positive summer",
    "calm_ambient": "calm ambient relaxing peaceful meditation soft serene gentle",
    "dark_suspense": "dark suspense horror scary creepy thriller sinister",
    "playful_quirky": "playful quirky funny comedy silly cute whimsical kids",
    "inspirational": "inspirational inspiring motivational uplifting hopeful emotional",
    "lofi_chill": "lofi chill study chillhop jazzy mellow",
    "dramatic_tension": "dramatic tension intense urgent action tense",
    "warm_acoustic": "warm acoustic folk cozy guitar nostalgic",
    "mysterious": "mysterious mystery curious eerie magic wonder",
    "satirical": "satirical satire sarcastic ironic absurd parody",
    "energetic_electronic": "energetic electronic edm dance hype tech techno workout",
}
_WORD_TO_MOOD = {word: mood for mood, words in SYNONYMS.items() for word in words.split()}


@dataclass(frozen=True)
class Track:
    path: Path
    mood: str
    name: str
    seconds: float
    fallback: bool  # True when `requested_mood` is not a bundled mood
    requested_mood: str


def track(mood: str, cache_dir: Path, seconds: float = 32.0) -> Track:
    """Return the bundled track for `mood`, about `seconds` long, synthesising it on first use."""
    chosen, fallback = resolve_mood(mood)
    if fallback:
        log.info("no bundled music for mood %r; using %s", mood, chosen)
    spec = MOODS[chosen]
    bars = _bar_count(spec, seconds)
    cache_dir = Path(cache_dir)
    path = cache_dir / f"{chosen}-v{VERSION}-{seconds:g}s.wav"
    if not path.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        _write_wav(path, synthesize(chosen, bars))
    return Track(path, chosen, spec.title, bars * _bar_seconds(spec), fallback, mood)


def resolve_mood(mood: str) -> tuple[str, bool]:
    """Return the bundled mood for a requested one and whether it is a stand-in."""
    words = re.findall(r"[a-z0-9]+", (mood or "").lower())
    if "_".join(words) in MOODS:
        return "_".join(words), False
    for word in words:
        if word in _WORD_TO_MOOD:
            return _WORD_TO_MOOD[word], True
    return DEFAULT_MOOD, True


def synthesize(mood: str, bars: int) -> np.ndarray:
    """Render `bars` bars of a mood as float32 stereo samples of shape (n, 2), looping seamlessly."""
    spec = MOODS[mood]
    rng = np.random.default_rng(zlib.crc32(mood.encode()))
    step = _bar_seconds(spec) / (BEATS_PER_BAR * STEPS_PER_BEAT)
    mix = _Mix(round(bars * _bar_seconds(spec) * RATE), step)
    sounds = _Sounds()
    scale = SCALES[spec.scale]
    for bar in range(bars):
        degree = spec.progression[(bar // spec.bars_per_chord) % len(spec.progression)]
        chord = _chord(spec.root, scale, degree, spec.sevenths)
        first = bar * BEATS_PER_BAR * STEPS_PER_BEAT
        if spec.pad and bar % spec.bars_per_chord == 0:
            for note in chord:
                pad = sounds(_pad, note + 12, spec.bars_per_chord * _bar_seconds(spec), spec.pad_attack)
                mix.add(first, pad, spec.pad / len(chord), pan=0.0)
        mix.pattern(first, spec.bass_steps, lambda _, gap: sounds(_bass, chord[0], gap * step), spec.bass, 0.0)
        if spec.lead:
            tones = [n + 12 * spec.lead_octave for n in chord] + [chord[0] + 12 * (spec.lead_octave + 1)]
            order = rng.permutation(len(tones)) if bar % 2 else range(len(tones))  # vary every other bar
            mix.pattern(first, spec.lead_steps,
                        lambda k, _: sounds(_lead, tones[order[k % len(tones)]], spec.lead_timbre),
                        spec.lead, pan=0.3 if bar % 2 else -0.3)
        for steps, drum, pan in ((spec.kick, _kick, 0.0), (spec.snare, _snare, 0.1), (spec.hat, _hat, -0.25)):
            mix.pattern(first, steps, lambda _, __, d=drum: sounds(d), spec.drums, pan)
    return _master(mix.buffer, spec.cutoff)


def _bar_seconds(spec: MoodSpec) -> float:
    return BEATS_PER_BAR * 60.0 / spec.bpm


def _bar_count(spec: MoodSpec, seconds: float) -> int:
    """Return the whole number of bars closest to `seconds`; full chord cycles when one fits as well."""
    bars = max(1, round(seconds / _bar_seconds(spec)))
    cycle = len(spec.progression) * spec.bars_per_chord
    whole_cycles = max(cycle, round(bars / cycle) * cycle)
    # Ending on the last chord of the progression makes the loop sound resolved.
    close = abs(whole_cycles * _bar_seconds(spec) - seconds) <= 0.15 * seconds
    return whole_cycles if close else bars


def _chord(root: int, scale: tuple[int, ...], degree: int, seventh: bool) -> list[int]:
    """Return the MIDI notes of the chord stacked in thirds on a scale degree."""
    steps = (0, 2, 4, 6) if seventh else (0, 2, 4)
    return [root + scale[(degree + s) % 7] + 12 * ((degree + s) // 7) for s in steps]


def _hz(note: float) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


class _Mix:
    """A circular stereo buffer: what rings past the end continues at the start."""

    def __init__(self, length: int, step_seconds: float):
        self.buffer = np.zeros((length, 2), np.float32)
        self.step_seconds = step_seconds

    def add(self, step: int, sound: np.ndarray, level: float, pan: float) -> None:
        """Mix a mono or stereo sound in at a 16th-note step, panned -1 (left) .. 1 (right)."""
        if sound.ndim == 1:
            # Constant-power panning.
            angle = (pan + 1) * math.pi / 4
            sound = sound[:, None] * np.array([math.cos(angle), math.sin(angle)], np.float32)
        start, n = round(step * self.step_seconds * RATE) % len(self.buffer), len(self.buffer)
        sound = sound[:n] * level
        head = min(len(sound), n - start)
        self.buffer[start : start + head] += sound[:head]
        self.buffer[: len(sound) - head] += sound[head:]

    def pattern(self, first_step: int, steps: str, sound, level: float, pan: float) -> None:
        """Add `sound(k, gap)` at the k-th 'x' of a 16-step pattern; `gap` counts the steps to the next."""
        hits = [i for i, c in enumerate(steps) if c == "x"]
        if not level or not hits:
            return
        for k, i in enumerate(hits):
            gap = (hits[(k + 1) % len(hits)] - i) % len(steps) or len(steps)
            self.add(first_step + i, sound(k, gap), level, pan)


class _Sounds:
    """Memoise rendered notes for one track: the same notes recur every chord cycle."""

    def __init__(self):
        self._memo: dict[tuple, np.ndarray] = {}

    def __call__(self, generator, *args) -> np.ndarray:
        key = (generator, *args)
        if key not in self._memo:
            self._memo[key] = generator(*args)
        return self._memo[key]


def _times(seconds: float) -> np.ndarray:
    return np.arange(round(seconds * RATE), dtype=np.float32) / RATE


def _envelope(t: np.ndarray, attack: float, hold: float, release: float) -> np.ndarray:
    """Return a linear-attack, flat hold, cosine-release envelope."""
    rise = np.clip(t / max(attack, 1e-3), 0, 1)
    fall = np.clip((t - hold) / release, 0, 1)
    return rise * (0.5 + 0.5 * np.cos(np.pi * fall))


def _pad(note: int, seconds: float, attack: float) -> np.ndarray:
    """Return a stereo pad: a soft saw-like tone, detuned differently in each ear for width."""
    release = 0.8
    t = _times(seconds + release)
    env = _envelope(t, attack, seconds, release)
    channels = []
    for cents in (-7.0, 7.0):
        f = _hz(note + cents / 100)
        tone = sum(np.sin(2 * np.pi * f * k * t) / k**1.6 for k in range(1, 6))
        channels.append(tone * env * 0.6)
    return np.stack(channels, axis=1).astype(np.float32)


def _bass(note: int, seconds: float) -> np.ndarray:
    """Return a round bass note, held `seconds`: a sine plus a little second and third harmonic."""
    seconds = min(seconds, 2.0) * 0.9  # detached, not legato
    t = _times(seconds + 0.15)
    f = _hz(note)
    tone = np.sin(2 * np.pi * f * t) + 0.3 * np.sin(4 * np.pi * f * t) + 0.1 * np.sin(6 * np.pi * f * t)
    return (tone * _envelope(t, 0.01, seconds, 0.15)).astype(np.float32)


def _lead(note: int, timbre: str) -> np.ndarray:
    """Return a plucked, bell or electric-piano note whose upper partials die away first."""
    f = _hz(note)
    ratios, decay = {
        "pluck": ((1, 2, 3, 4, 5), 5.0),
        "bell": ((1, 2.76, 5.4, 8.93), 2.0),
        "keys": ((1, 2, 3, 4), 3.5),
    }[timbre]
    t = _times(2.0 if timbre == "bell" else 0.6)
    tone = sum(np.sin(2 * np.pi * f * r * t) * np.exp(-t * decay * (1 + 0.8 * i)) / (i + 1)
               for i, r in enumerate(ratios))
    return (tone * _envelope(t, 0.004, len(t) / RATE - 0.05, 0.05)).astype(np.float32)


def _kick() -> np.ndarray:
    """Return a kick drum: a sine sweeping down from 110 Hz to 45 Hz."""
    t = _times(0.35)
    phase = 2 * np.pi * (45 * t + (110 - 45) * (1 - np.exp(-t * 30)) / 30)
    return (np.sin(phase) * np.exp(-t * 9)).astype(np.float32)


def _snare() -> np.ndarray:
    """Return a soft snare: a 190 Hz body under band-limited noise."""
    t = _times(0.22)
    noise = np.random.default_rng(1).standard_normal(len(t)).astype(np.float32)
    noise = np.convolve(np.diff(noise, prepend=0), np.ones(4) / 4, "same")  # crude band-pass
    return (0.5 * np.sin(2 * np.pi * 190 * t) * np.exp(-t * 25) + 0.35 * noise * np.exp(-t * 18)).astype(np.float32)


def _hat() -> np.ndarray:
    """Return a closed hi-hat: high-passed noise with a fast decay."""
    t = _times(0.06)
    noise = np.random.default_rng(2).standard_normal(len(t) + 1).astype(np.float32)
    return (0.25 * np.diff(noise) * np.exp(-t * 70)).astype(np.float32)


def _master(buffer: np.ndarray, cutoff: float) -> np.ndarray:
    """Band-limit, then bring the RMS to the target level without letting peaks pass -1 dBFS."""
    # Second-order Butterworth magnitudes: a gentle low-pass at `cutoff` and a high-pass at HIGH_PASS.
    out = _circular_filter(buffer, lambda f: ((1 + (f / cutoff) ** 4) * (1 + (HIGH_PASS / np.maximum(f, 1)) ** 4)) ** -0.5)
    rms = float(np.sqrt(np.mean(out**2))) or 1.0
    gain = 10 ** (TARGET_RMS_DB / 20) / rms
    gain = min(gain, PEAK_LIMIT / (float(np.abs(out).max()) or 1.0))
    return (out * gain).astype(np.float32)


def _circular_filter(buffer: np.ndarray, response) -> np.ndarray:
    """Apply a zero-phase magnitude `response(hz)` as if the buffer looped forever, keeping the seam seamless.

    The buffer is extended circularly by more than the filter's ring time, to a length with only
    small prime factors: FFTs of the raw length (it can have large primes) are several times slower.
    """
    n, margin = len(buffer), FILTER_MARGIN
    size = _fft_length(n + 2 * margin)
    looped = np.take(buffer, np.arange(-margin, size - margin), axis=0, mode="wrap")
    spectrum = np.fft.rfft(looped, axis=0)
    spectrum *= response(np.fft.rfftfreq(size, 1 / RATE))[:, None]
    return np.fft.irfft(spectrum, n=size, axis=0)[margin : margin + n]


def _fft_length(n: int) -> int:
    """Return the smallest 2^a * 3^b * 5^c >= n."""
    best = 1 << (n - 1).bit_length()
    five = 1
    while five < best:
        odd = five
        while odd < best:
            best = min(best, odd << (-(-n // odd) - 1).bit_length())
            odd *= 3
        five *= 5
    return best


def _write_wav(path: Path, samples: np.ndarray) -> None:
    """Write 16-bit stereo WAV atomically: readers see the old file or the whole new one."""
    data = np.round(np.clip(samples, -1, 1) * 32767).astype("<i2")
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file, wave.open(file, "wb") as out:
            out.setnchannels(2)
            out.setsampwidth(2)
            out.setframerate(RATE)
            out.writeframes(data.tobytes())
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise
