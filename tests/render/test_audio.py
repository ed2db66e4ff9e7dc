"""The audio mix: volume, timing, loops, fades, video sound, several layers."""

import pytest
from tests.support.video import assert_reel, integrated_loudness, loudness, reel

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
