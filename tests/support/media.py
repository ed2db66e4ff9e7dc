"""Small media files made on the spot for tests."""

import numpy as np
from PIL import Image


def noise_image(path, width=90, height=160, seed=0):
    """Write a JPEG of random colour noise and return its path."""
    pixels = np.random.default_rng(seed).integers(0, 255, (height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def image_manifest(url="pic.jpg", seconds=1.0, **extra):
    """A tiny valid Reel Forge manifest: one still image and a line of text."""
    return {
        "version": "v1",
        "output": {"width": 90, "height": 160, "fps": 10},
        "assets": [{"id": "pic", "type": "image", "url": url}],
        "composition": {
            "timeline": [{"id": "still", "type": "image", "asset_id": "pic",
                          "time": {"start_seconds": 0, "duration_seconds": seconds}}],
            "text_overlays": [{"content": "Hi", "time": {"start_seconds": 0, "duration_seconds": seconds}}],
        },
        **extra,
    }
