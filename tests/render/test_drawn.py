"""Images we draw (text, captions, masks, shadows) reach ffmpeg exactly as Pillow drew them."""

import subprocess

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter
from tests.support.video import FFMPEG

from moneyreels.render.graph import DRAWN, save_drawn


def decoded(path, pix_fmt: str, size: tuple[int, int]) -> np.ndarray:
    raw = subprocess.run([FFMPEG, "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", pix_fmt, "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(size[1], size[0], -1).squeeze()


def drawing(mode: str) -> Image.Image:
    """Soft-edged text over transparency, a gradient and a flat run: what sprites hold."""
    image = Image.new(mode, (173, 61), 0)
    draw = ImageDraw.Draw(image)
    ink = (255, 190, 11, 255) if mode == "RGBA" else 255
    draw.text((6, 8), "Pop 42", fill=ink, font_size=40, stroke_width=3, stroke_fill=(0, 0, 0, 200) if mode == "RGBA" else 90)
    image = image.filter(ImageFilter.GaussianBlur(0.8))
    for x in range(120, 173):  # a gradient: every alpha level from the edge in
        draw.line((x, 0, x, 60), fill=(x, 255 - x, 40, (x - 120) * 4) if mode == "RGBA" else (x - 120) * 4)
    return image


@pytest.mark.parametrize("mode, pix_fmt", [("RGBA", "rgba"), ("L", "gray")])
def test_a_drawn_image_decodes_pixel_for_pixel(tmp_path, mode, pix_fmt):
    image = drawing(mode)
    path = tmp_path / f"sprite{DRAWN}"
    save_drawn(image, path)
    assert np.array_equal(decoded(path, pix_fmt, image.size), np.asarray(image))
    assert len(np.unique(np.asarray(image)[..., -1] if mode == "RGBA" else np.asarray(image))) > 50  # soft edges drawn
