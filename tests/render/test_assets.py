"""Asset URLs: local paths confined to the media folders, HTTP checks, size caps, timeouts."""

import os
import re
import subprocess

import pytest
import requests
from tests.support.drip import Drip
from tests.support.video import FFMPEG, assert_reel, reel

from moneyreels import netguard
from moneyreels.errors import JobCancelled, RenderError
from moneyreels.manifest import Asset
from moneyreels.render import assets
from tests.support.server import guard_passing


def one_video(url, **layer):
    assets = [{"id": "clip", "type": "video", "url": url}]
    timeline = [{"id": "layer", "type": "video", "asset_id": "clip",
                 "time": {"start_seconds": 0, "duration_seconds": 1}, **layer}]
    return reel(timeline, assets)


def failure(render_reel, manifest, **options) -> RenderError:
    with pytest.raises(RenderError) as caught:
        render_reel(manifest, **options)
    return caught.value


@pytest.mark.parametrize("url", ["red_land.mp4", "{media}/red_land.mp4", "file://{media}/red_land.mp4"])
def test_local_files_inside_the_media_folder_render(render_reel, media, url):
    _, out = render_reel(one_video(url.format(media=media)))
    assert_reel(out, duration=1)


@pytest.mark.parametrize("url", ["../red_land.mp4", "/etc/hostname", "file:///etc/hostname",
                                 "ftp://example.com/a.mp4", "data:video/mp4;base64,AAAA", "missing.mp4"])
def test_paths_outside_media_folders_and_other_schemes_are_refused(render_reel, url):
    error = failure(render_reel, one_video(url))
    assert error.code == "invalid_asset_url"
    assert error.details["asset_id"] == "clip"


def test_a_symlink_out_of_the_media_folder_is_refused(render_reel, tmp_path, media):
    inner = tmp_path / "inner"
    inner.mkdir()
    os.symlink(media / "red_land.mp4", inner / "link.mp4")
    error = failure(render_reel, one_video("link.mp4"), media_dirs=[inner])
    assert error.code == "invalid_asset_url"


@pytest.mark.parametrize("path, reason", [("/status/404", "HTTP 404"), ("/status/500", "HTTP 500"),
                                          ("/page.html", "text/html"), ("/notes.txt", "not decodable")])
def test_bad_http_assets_are_invalid_asset_urls(render_reel, http_server, path, reason):
    for layer in ({}, {"trim": {"start_seconds": 0.5}}):  # downloaded, then checked and streamed
        error = failure(render_reel, one_video(http_server.url + path, **layer))
        assert error.code == "invalid_asset_url"
        assert reason in error.message or reason in str(error.details), error.message


def test_redirects_cannot_reach_local_files(render_reel, http_server):
    for layer in ({}, {"trim": {"start_seconds": 0.5}}):
        error = failure(render_reel, one_video(http_server.url + "/redirect-to-file", **layer))
        assert error.code == "invalid_asset_url"


def test_unreachable_and_slow_servers_fail_cleanly(render_reel, http_server):
    assert failure(render_reel, one_video("http://127.0.0.1:9/a.mp4")).code == "invalid_asset_url"
    slow = one_video(http_server.url + "/slow/red_land.mp4")
    assert failure(render_reel, slow, fetch_timeout=(1, 1)).code == "invalid_asset_url"


def test_declared_size_over_the_cap_is_refused_before_download(render_reel, http_server, tmp_path):
    error = failure(render_reel, one_video(http_server.url + "/huge.mp4"))
    assert error.code == "asset_too_large"
    assert error.details == {"asset_id": "clip", "limit_bytes": 500 * 1024 * 1024}


def test_undeclared_size_is_counted_while_streaming(render_reel, http_server, tmp_path):
    error = failure(render_reel, one_video(http_server.url + "/endless.mp4"), max_asset_bytes=1_000_000)
    assert error.code == "asset_too_large"
    assert error.details["limit_bytes"] == 1_000_000
    assert list((tmp_path / "work").iterdir()) == []  # the partial download is gone


def test_an_asset_must_hold_what_its_layer_needs(render_reel):
    assets = [{"id": "clip", "type": "audio", "url": "white.png"}]
    timeline = [{"id": "a", "type": "audio", "asset_id": "clip", "time": {"start_seconds": 0, "duration_seconds": 1}}]
    error = failure(render_reel, reel(timeline, assets))
    assert error.code == "invalid_asset_url" and error.details["layer_id"] == "a"


def test_a_playlist_posing_as_media_cannot_pull_in_files_from_elsewhere(render_reel, tmp_path):
    # A real video outside the media folder, and a "media file" that is an HLS playlist pointing at it:
    # without the demuxer whitelist ffmpeg would render the outside file.
    outside, inside = tmp_path / "outside", tmp_path / "media"
    outside.mkdir(), inside.mkdir()
    subprocess.run([FFMPEG, "-v", "error", "-f", "lavfi", "-i", "color=red:s=90x160:d=1", "-f", "mpegts",
                    str(outside / "secret.ts")], check=True)
    (inside / "evil.m3u8").write_text("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n"
                                     f"file://{outside / 'secret.ts'}\n#EXT-X-ENDLIST\n")
    manifest = {"version": "v1", "output": {"width": 90, "height": 160, "fps": 10},
                "assets": [{"id": "evil", "type": "video", "url": str(inside / "evil.m3u8")}],
                "composition": {"timeline": [{"id": "v", "type": "video", "asset_id": "evil",
                                              "time": {"start_seconds": 0, "duration_seconds": 1}}]}}
    with pytest.raises(RenderError) as caught:
        render_reel(manifest, media_dirs=[inside])
    assert caught.value.code == "invalid_asset_url"


