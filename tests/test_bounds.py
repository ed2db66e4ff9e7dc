"""Every number and count in a request has an upper bound checked before a job exists; a render's
memory is capped; what is within the bounds renders."""

import json

import pytest

from moneyreels import create_app, db, kinds, manifest as limits
from moneyreels.db import Job
from moneyreels.render.ffmpeg import run_ffmpeg
from moneyreels.render.graph import Graph
from moneyreels.worker import Worker
from tests.support.media import image_manifest
from tests.support.video import FFMPEG, probe


def text_style(**style):
    return lambda m: m["composition"]["text_overlays"][0]["style"].update(style) if \
        m["composition"]["text_overlays"][0].setdefault("style", {}) is not None else None


def many_layers(count):
    def mutate(m):
        m["composition"]["timeline"] = [
            {"id": f"l{n}", "type": "image", "asset_id": "pic", "time": {"start_seconds": n * 0.01,
                                                                         "duration_seconds": 0.01}}
            for n in range(count)]
    return mutate


HOSTILE = [
    (text_style(shadow_blur=8000), "composition.text_overlays.0.style.shadow_blur"),
    (text_style(shadow_blur=1e308), "composition.text_overlays.0.style.shadow_blur"),
    (text_style(font_size=1e308), "composition.text_overlays.0.style.font_size"),
    (text_style(stroke_width=10_000), "composition.text_overlays.0.style.stroke_width"),
    (text_style(letter_spacing=-1e9), "composition.text_overlays.0.style.letter_spacing"),
    (text_style(line_height=1e6), "composition.text_overlays.0.style.line_height"),
    (text_style(shadow_offset_x=1e9), "composition.text_overlays.0.style.shadow_offset_x"),
    (text_style(color="#" + "f" * 10_000), "composition.text_overlays.0.style.color"),
    (lambda m: m["output"].update(fps=1e308), "output.fps"),
    (lambda m: m["output"].update(fps=61), "output.fps"),
    (lambda m: m["output"].update(width=4097), "output.width"),
    (lambda m: m["output"].update(width=4096, height=4096, fps=60), "output"),
    (lambda m: m["output"].update(width=10**30), "output.width"),
    (lambda m: m["output"].update(format="webm"), "output.format"),
    (lambda m: m["output"].update(poster={"time_seconds": -1}), "output.poster.time_seconds"),
    (lambda m: m["output"].update(poster={"time_seconds": 1e308}), "output.poster.time_seconds"),
    (lambda m: m["output"].update(poster={}), "output.poster.time_seconds"),
    (lambda m: m["output"].update(poster="1s"), "output.poster"),
    (lambda m: m["output"].update(format="mp3", poster={"time_seconds": 1}), "output.poster"),
    (lambda m: m["composition"]["timeline"][0].update(transition={"type": "spin"}),
     "composition.timeline.0.transition.type"),
    (lambda m: m["composition"]["timeline"][0].update(transition={"type": 3}),
     "composition.timeline.0.transition.type"),
    (many_layers(2000), "composition.timeline"),
    (many_layers(limits.MAX_LAYERS + 1), "composition.timeline"),
    (lambda m: m.update(assets=[{"id": f"a{n}", "type": "image", "url": "pic.jpg"} for n in range(101)]), "assets"),
    (lambda m: m["composition"].update(text_overlays=[
        {"content": "x", "time": {"duration_seconds": 1}}] * 101), "composition.text_overlays"),
    (lambda m: m["composition"]["text_overlays"][0].update(content="x" * 2001), "composition.text_overlays.0.content"),
    (lambda m: m["composition"].update(captions=[{"words": [
        {"text": "w", "start_seconds": n * 0.01, "end_seconds": n * 0.01 + 0.01} for n in range(2001)]}]),
     "composition.captions.0.words"),
    (lambda m: m["composition"].update(captions=[{"words": [{"text": "w", "start_seconds": 0, "end_seconds": 1}],
                                                  "max_words_per_page": 10**9}]),
     "composition.captions.0.max_words_per_page"),
    (lambda m: m["composition"]["timeline"][0]["time"].update(duration_seconds=1e308),
     "composition.timeline.0.time.duration_seconds"),
    (lambda m: m["composition"]["timeline"][0]["time"].update(start_seconds=1e12),
     "composition.timeline.0.time.start_seconds"),
    (lambda m: m["composition"]["timeline"][0].update(layout={"width": "1e9px"}), "composition.timeline.0.layout.width"),
    (lambda m: m["composition"]["timeline"][0].update(layout={"x": "-50000%"}), "composition.timeline.0.layout.x"),
    (lambda m: m["composition"]["timeline"][0].update(layout={"z_index": 10**30}),
     "composition.timeline.0.layout.z_index"),
    (lambda m: m["composition"]["timeline"][0].update(style={"box_shadow": "0 0 9000px black"}),
     "composition.timeline.0.style.box_shadow"),
    (lambda m: m["composition"]["timeline"][0].update(style={"border_radius": 1e300}),
     "composition.timeline.0.style.border_radius"),
    (lambda m: m["composition"]["timeline"][0].update(media_settings={"volume": 1e9}),
     "composition.timeline.0.media_settings.volume"),
    (lambda m: m["composition"]["timeline"][0].update(media_settings={"fade_in_seconds": 1e9}),
     "composition.timeline.0.media_settings.fade_in_seconds"),
    (lambda m: m["composition"]["timeline"][0].update(id="i" * 201), "composition.timeline.0.id"),
    (lambda m: m.update(output={"width": 4096, "height": 2048, "fps": 10}) or m["composition"]["text_overlays"][0]
     .update(layout={"width": "200%"}), "(body)"),
    (lambda m: m["assets"][0].update(url="a" * 9000), "assets.0.url"),
    (lambda m: m.update(version="v" * 51), "version"),
    (lambda m: m.update(metadata={"n": 1e308}), "metadata"),
    (lambda m: m.update(metadata={"n": -(2**60)}), "metadata"),
]


