import wave

import numpy as np
import pytest

from moneyreels.providers import music


def read(path) -> tuple[np.ndarray, int]:
    """Return the WAV's samples as floats of shape (n, channels) and its rate."""
    with wave.open(str(path)) as wav:
        assert wav.getsampwidth() == 2
        data = np.frombuffer(wav.readframes(wav.getnframes()), "<i2").reshape(-1, wav.getnchannels())
        return data.astype(np.float64) / 32768, wav.getframerate()


def rms_db(x: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(x**2)))


def centroid(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x.mean(axis=1)))
    return float((spectrum * np.fft.rfftfreq(len(x), 1 / rate)).sum() / spectrum.sum())


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("music")


@pytest.fixture(scope="module")
def upbeat(cache):
    return music.track("upbeat_pop", cache)


def test_every_mood_is_a_stereo_44k_wav_of_whole_bars_near_the_length(cache):
    for mood, spec in music.MOODS.items():
        track = music.track(mood, cache, seconds=20)
        samples, rate = read(track.path)
        assert rate == 44100 and samples.shape[1] == 2
        bars = len(samples) / rate / (4 * 60 / spec.bpm)
        assert bars == pytest.approx(round(bars), abs=1e-3), mood
        assert abs(len(samples) / rate - 20) <= 0.2 * 20, mood
        assert track.seconds == pytest.approx(len(samples) / rate, abs=1e-3)
        assert (track.mood, track.fallback, track.requested_mood, track.name) == (mood, False, mood, spec.title)


def test_the_twelve_named_moods_exist():
    assert set(music.MOODS) >= {
        "epic_cinematic", "upbeat_pop", "calm_ambient", "dark_suspense", "playful_quirky", "inspirational",
        "lofi_chill", "dramatic_tension", "warm_acoustic", "mysterious", "satirical", "energetic_electronic"}


def test_level_suits_a_bed_under_a_voice(upbeat):
    samples, _ = read(upbeat.path)
    assert -21 <= rms_db(samples) <= -15
    assert np.abs(samples).max() < 0.95  # no clipping
    # Not silent anywhere for long: every second carries sound.
    seconds = samples[: len(samples) // 44100 * 44100].reshape(-1, 44100, 2)
    assert min(rms_db(s) for s in seconds) > -35


def test_is_music_not_noise(upbeat):
    """Tonal: most energy sits in a few spectral peaks, unlike white noise."""
    samples, rate = read(upbeat.path)
    spectrum = np.abs(np.fft.rfft(samples[: rate * 4].mean(axis=1))) ** 2
    top = np.sort(spectrum)[::-1]
    assert top[: len(top) // 100].sum() / top.sum() > 0.8  # 1% of the bins hold >80% of the energy


def test_moods_differ(cache):
    calm, _ = read(music.track("calm_ambient", cache).path)
    electronic, rate = read(music.track("energetic_electronic", cache).path)
    dark, _ = read(music.track("dark_suspense", cache).path)
    assert centroid(electronic, rate) > 1.5 * centroid(calm, rate)
    assert centroid(calm, rate) > 1.5 * centroid(dark, rate)


@pytest.mark.parametrize("mood", ["upbeat_pop", "lofi_chill", "energetic_electronic"])
def test_drums_play_at_the_moods_tempo(cache, mood):
    samples, rate = read(music.track(mood, cache).path)
    assert detected_bpm(samples, rate) == pytest.approx(music.MOODS[mood].bpm, rel=0.03)


def detected_bpm(samples: np.ndarray, rate: int) -> float:
    """Return the tempo (60-180 bpm) at which the onsets in 10 ms frames best repeat."""
    hop = rate // 100
    mono = samples.mean(axis=1)
    energy = np.sqrt((mono[: len(mono) // hop * hop].reshape(-1, hop) ** 2).mean(axis=1))
    onsets = np.maximum(np.diff(energy), 0)
    onsets -= onsets.mean()
    correlation = np.correlate(onsets, onsets, "full")[len(onsets) - 1 :]
    lags = np.arange(round(6000 / 180), round(6000 / 60) + 1)
    return 6000 / lags[np.argmax(correlation[lags])]


def test_loops_without_a_seam(cache):
    for mood in ("calm_ambient", "lofi_chill", "energetic_electronic"):
        samples, rate = read(music.track(mood, cache).path)
        edge = int(0.05 * rate)
        ratio = np.sqrt(np.mean(samples[-edge:] ** 2) / np.mean(samples[:edge] ** 2))
        assert 1 / 3.5 < ratio < 3.5, mood  # neither end fades out or starts from silence
        jump = np.abs(samples[0] - samples[-1]).max()
        steps = np.abs(np.diff(samples, axis=0)).max(axis=1)
        assert jump <= np.percentile(steps, 99.9), mood  # the seam is no bigger than an ordinary step


def test_is_deterministic(tmp_path):
    first = music.track("mysterious", tmp_path / "a", seconds=8).path.read_bytes()
    second = music.track("mysterious", tmp_path / "b", seconds=8).path.read_bytes()
    assert first == second


def test_second_call_reuses_the_cached_file(tmp_path, monkeypatch):
    track = music.track("satirical", tmp_path, seconds=8)
    stamp = track.path.stat().st_mtime_ns
    monkeypatch.setattr(music, "synthesize", lambda *a: pytest.fail("synthesised again"))
    again = music.track("satirical", tmp_path, seconds=8)
    assert again == track and again.path.stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [track.path.name]  # no temp files left behind
    assert "satirical" in track.path.name and f"v{music.VERSION}" in track.path.name


def test_length_is_part_of_the_cache_key(tmp_path):
    short, long = music.track("lofi_chill", tmp_path, seconds=8), music.track("lofi_chill", tmp_path, seconds=40)
    assert short.path != long.path and long.seconds > 3 * short.seconds


@pytest.mark.parametrize("requested, expected", [
    ("Epic", "epic_cinematic"), ("happy summer vibes", "upbeat_pop"), ("horror", "dark_suspense"),
    ("chill study beats", "lofi_chill"), ("polka", music.DEFAULT_MOOD), ("", music.DEFAULT_MOOD),
])
def test_unknown_moods_fall_back_to_the_closest(tmp_path, requested, expected):
    track = music.track(requested, tmp_path, seconds=4)
    assert (track.mood, track.fallback, track.requested_mood) == (expected, True, requested)
    assert track.path.exists()


def test_a_bundled_mood_in_other_spelling_is_not_a_fallback():
    assert music.resolve_mood("Calm Ambient") == ("calm_ambient", False)
    assert music.resolve_mood("lofi-chill") == ("lofi_chill", False)
