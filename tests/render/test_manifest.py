"""Structural validation: what Manifest.model_validate rejects (a 400 before any job exists)."""

import copy

import pytest
from pydantic import ValidationError

from moneyreels.manifest import Manifest

BASE = {
    "version": "v1",
    "output": {"width": 1080, "height": 1920, "fps": 30},
    "assets": [{"id": "a", "type": "video", "url": "https://example.com/a.mp4"},
               {"id": "pic", "type": "image", "url": "https://example.com/p.jpg"}],
    "composition": {"timeline": [{"id": "v", "type": "video", "asset_id": "a",
                                  "time": {"start_seconds": 0, "duration_seconds": 5}}]},
}


def variant(edit):
    data = copy.deepcopy(BASE)
    edit(data)
    return data


def errors_of(data) -> str:
    with pytest.raises(ValidationError) as caught:
        Manifest.model_validate(data)
    return str(caught.value)


def test_base_manifest_is_valid_with_documented_defaults():
    manifest = Manifest.model_validate(BASE)
    layer = manifest.composition.timeline[0]
    assert manifest.composition.auto_stitch is False
    assert layer.background_mode == "blurred"
    assert layer.media_settings.volume == 1.0 and layer.media_settings.loop is False
    assert layer.style.opacity == 1.0


def test_unknown_keys_are_ignored_like_zod_strips_them():
    data = variant(lambda d: d.update(webhook_url="https://x.test/hook", metadata={"k": 1}, extra=True))
    data["composition"]["timeline"][0]["surprise"] = 1
    assert Manifest.model_validate(data).version == "v1"


@pytest.mark.parametrize("edit, field", [
    (lambda d: d.pop("version"), "version"),
    (lambda d: d["output"].update(width=0), "output.width"),
    (lambda d: d["output"].update(height=-5), "output.height"),
    (lambda d: d["output"].update(fps=0), "output.fps"),
    (lambda d: d["output"].update(width="wide"), "output.width"),
    (lambda d: d["assets"][0].update(type="gif"), "assets.0.type"),
    (lambda d: d["assets"][0].pop("url"), "assets.0.url"),
    (lambda d: d["composition"]["timeline"][0].update(type="text"), "composition.timeline.0.type"),
    (lambda d: d["composition"]["timeline"][0].update(trim={"start_seconds": -1}), "trim.start_seconds"),
    (lambda d: d["composition"]["timeline"][0].update(background_mode="glow"), "background_mode"),
    (lambda d: d["composition"]["timeline"][0].update(layout={"fit": "stretch"}), "layout.fit"),
    (lambda d: d["composition"]["timeline"][0].update(layout={"x": "ten"}), "layout.x"),
    (lambda d: d["composition"]["timeline"][0].update(style={"opacity": 2}), "style.opacity"),
    (lambda d: d["composition"]["timeline"][0].update(style={"box_shadow": "fuzzy"}), "style.box_shadow"),
    (lambda d: d["composition"]["timeline"][0].update(media_settings={"volume": -1}), "media_settings.volume"),
    (lambda d: d["composition"]["timeline"][0].update(transition={"type": "spin"}), "transition.type"),
    (lambda d: d["composition"].update(text_overlays=[{"content": "x"}]), "text_overlays.0.time"),
    (lambda d: d["composition"].update(text_overlays=[
        {"content": "x", "time": {"start_seconds": 0, "duration_seconds": 1}, "style": {"color": "bluish"}}]),
     "style.color"),
    (lambda d: d["composition"].update(text_overlays=[
        {"content": "x", "time": {"start_seconds": 0, "duration_seconds": 1}, "style": {"text_align": "middle"}}]),
     "style.text_align"),
])
def test_structural_errors_name_the_field(edit, field):
    message = errors_of(variant(edit))
    assert field in message, message


def test_asset_id_must_reference_an_asset():
    message = errors_of(variant(lambda d: d["composition"]["timeline"][0].update(asset_id="nope")))
    assert "composition.timeline.0.asset_id" in message and "nope" in message


def test_duplicate_ids_are_rejected():
    assert "duplicate assets id 'a'" in errors_of(variant(lambda d: d["assets"].append(dict(d["assets"][0]))))
    twice = variant(lambda d: d["composition"]["timeline"].append(dict(d["composition"]["timeline"][0])))
    assert "duplicate layer id 'v'" in errors_of(twice)


def test_time_is_required_unless_auto_stitch():
    untimed = variant(lambda d: d["composition"]["timeline"][0].pop("time"))
    assert "composition.timeline.0.time is required" in errors_of(untimed)
    untimed["composition"]["auto_stitch"] = True
    assert Manifest.model_validate(untimed).composition.timeline[0].time is None