@pytest.mark.parametrize("mutate, field", HOSTILE)
def test_values_beyond_the_bounds_are_400_naming_the_field_before_a_job_exists(client, mutate, field):
    body = image_manifest()
    mutate(body)
    response = client.post("/v1/videos/render", json=body)
    assert response.status_code == 400, response.json
    error = response.json["error"]
    assert error["code"] == "validation_error"
    assert field in [e["field"] for e in error["details"]["errors"]], error
    assert Job.select().count() == 0


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("path", ["/v1/videos/render", "/api/v1/jobs", "/api/generate", "/api/v1/sequences"])
def test_non_finite_numbers_are_not_json(client, constant, path):
    text = json.dumps(image_manifest()).replace('"fps": 10', f'"fps": {constant}')
    text = text.replace('"version": "v1"', f'"version": "v1", "paragraphNumber": {constant}')
    response = client.post(path, data=text, content_type="application/json")
    assert response.status_code == 400
    assert "NaN and Infinity are not JSON numbers" in response.get_data(as_text=True)
    assert Job.select().count() == 0


def test_every_value_at_its_bound_renders(client, settings):
    body = image_manifest(seconds=0.5)
    body["output"] = {"width": 90, "height": 160, "fps": limits.MAX_FPS}
    body["composition"]["timeline"][0].update(
        layout={"x": "-200%", "y": -4096, "width": 4096, "height": 4096, "z_index": -1000},
        style={"border_radius": 4096, "box_shadow": f"1000px -1000px {limits.MAX_BLUR}px 1000px red"},
        media_settings={"volume": limits.MAX_VOLUME, "fade_in_seconds": 3600})
    body["composition"]["text_overlays"][0].update(
        content="W" * 200, layout={"width": "200%", "height": 4096},
        style={"font_size": limits.MAX_FONT_SIZE, "stroke_width": limits.MAX_STROKE, "shadow_blur": limits.MAX_BLUR,
               "shadow_offset_x": 1000, "shadow_offset_y": -1000, "letter_spacing": 1000, "line_height": 10})
    response = client.post("/v1/videos/render", json=body)
    assert response.status_code == 202, response.json
    Worker(settings, kinds.runners()).loop()
    job = Job.get()
    assert job.state == "completed", job.error
    assert probe(job.result_path)["video"]["width"] == 90


def test_the_most_layers_allowed_render(client, settings):
    body = image_manifest(seconds=limits.MAX_LAYERS * 0.05)
    body["output"]["fps"] = 20
    many_layers(limits.MAX_LAYERS)(body)
    for n, layer in enumerate(body["composition"]["timeline"]):
        layer["time"] = {"start_seconds": n * 0.05, "duration_seconds": 0.05}
        layer["layout"] = {"x": n % 10, "width": "50%", "height": "50%"}  # no slideshow shortcut: one input each
    assert client.post("/v1/videos/render", json=body).status_code == 202
    Worker(settings, kinds.runners()).loop()
    job = Job.get()
    assert job.state == "completed", job.error
    assert abs(probe(job.result_path)["duration"] - limits.MAX_LAYERS * 0.05) < 0.2


def test_a_filtergraph_longer_than_an_argument_may_be_is_passed_in_a_file(tmp_path):
    graph = Graph(10, 5)
    label = graph.chain([], ["color=c=red:s=16x16:d=0.2"])
    for _ in range(3000):
        label = graph.chain([label], ["null"], stem="a_rather_long_label_stem_" * 2)
    assert len(graph.filter_complex()) > 128 * 1024
    out = tmp_path / "out.mp4"
    run_ffmpeg([FFMPEG, *graph.args(tmp_path / "graph.txt"), "-map", f"[{label}]", "-y", str(out)],
               duration=0.2, on_progress=lambda f: None, checkpoint=lambda: None)
    assert probe(out)["video"]["width"] == 16


def test_a_render_past_its_memory_cap_fails_as_out_of_memory_not_internal(settings):
    capped = settings.model_copy(update={"render_memory_mb": 40})
    client = create_app(capped).test_client()
    body = image_manifest(seconds=3)
    body["output"] = {"width": 1080, "height": 1920, "fps": 30}
    assert client.post("/v1/videos/render", json=body).status_code == 202
    Worker(capped, kinds.runners()).loop()
    job = Job.get()
    assert job.state == "failed" and job.error["code"] == "render_out_of_memory", job.error
    assert "40 MB" in job.error["message"]
    assert not list((settings.jobs_dir / job.id).glob("*.mp4"))
    db.database.close()
