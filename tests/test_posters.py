"""A finished reel gets poster.jpg: a frame of the video, linked from the job and served as an artifact."""

import io
import subprocess

from PIL import Image

from moneyreels import kinds, posters
from moneyreels.worker import Worker
from tests.support.video import FFMPEG
from tests.test_cli import text_reel


def test_a_finished_render_has_a_poster_frame_linked_and_served(client, settings):
    job_id = client.post("/v1/videos/render", json=text_reel()).json["job_id"]
    assert "poster" not in client.get(f"/api/v1/jobs/{job_id}?kind=render").json["_links"]
    Worker(settings, kinds.runners()).loop()

    job = client.get(f"/api/v1/jobs/{job_id}").json
    assert job["status"] == "completed"
    href = job["_links"]["poster"]["href"]
    assert href == f"/api/v1/jobs/{job_id}/artifacts/poster.jpg"
    listed = client.get("/api/v1/jobs?kind=render").json["jobs"][0]
    assert listed["_links"]["poster"]["href"] == href
    served = client.get(href)
    assert served.status_code == 200
    image = Image.open(io.BytesIO(served.data))
    assert image.format == "JPEG" and image.width == posters.WIDTH
    # The text overlay is white on black: the poster frame shows it, so it is no blank frame.
    assert image.convert("L").getextrema()[1] > 200


def test_a_video_too_short_to_seek_into_still_gets_its_first_frame(tmp_path):
    video = tmp_path / "final.mp4"
    subprocess.run([FFMPEG, "-v", "error", "-f", "lavfi", "-i", "color=c=red:s=64x64:d=0.2:r=10", "-pix_fmt", "yuv420p",
                    str(video)], check=True)
    poster = posters.write_poster(video)
    assert poster == tmp_path / "poster.jpg"
    red, green, blue = Image.open(poster).convert("RGB").getpixel((100, 100))
    assert red > 200 and green < 60 and blue < 60


def test_no_poster_from_a_file_that_is_not_video(tmp_path):
    fake = tmp_path / "final.mp4"
    fake.write_bytes(b"not a video at all")
    assert posters.write_poster(fake) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["final.mp4"]


def test_posters_and_other_artifacts_are_not_rate_limited(settings):
    from moneyreels import create_app, db
    from moneyreels.api.limits import RateLimiter

    limited = settings.model_copy(update={"api_rate_limit": 1})
    app = create_app(limited)
    app.extensions["moneyreels.limiters"] = {"api": RateLimiter(1, 1.0, clock=lambda: 0.0)}  # time stands still
    client = app.test_client()
    job_id = client.post("/v1/videos/render", json=text_reel()).json["job_id"]
    Worker(limited, kinds.runners()).loop()
    href = client.get(f"/api/v1/jobs/{job_id}").json["_links"]["poster"]["href"]
    # A page of past reels loads eight posters at once.
    assert [client.get(href).status_code for _ in range(8)] == [200] * 8
    assert client.get("/api/v1/jobs").status_code == 429  # the job read above used the one request allowed
    db.database.close()