def test_image_layers_always_need_a_duration():
    image = {"id": "i", "type": "image", "asset_id": "pic", "time": {"start_seconds": 0}}
    data = variant(lambda d: d["composition"].update(auto_stitch=True, timeline=[image]))
    assert "duration_seconds" in errors_of(data)


def test_layer_type_must_match_asset_type():
    data = variant(lambda d: d["composition"]["timeline"][0].update(asset_id="pic"))
    assert "cannot use image asset 'pic'" in errors_of(data)


def test_motion_is_only_for_images():
    data = variant(lambda d: d["composition"]["timeline"][0].update(motion={"type": "zoom_in"}))
    assert "motion" in errors_of(data)


def test_empty_composition_is_rejected():
    assert "at least one" in errors_of(variant(lambda d: d["composition"].update(timeline=[])))


def test_caption_words_must_be_ordered_and_positive():
    track = {"words": [{"text": "a", "start_seconds": 1, "end_seconds": 0.5}]}
    assert "end_seconds" in errors_of(variant(lambda d: d["composition"].update(captions=[track])))
    track = {"words": [{"text": "a", "start_seconds": 1, "end_seconds": 2}, {"text": "b", "start_seconds": 0,
                                                                               "end_seconds": 0.5}]}
    assert "time order" in errors_of(variant(lambda d: d["composition"].update(captions=[track])))


def test_local_style_keys_win_over_global_ones():
    data = variant(lambda d: d["composition"].update(
        global_styles={"text": {"color": "white", "font_size": 40}},
        global_layouts={"text": {"y": "30%", "height": "20%"}},
        text_overlays=[{"content": "x", "time": {"start_seconds": 0, "duration_seconds": 1},
                        "style": {"color": "#FFD700"}, "layout": {"height": "10%"}}]))
    composition = Manifest.model_validate(data).composition
    overlay = composition.text_overlays[0]
    style = overlay.style.merged_over(composition.global_styles.text)
    layout = overlay.layout.merged_over(composition.global_layouts.text)
    assert (style.color, style.font_size) == ("#FFD700", 40)
    assert (layout.y, layout.height) == ("30%", "10%")


def ducking_manifest(**duck):
    data = variant(lambda d: d["assets"].append({"id": "song", "type": "audio", "url": "https://example.com/s.mp3"}))
    data["composition"]["timeline"].append({"id": "music", "type": "audio", "asset_id": "song",
                                            "time": {"start_seconds": 0, "duration_seconds": 5},
                                            "media_settings": {"duck_under": duck}})
    return data


def test_duck_under_defaults_and_names_a_sounding_layer():
    ducking = Manifest.model_validate(ducking_manifest(layer="v")).composition.timeline[1].media_settings.duck_under
    assert (ducking.layer, ducking.depth_db, ducking.attack_ms, ducking.release_ms) == ("v", 12, 50, 400)


@pytest.mark.parametrize("duck, field", [
    ({"layer": "nobody"}, "composition.timeline.1.media_settings.duck_under.layer"),
    ({"layer": "music"}, "composition.timeline.1.media_settings.duck_under.layer"),
    ({"layer": ""}, "media_settings.duck_under.layer"),
    ({}, "media_settings.duck_under.layer"),
    ({"layer": "v", "depth_db": 0}, "media_settings.duck_under.depth_db"),
    ({"layer": "v", "depth_db": 41}, "media_settings.duck_under.depth_db"),
    ({"layer": "v", "attack_ms": 0}, "media_settings.duck_under.attack_ms"),
    ({"layer": "v", "release_ms": 10000}, "media_settings.duck_under.release_ms"),
    ({"layer": "v", "release_ms": "slow"}, "media_settings.duck_under.release_ms"),
])
def test_bad_duck_under_names_the_field(duck, field):
    message = errors_of(ducking_manifest(**duck))
    assert field in message, message


def test_duck_under_refuses_images_and_chains():
    data = ducking_manifest(layer="v")
    data["composition"]["timeline"][0]["media_settings"] = {"duck_under": {"layer": "music"}}
    assert "layer 'music' ducks under another layer itself" in errors_of(data)
    data = ducking_manifest(layer="pic")
    data["composition"]["timeline"].append({"id": "pic", "type": "image", "asset_id": "pic",
                                            "time": {"start_seconds": 0, "duration_seconds": 1}})
    assert "no other audio or video layer has id 'pic'" in errors_of(data)
