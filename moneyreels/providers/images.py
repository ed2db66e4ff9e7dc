"""Generate a scene image remotely: OpenAI's gpt-image-1 or Gemini 2.5 Flash Image.

Both answer with base64 image bytes. Pillow must open them before they are trusted; the
image is then saved in the format out_path's suffix names, and the caller crops and scales.
"""

import base64
import binascii
import io
import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Protocol

from PIL import Image

from . import remote
from .remote import RemoteProvider

log = logging.getLogger(__name__)

# Generation sends nothing until the image is done, which can take a minute or more.
IMAGE_TIMEOUT = (5, 180)
JPEG_QUALITY = 92
COMPOSITION = "Vertical 9:16 composition. No text, letters, captions or watermarks."


class ImageProvider(Protocol):
    key: str
    label: str
    requires: tuple[str, ...]

    def generate(self, prompt: str, size: tuple[int, int], out_path: Path) -> Path:
        """Write an image of about size's aspect (width, height) to out_path and return it."""
        ...


def build_prompt(visual_prompt: str, art_style: str | None) -> str:
    """Compose a scene's image prompt: what it shows, in the archetype's art style, framed for a reel."""
    parts = [visual_prompt.strip().rstrip("."), f"Style: {art_style.strip().rstrip('.')}" if art_style else ""]
    return ". ".join(part for part in parts if part) + f". {COMPOSITION}"


class _RemoteImages(RemoteProvider, ABC):
    timeout = IMAGE_TIMEOUT
    model: ClassVar[str]

    def generate(self, prompt: str, size: tuple[int, int], out_path: Path) -> Path:
        """Generate one image for the prompt and save it to out_path."""
        path, body = self._request(prompt, size)
        encoded = self._image(self.client.request("POST", path, json=body))
        return self._save(encoded, Path(out_path))

    @abstractmethod
    def _request(self, prompt: str, size: tuple[int, int]) -> tuple[str, dict]:
        """Return (path, JSON body) asking for one image."""

    @abstractmethod
    def _image(self, data: Any) -> str:
        """Return the reply's base64 image, or raise naming why there is none."""

    def _no_image(self, why: str = "") -> Exception:
        return self.client.error(f"{self.label} returned no image" + (f" ({why})" if why else ""))

    def _save(self, encoded: Any, out_path: Path) -> Path:
        try:
            raw = base64.b64decode(encoded, validate=True)
            with Image.open(io.BytesIO(raw)) as image:
                picture = image.convert("RGB")  # decodes it all: a truncated file fails here
        except (binascii.Error, TypeError, ValueError, OSError, Image.DecompressionBombError):
            raise self._no_image("the reply is not a readable image") from None
        if out_path.suffix.lower() == ".png":
            picture.save(out_path, "PNG")
        else:
            picture.save(out_path, "JPEG", quality=JPEG_QUALITY)
        log.info("%s: %dx%d image saved to %s", self.key, *picture.size, out_path.name)
        return out_path


class OpenAIImages(_RemoteImages):
    """OpenAI Images API, gpt-image-1 (always answers with base64, never a URL)."""

    key, label, requires = "openai", "OpenAI gpt-image-1", ("OPENAI_API_KEY",)
    default_base_url = "https://api.openai.com"
    model = "gpt-image-1"
    quality = "medium"  # what costs.py prices; "high" is four times dearer

    def _auth_headers(self, api_key):
        return {"Authorization": f"Bearer {api_key}"}

    def _request(self, prompt, size):
        width, height = size
        shape = "1024x1536" if height > width else "1536x1024" if width > height else "1024x1024"
        return "/v1/images/generations", {
            "model": self.model, "prompt": prompt, "size": shape, "quality": self.quality, "n": 1,
            "output_format": "jpeg",
        }

    def _image(self, data):
        try:
            return data["data"][0]["b64_json"]
        except (KeyError, IndexError, TypeError):
            raise self._no_image() from None


class GeminiImages(_RemoteImages):
    """Gemini API generateContent with gemini-2.5-flash-image, asked for an image only."""

    key, label, requires = "gemini", "Google Gemini image", ("GOOGLE_API_KEY", "GEMINI_API_KEY")
    default_base_url = "https://generativelanguage.googleapis.com"
    model = "gemini-2.5-flash-image"
    ASPECTS = {name: int(name.split(":")[0]) / int(name.split(":")[1])
               for name in ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")}

    def _auth_headers(self, api_key):
        return {"x-goog-api-key": api_key}

    def _request(self, prompt, size):
        return f"/v1beta/models/{self.model}:generateContent", {
            "contents": [{"role": "user", "parts": [{"text": prompt}]}],
            "generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio": _aspect(size)}},
        }

    def _image(self, data):
        try:
            candidate = data["candidates"][0]
            parts = candidate["content"]["parts"]
            return next(part["inlineData"]["data"] for part in parts if "inlineData" in part)
        except (KeyError, IndexError, TypeError, StopIteration):
            raise self._no_image(_refusal(data)) from None


def _aspect(size: tuple[int, int]) -> str:
    """Return the aspect ratio Gemini supports that is nearest to size's."""
    ratio = size[0] / size[1]
    return min(GeminiImages.ASPECTS, key=lambda name: abs(math.log(GeminiImages.ASPECTS[name] / ratio)))


def _refusal(data: Any) -> str:
    """Say why Gemini sent no image: a blocked prompt, a finish reason, or its text reply."""
    if not isinstance(data, dict):
        return ""
    blocked = (data.get("promptFeedback") or {}).get("blockReason")
    if blocked:
        return f"prompt blocked: {blocked}"
    candidates = data.get("candidates") or [{}]
    candidate = candidates[0] if isinstance(candidates[0], dict) else {}
    parts = (candidate.get("content") or {}).get("parts") or []
    text = " ".join(part["text"] for part in parts if isinstance(part, dict) and isinstance(part.get("text"), str))
    reason = candidate.get("finishReason")
    return "; ".join(filter(None, (f"finish reason {reason}" if reason else "", text[:200])))


IMAGE_PROVIDERS = {cls.key: cls for cls in (OpenAIImages, GeminiImages)}
PROVIDERS = remote.describe(IMAGE_PROVIDERS)


def available(keys: Mapping[str, str]) -> dict[str, bool]:
    """Return, per image provider, whether `keys` can drive it."""
    return remote.available(IMAGE_PROVIDERS, keys)


def build(name: str, keys: Mapping[str, str], **options) -> ImageProvider:
    """Construct the named image provider (options: base_url, client_options)."""
    return remote.build(IMAGE_PROVIDERS, "image", name, keys, **options)
