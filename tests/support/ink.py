"""Read drawn RGBA images in tests: alpha and colour maps."""

import numpy as np


def alpha(image) -> np.ndarray:
    return np.asarray(image)[..., 3]


def pixels_of(image, rgb: tuple[int, int, int], tolerance: int = 40) -> np.ndarray:
    """Return a boolean map of opaque pixels close to `rgb`."""
    data = np.asarray(image).astype(int)
    close = np.abs(data[..., :3] - rgb).max(axis=2) <= tolerance
    return close & (data[..., 3] > 200)
