"""The audio mix: volume, timing, loops, fades, video sound, several layers."""

import subprocess
import wave

import numpy as np
import pytest
from tests.support.video import FFMPEG, assert_reel, integrated_loudness, loudness, reel

ASSETS = [{"id": "tone", "type": "audio", "url": "tone.wav"},
          {"id": "pic", "type": "image", "url": "white.png"},
          {"id": "clip", "type": "video", "url": "red_land.mp4"}]


def picture(seconds):
    return {"id": "pic", "type": "image", "asset_id": "pic", "time": {"start_seconds": 0, "duration_seconds": seconds}}


def tone(layer_id="music", start=0.0, duration=1.0, **settings):
    return {"id": layer_id, "type": "audio", "asset_id": "tone",
            "time": {"start_seconds": start, "duration_seconds": duration}, "media_settings": settings}


@pytest.fixture(scope="module")
def source_level(media):
    return loudness(media / "tone.wav", 0.1, 0.8)


def test_silent_manifest_still_has_an_audio_stream(render_reel):
    _, out = render_reel(reel([picture(1)], ASSETS))
    assert_reel(out, duration=1)
    assert loudness(out, 0, 1) < 1e-4


@pytest.mark.parametrize("volume", [1.0, 0.25])
def test_volume_is_a_plain_multiplier(render_reel, source_level, volume):
    _, out = render_reel(reel([picture(1), tone(volume=volume)], ASSETS))
    assert loudness(out, 0.1, 0.8) == pytest.approx(source_level * volume, rel=0.1)


def test_layers_mix_without_normalising_levels(render_reel, source_level):
    _, out = render_reel(reel([picture(1), tone("a"), tone("b")], ASSETS))
    # Two copies of the same tone in phase: twice the level, not the average of the two.
    assert loudness(out, 0.1, 0.8) == pytest.approx(source_level * 2, rel=0.1)


def test_audio_starts_at_its_start_and_ends_early_without_loop(render_reel, source_level):
    _, out = render_reel(reel([picture(3), tone(start=1.0, duration=2.0)], ASSETS))
    assert_reel(out, duration=3)
    assert loudness(out, 0.1, 0.8) < 1e-4
    assert loudness(out, 1.1, 0.8) == pytest.approx(source_level, rel=0.1)
    assert loudness(out, 2.2, 0.7) < 1e-4  # the 1 s tone has ended


def test_loop_repeats_until_the_layer_ends(render_reel, source_level):
    _, out = render_reel(reel([picture(3), tone(duration=3.0, loop=True)], ASSETS))
    assert loudness(out, 2.1, 0.8) == pytest.approx(source_level, rel=0.1)


def test_fades_ramp_the_level(render_reel, source_level):
    _, out = render_reel(reel([picture(3), tone(duration=3.0, loop=True, fade_in_seconds=1, fade_out_seconds=1)],
                              ASSETS))
    assert loudness(out, 0.0, 0.2) < source_level * 0.3
    assert loudness(out, 1.2, 0.6) == pytest.approx(source_level, rel=0.1)
    assert loudness(out, 2.8, 0.2) < source_level * 0.3


def test_video_layers_contribute_their_own_sound(render_reel):
    clip = {"id": "clip", "type": "video", "asset_id": "clip", "time": {"start_seconds": 0, "duration_seconds": 1}}
    _, out = render_reel(reel([clip], ASSETS))
    assert loudness(out, 0.1, 0.8) > 0.01
    muted = {**clip, "media_settings": {"volume": 0}}
    _, out = render_reel(reel([muted], ASSETS))
    assert loudness(out, 0.1, 0.8) < 1e-4


def test_auto_stitch_places_untimed_audio_back_to_back(render_reel, source_level):
    untimed = [{"id": f"t{i}", "type": "audio", "asset_id": "tone"} for i in range(2)]
    result, out = render_reel(reel(untimed, ASSETS, auto_stitch=True))
    assert result.duration_seconds == pytest.approx(2, abs=0.1)
    assert loudness(out, 1.1, 0.8) == pytest.approx(source_level, rel=0.1)


