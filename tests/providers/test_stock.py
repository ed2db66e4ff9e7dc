"""Stock providers against fakes speaking Pexels' and Pixabay's real wire formats."""

import pytest

from moneyreels.providers import stock
from moneyreels.providers.stock import StockHit, StockFile, best_file
from tests.providers import remote_checks as checks
from tests.support.fakes import Reply

KEYS = {"PEXELS_API_KEY": "pexels-key-7c41d2", "PIXABAY_API_KEY": "pixabay-key-2e90b7"}
KEY_OF = {"pexels": KEYS["PEXELS_API_KEY"], "pixabay": KEYS["PIXABAY_API_KEY"]}
CDN = "https://videos.pexels.com/video-files"


def pexels_video(video_id, width, height, duration, sizes):
    """A Pexels video resource; `sizes` are its mp4 renditions, (width, height) each."""
    return {
        "id": video_id, "width": width, "height": height, "duration": duration,
        "url": f"https://www.pexels.com/video/clip-{video_id}/", "image": "https://images.pexels.com/x.jpeg",
        "user": {"id": 1, "name": "Someone", "url": "https://www.pexels.com/@someone"},
        "video_files": [
            {"id": video_id * 10 + i, "quality": "hd" if min(w, h) >= 720 else "sd", "file_type": "video/mp4",
             "width": w, "height": h, "fps": 25, "link": f"{CDN}/{video_id}/{video_id}-{w}x{h}.mp4"}
            for i, (w, h) in enumerate(sizes)
        ] + [{"id": 9, "quality": "hls", "file_type": "video/mp4", "width": None, "height": None, "fps": None,
              "link": "https://player.vimeo.com/external/x.m3u8"}],
        "video_pictures": [],
    }


PORTRAIT_SIZES = [(540, 960), (720, 1280), (1080, 1920), (2160, 3840)]
LANDSCAPE_SIZES = [(1280, 720), (1920, 1080)]
PEXELS_VIDEOS = [
    pexels_video(1, 1920, 1080, 20, LANDSCAPE_SIZES),  # most relevant, but landscape
    pexels_video(2, 1080, 1920, 6, PORTRAIT_SIZES),
    pexels_video(3, 2160, 3840, 15, PORTRAIT_SIZES),
]
PEXELS_PHOTOS = [
    {"id": 11, "width": 6000, "height": 4000, "url": "https://www.pexels.com/photo/a-11/", "alt": "wide",
     "photographer": "A", "avg_color": "#778899",
     "src": {"original": "https://images.pexels.com/photos/11/p.jpeg", "large2x": "https://images.pexels.com/l2x"}},
    {"id": 12, "width": 3000, "height": 4500, "url": "https://www.pexels.com/photo/b-12/", "alt": "tall",
     "photographer": "B", "avg_color": "#112233",
     "src": {"original": "https://images.pexels.com/photos/12/p.jpeg", "large2x": "https://images.pexels.com/l2x"}},
]


def pixabay_video(video_id, duration, large, medium):
    rendition = lambda size: {"url": f"https://cdn.pixabay.com/video/{video_id}/{size[0]}.mp4" if size[0] else "",
                              "width": size[0], "height": size[1], "size": size[0] * 1000, "thumbnail": ""}
    return {"id": video_id, "pageURL": f"https://pixabay.com/videos/clip-{video_id}/", "type": "film",
            "tags": "cat, pet", "duration": duration, "views": 1, "downloads": 1, "likes": 1, "user": "u",
            "videos": {"large": rendition(large), "medium": rendition(medium), "small": rendition((640, 360)),
                       "tiny": rendition((480, 270))}}


PIXABAY_VIDEOS = [
    pixabay_video(21, 30, (3840, 2160), (1920, 1080)),
    pixabay_video(22, 4, (0, 0), (1080, 1920)),  # no "large": Pixabay sends an empty rendition
    pixabay_video(23, 12, (2160, 3840), (1080, 1920)),
]
PIXABAY_PHOTOS = [
    {"id": 31, "pageURL": "https://pixabay.com/photos/cat-31/", "type": "photo", "tags": "cat",
     "previewURL": "https://cdn.pixabay.com/p/31_150.jpg", "webformatURL": "https://pixabay.com/get/31_640.jpg",
     "largeImageURL": "https://pixabay.com/get/31_1280.jpg", "imageWidth": 4000, "imageHeight": 6000,
     "imageSize": 1, "views": 1, "downloads": 1, "likes": 1, "user": "u"},
]


def pexels_route(path, field, entries):
    def answer(request):
        assert request.headers["authorization"] == KEYS["PEXELS_API_KEY"]  # the bare key, no scheme
        assert request.query == {"query": ["cats"], "orientation": ["portrait"], "per_page": ["30"]}
        return {"page": 1, "per_page": 30, "total_results": len(entries), field: entries,
                "next_page": "https://api.pexels.com/v1/search/?page=2&per_page=30&query=cats"}
    return path, answer