def test_a_server_that_trickles_hits_the_download_deadline(render_reel, http_server):
    error = failure(render_reel, one_video(http_server.url + "/trickle.mp4"), max_fetch_seconds=0.5)
    assert error.code == "invalid_asset_url" and "longer than 0.5 s" in error.message


@pytest.mark.parametrize("trimmed", [False, True])
def test_private_addresses_are_refused_when_not_allowed(render_reel, http_server, trimmed):
    layer = {"trim": {"start_seconds": 0.5}} if trimmed else {}
    error = failure(render_reel, one_video(http_server.url + "/red_land.mp4", **layer), allow_private_urls=False)
    assert error.code == "invalid_asset_url" and "private" in error.message


@pytest.mark.parametrize("headers_too", [False, True])
def test_a_dripping_asset_hits_the_deadline_on_the_clock_and_is_hung_up_on(render_reel, headers_too):
    with Drip(interval=0.2, total=150, headers_too=headers_too) as drip:  # 30 s of one byte at a time
        error = failure(render_reel, one_video(drip.url), max_fetch_seconds=1)
        assert error.code == "invalid_asset_url" and "longer than 1 s" in error.message
        assert drip.wait_for_hang_up() and not drip.finished.is_set()


@pytest.mark.parametrize("layer, headers_too", [({}, False), ({}, True),  # downloaded; relayed to ffmpeg
                                                ({"trim": {"start_seconds": 0.5}}, False)])
def test_cancel_lands_while_an_asset_drips(render_reel, layer, headers_too):
    with Drip(interval=0.2, total=150, headers_too=headers_too) as drip:
        with pytest.raises(JobCancelled):
            render_reel(one_video(drip.url, **layer), checkpoint=drip.cancel_once_requested())
        assert drip.wait_for_hang_up() and not drip.finished.is_set()


def test_assets_probe_side_by_side_and_the_first_bad_one_in_manifest_order_is_named(render_reel):
    # The first asset's probe reads a relayed body for about a second before it proves undecodable;
    # the second's fails at once. Side by side, the second fails first, yet the first is reported.
    with Drip(interval=0.05, total=20) as drip:
        manifest = reel(
            [{"id": "slow", "type": "video", "asset_id": "slow", "trim": {"start_seconds": 0.5},
              "time": {"start_seconds": 0, "duration_seconds": 1}},
             {"id": "text", "type": "image", "asset_id": "text", "time": {"start_seconds": 1, "duration_seconds": 1}}],
            [{"id": "slow", "type": "video", "url": drip.url}, {"id": "text", "type": "image", "url": "notes.txt"}])
        error = failure(render_reel, manifest)
    # The slow probe was waited for, not abandoned: it failed for its own reason.
    assert error.code == "invalid_asset_url" and error.details["asset_id"] == "slow", error.details
    assert "not decodable" in error.message, error.message


@pytest.mark.parametrize("trimmed", [False, True])
def test_a_redirect_to_a_private_address_is_refused_even_when_ffmpeg_seeks(render_reel, http_server, request_log,
                                                                         monkeypatch, trimmed):
    # The guard is on; "localhost" plays a public host that the guard lets through, 127.0.0.1 stays refused.
    monkeypatch.setattr(netguard, "public_addresses", guard_passing({"localhost"}))
    port = http_server.server_address[1]
    layer = {"trim": {"start_seconds": 0.5}} if trimmed else {}
    error = failure(render_reel, one_video(f"http://localhost:{port}/head-ok-get-redirects.mp4", **layer),
                    allow_private_urls=False)
    assert error.code == "invalid_asset_url" and "private address" in error.message, error.message
    assert [r for r in request_log if r["path"] == "/red_land.mp4"] == []  # the target was never read


def test_ffmpeg_reads_remote_assets_only_from_the_relay(render_reel, http_server, request_log, monkeypatch):
    seen = []
    real_probe = assets.probe
    monkeypatch.setattr(assets, "probe", lambda ffmpeg, source, **kw: seen.append(source) or real_probe(ffmpeg, source, **kw))
    _, out = render_reel(one_video(http_server.url + "/red_land.mp4", trim={"start_seconds": 0.5}))
    assert_reel(out, duration=1)
    assert len(seen) == 1 and re.fullmatch(r"http://127\.0\.0\.1:\d+/[\w-]{32}/0\.mp4", seen[0]), seen
    assert any(r["method"] == "GET" and r["range"] for r in request_log)


def test_the_relay_serves_only_its_own_assets_at_their_unguessable_paths(tmp_path, http_server):
    limits = assets.FetchLimits([tmp_path], tmp_path, 10**6, (5, 5), FFMPEG)
    asset = Asset(id="clip", type="video", url=http_server.url + "/red_land.mp4")
    with assets.relayed(limits) as relay:
        url = relay.add(asset)
        base, token, name = url.rsplit("/", 2)
        assert requests.get(url, headers={"Range": "bytes=0-9"}, timeout=5).content == \
            (http_server.root / "red_land.mp4").read_bytes()[:10]
        for path in (f"{'x' * len(token)}/{name}", f"{token}/1.mp4", f"{token}/x.mp4", "%C3%A9/0", ""):
            assert requests.get(f"{base}/{path}", timeout=5).status_code == 404, path


def test_the_size_cap_counts_what_the_relay_serves(render_reel, http_server):
    error = failure(render_reel, one_video(http_server.url + "/ramp.mp4", trim={"start_seconds": 12}),
                    max_asset_bytes=200_000)
    assert error.code == "asset_too_large" and error.details["limit_bytes"] == 200_000