def test_loudness_extension_normalises_the_mix(render_reel):
    quiet = [{"id": "tone", "type": "audio", "asset_id": "tone", "media_settings": {"volume": 0.05, "loop": True},
              "time": {"start_seconds": 0, "duration_seconds": 3}}]
    assets = [{"id": "tone", "type": "audio", "url": "tone.wav"}]
    _, plain = render_reel(reel(quiet, assets))
    plain_lufs = integrated_loudness(plain)
    plain.rename(plain.with_name("plain.mp4"))
    _, loud = render_reel({**reel(quiet, assets), "output": {"width": 180, "height": 320, "fps": 15,
                                                             "loudness_lufs": -14}})
    assert plain_lufs < -30
    assert abs(integrated_loudness(loud) - (-14)) < 1.5


# Ducking: a voice-like track (a 120 Hz buzz with harmonics to 5 kHz) speaks in [0.5, 1.5) and
# [2.7, 3.7); the "music" is a 13 kHz tone, a pitch the voice never reaches, so a band-pass of the
# final mix around 13 kHz reads the music's level alone while the voice speaks and in its pauses.
SPEAKING = ((0.5, 1.5), (2.7, 3.7))
MUSIC_HZ = 13000


@pytest.fixture(scope="module")
def duck_media(media):
    rate = 22050
    t = np.arange(int(4.5 * rate)) / rate
    buzz = sum(np.sin(2 * np.pi * 120 * k * t) / k for k in range(1, 40))
    speaking = np.zeros_like(t, dtype=bool)
    for start, end in SPEAKING:
        speaking |= (t >= start) & (t < end)
    write_wav(media / "voice_like.wav", rate, np.where(speaking, 0.3 * buzz / np.abs(buzz).max(), 0))
    write_wav(media / "high_tone.wav", 48000, 0.2 * np.sin(2 * np.pi * MUSIC_HZ * np.arange(48000) / 48000))
    return [{"id": "voice", "type": "audio", "url": "voice_like.wav"},
            {"id": "music", "type": "audio", "url": "high_tone.wav"},
            {"id": "pic", "type": "image", "url": "white.png"}]


def write_wav(path, rate, samples):
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


def band_level_db(path, start, duration, centre=MUSIC_HZ, width=500) -> float:
    """Return the output's level in dB within centre +- width Hz over [start, start+duration)."""
    raw = subprocess.run([FFMPEG, "-v", "error", "-ss", str(start), "-t", str(duration), "-i", str(path), "-vn",
                          "-ac", "1", "-ar", "48000", "-f", "f32le", "-"], capture_output=True, check=True).stdout
    samples = np.frombuffer(raw, np.float32)
    window = np.hanning(samples.size)
    # Divided by the window's energy and length: the same tone reads the same over any duration.
    power = np.abs(np.fft.rfft(samples * window)) ** 2 / (samples.size * (window ** 2).sum())
    freqs = np.fft.rfftfreq(samples.size, 1 / 48000)
    return float(10 * np.log10(power[np.abs(freqs - centre) < width].sum() + 1e-20))


def ducked_reel(assets, **ducking):
    voice = {"id": "voice", "type": "audio", "asset_id": "voice", "time": {"start_seconds": 0, "duration_seconds": 4.5}}
    music = {"id": "music", "type": "audio", "asset_id": "music", "time": {"start_seconds": 0, "duration_seconds": 4.5},
             "media_settings": {"loop": True, "volume": 0.5, **({"duck_under": ducking} if ducking else {})}}
    manifest = reel([picture(4.5), voice, music], assets)
    manifest["output"]["loudness_lufs"] = -14
    return manifest


def speech_and_pause_levels(out) -> tuple[float, float]:
    """The music's level while the voice speaks, and in the middle of the pause between."""
    speaking = np.mean([band_level_db(out, start + 0.2, end - start - 0.3) for start, end in SPEAKING])
    return float(speaking), band_level_db(out, 1.5 + 0.6, 0.5)


def test_music_ducks_under_the_voice_by_its_depth(render_reel, duck_media):
    _, out = render_reel(ducked_reel(duck_media, layer="voice", depth_db=14, attack_ms=30, release_ms=300))
    speaking, pause = speech_and_pause_levels(out)
    assert pause - speaking >= 10, (speaking, pause)
    assert pause - speaking <= 20  # the depth asked for, not silence
    assert abs(integrated_loudness(out) - (-14)) <= 1


def test_without_ducking_the_music_holds_its_level(render_reel, duck_media):
    _, out = render_reel(ducked_reel(duck_media))
    speaking, pause = speech_and_pause_levels(out)
    assert abs(pause - speaking) < 3, (speaking, pause)