def pixabay_route(path, entries, extra):
    def answer(request):
        assert "authorization" not in request.headers
        assert request.query == {"key": [KEYS["PIXABAY_API_KEY"]], "q": ["cats"], "per_page": ["30"],
                                 "safesearch": ["true"], **extra}
        return {"total": len(entries), "totalHits": len(entries), "hits": entries}
    return path, answer


ROUTES = {
    ("pexels", "video"): pexels_route("/videos/search", "videos", PEXELS_VIDEOS),
    ("pexels", "image"): pexels_route("/v1/search", "photos", PEXELS_PHOTOS),
    ("pixabay", "video"): pixabay_route("/api/videos/", PIXABAY_VIDEOS, {}),
    ("pixabay", "image"): pixabay_route("/api/", PIXABAY_PHOTOS,
                                        {"image_type": ["photo"], "orientation": ["vertical"]}),
}
NAMES = ["pexels", "pixabay"]


def provider(name, fake, sleeps, **client_options):
    for (route_name, _), (path, handler) in ROUTES.items():
        if route_name == name:
            fake.route("GET", path, handler)
    return stock.build(name, KEYS, base_url=fake.url,
                       client_options={"sleep": sleeps.append, "timeout": (1, 2), **client_options})


def search(name, fake, sleeps, kind="video", **options):
    return lambda: provider(name, fake, sleeps).search("cats", kind, **options)


def test_pexels_prefers_portrait_at_1080(fake, sleeps):
    hit = search("pexels", fake, sleeps)()
    assert hit == StockHit("pexels:video:2", "video", f"{CDN}/2/2-1080x1920.mp4", 1080, 1920, 6.0, "pexels",
                           "https://www.pexels.com/video/clip-2/")


def test_min_duration_and_exclude(fake, sleeps):
    assert search("pexels", fake, sleeps, min_seconds=8)().id == "pexels:video:3"
    assert search("pexels", fake, sleeps, exclude={"pexels:video:2"})().id == "pexels:video:3"
    # Only the landscape clip is left: better than nothing.
    assert search("pexels", fake, sleeps, exclude={"pexels:video:2", "pexels:video:3"})().id == "pexels:video:1"
    assert search("pexels", fake, sleeps, min_seconds=25)() is None


def test_pexels_photo_is_the_portrait_original(fake, sleeps):
    hit = search("pexels", fake, sleeps, kind="image")()
    assert (hit.id, hit.url, hit.width, hit.height, hit.duration) == (
        "pexels:image:12", "https://images.pexels.com/photos/12/p.jpeg", 3000, 4500, 0.0)


def test_pixabay_video_skips_empty_renditions(fake, sleeps):
    hit = search("pixabay", fake, sleeps)()
    assert (hit.id, hit.url, hit.width, hit.height, hit.duration, hit.page_url) == (
        "pixabay:video:22", "https://cdn.pixabay.com/video/22/1080.mp4", 1080, 1920, 4.0,
        "https://pixabay.com/videos/clip-22/")
    assert search("pixabay", fake, sleeps, min_seconds=5)().id == "pixabay:video:23"


def test_pixabay_photo_has_the_large_image_size(fake, sleeps):
    hit = search("pixabay", fake, sleeps, kind="image")()
    assert (hit.url, hit.width, hit.height) == ("https://pixabay.com/get/31_1280.jpg", 853, 1280)


@pytest.mark.parametrize("sizes, chosen", [
    ([(720, 1280), (1080, 1920), (2160, 3840), (1440, 2560)], (1080, 1920)),  # the smallest that fills 1080
    ([(540, 960), (720, 1280)], (720, 1280)),  # none does: the largest
    ([(0, 0), (360, 640)], (360, 640)),
    ([], None),
])
def test_best_file(sizes, chosen):
    found = best_file([StockFile(f"u{w}" if w else "", w, h) for w, h in sizes])
    assert (found and (found.width, found.height)) == chosen


def test_entries_that_are_broken_are_skipped(fake, sleeps):
    fake.script(Reply(200, {"videos": [{"id": 7}, "junk", PEXELS_VIDEOS[2]]}))
    assert search("pexels", fake, sleeps)().id == "pexels:video:3"


def test_kind_is_checked(fake, sleeps):
    with pytest.raises(ValueError):
        search("pexels", fake, sleeps, kind="audio")()
    assert fake.requests == []


@pytest.fixture
def hit(fake):
    def make(url=None):
        return StockHit("pexels:video:2", "video", url or f"{fake.url}/video-files/2.mp4", 1080, 1920, 6, "pexels", "")
    return make


@pytest.mark.parametrize("name", NAMES)
def test_download_sends_no_key(fake, sleeps, tmp_path, hit, name):
    def answer(request):
        assert "authorization" not in request.headers and request.query == {}
        return Reply(200, b"\x00\x00\x00\x18ftypmp42" + b"x" * 5000, headers={"Content-Type": "video/mp4"})
    fake.route("GET", "/video-files/2.mp4", answer)
    out = provider(name, fake, sleeps).download(hit(), tmp_path / "clip.mp4", max_bytes=10_000)
    assert out.read_bytes().startswith(b"\x00\x00\x00\x18ftyp") and out.stat().st_size == 5012


def test_download_follows_a_cdn_redirect(fake, sleeps, tmp_path, hit):
    fake.route("GET", "/video-files/2.mp4", lambda request: Reply(302, headers={"Location": "/cdn/2.mp4"}))
    fake.route("GET", "/cdn/2.mp4", lambda request: Reply(200, b"movie"))
    out = provider("pexels", fake, sleeps).download(hit(), tmp_path / "clip.mp4", max_bytes=100)
    assert out.read_bytes() == b"movie"


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
def test_download_size_cap(fake, sleeps, tmp_path, hit, declared):
    headers = {} if declared else {"Content-Length": None}  # None: the body just runs on
    fake.route("GET", "/video-files/2.mp4", lambda request: Reply(200, b"x" * 300_000, headers=headers))
    error = checks.raised(lambda: provider("pexels", fake, sleeps).download(hit(), tmp_path / "c.mp4",
                                                                               max_bytes=100_000))
    assert "larger than 100000 bytes" in error.message
    assert not (tmp_path / "c.mp4").exists()


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/clip.mp4", "/relative/clip.mp4"])
def test_download_refuses_non_http_urls(fake, sleeps, tmp_path, hit, url):
    error = checks.raised(lambda: provider("pexels", fake, sleeps).download(hit(url), tmp_path / "c.mp4",
                                                                               max_bytes=100))
    assert "not http(s)" in error.message
    assert fake.requests == [] and not (tmp_path / "c.mp4").exists()


# Each API's real answer to a wrong key: Pexels a 401, Pixabay a 400 in plain text.
UNAUTHORIZED = [
    ("pexels", Reply(401, {"error": "Unauthorized"})),
    ("pixabay", Reply(400, '[ERROR 400] "key" is wrong or missing.')),
    ("pixabay", Reply(401, "Unauthorized")),
]


@pytest.mark.parametrize("name, reply", UNAUTHORIZED)
def test_rejected_key_fails_at_once(fake, sleeps, name, reply):
    checks.rejected(fake, sleeps, search(name, fake, sleeps), provider=name, key=KEY_OF[name], reply=reply)


@pytest.mark.parametrize("name", NAMES)
def test_429_waits_as_asked_then_succeeds(fake, sleeps, name):
    reply = Reply(429, "Rate limit exceeded", headers={"Retry-After": "2", "X-RateLimit-Remaining": "0"})
    assert checks.retried(fake, sleeps, search(name, fake, sleeps), reply, 2.0) is not None


@pytest.mark.parametrize("name", NAMES)
def test_500_is_retried(fake, sleeps, name):
    assert checks.retried(fake, sleeps, search(name, fake, sleeps), Reply(503, "busy"), 1.0) is not None


@pytest.mark.parametrize("name", NAMES)
def test_timeout(fake, sleeps, name):
    call = lambda: provider(name, fake, sleeps, timeout=(1, 0.2), retries=1).search("cats", "video")
    checks.timed_out(fake, call, key=KEY_OF[name])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("reply, expected", [
    (Reply(200, "<html>maintenance</html>"), "not JSON"),
    (Reply(200, {"page": 1}), "no "),
], ids=["html", "no-list"])
def test_malformed_body(fake, sleeps, name, reply, expected):
    checks.malformed(fake, search(name, fake, sleeps), reply, f"malformed response ({expected}")


@pytest.mark.parametrize("name", NAMES)
def test_key_echoed_in_an_error_is_redacted(fake, sleeps, name):
    key = KEY_OF[name]
    reply = Reply(403, f"[ERROR 403] forbidden: GET /api/?key={key}&q=cats (key {key})")
    checks.echoed_key_redacted(fake, search(name, fake, sleeps), key=key, reply=reply)


def test_pixabay_key_in_a_failed_url_is_redacted(sleeps):
    # Nothing listens on port 9 of loopback: requests' error names the URL, key and all.
    client = stock.build("pixabay", KEYS, base_url="http://127.0.0.1:9",
                         client_options={"sleep": sleeps.append, "retries": 0, "timeout": (0.5, 0.5)})
    error = checks.raised(lambda: client.search("cats", "image"))
    assert "connection failed" in error.message and "key=[redacted]" in error.message
    assert KEYS["PIXABAY_API_KEY"] not in str(error.to_dict())


@pytest.mark.parametrize("name, setting", [("pexels", "PEXELS_API_KEY"), ("pixabay", "PIXABAY_API_KEY")])
def test_missing_key_names_the_setting(name, setting):
    error = checks.raised(lambda: stock.build(name, {"OPENAI_API_KEY": "oai-value-1"}))
    assert error.code == "missing_key" and error.status == 400
    assert setting in error.message and "oai-value-1" not in str(error.to_dict())


def test_registry():
    assert [spec["key"] for spec in stock.PROVIDERS] == list(stock.STOCK_PROVIDERS) == NAMES
    assert stock.available({"PIXABAY_API_KEY": "k"}) == {"pexels": False, "pixabay": True}
    assert checks.raised(lambda: stock.build("unsplash", KEYS)).code == "unknown_provider"
