"""Gemini's speech model through generateContent: base64 PCM back, no speed setting, no timings."""

import base64
import re

from moneyreels.providers.tts.base import Voice
from moneyreels.providers.tts.remote import RemoteTTS, pcm

DEFAULT_RATE = 24000  # what the models send; the mimeType says so ("audio/L16;codec=pcm;rate=24000")
VOICES = (
    "Achernar", "Achird", "Algenib", "Algieba", "Alnilam", "Aoede", "Autonoe", "Callirrhoe", "Charon", "Despina",
    "Enceladus", "Erinome", "Fenrir", "Gacrux", "Iapetus", "Kore", "Laomedeia", "Leda", "Orus", "Puck",
    "Pulcherrima", "Rasalgethi", "Sadachbia", "Sadaltager", "Schedar", "Sulafat", "Umbriel", "Vindemiatrix",
    "Zephyr", "Zubenelgenubi",
)


class GeminiTTS(RemoteTTS):
    """POST /v1beta/models/{model}:generateContent with responseModalities AUDIO, key in x-goog-api-key."""

    key, label = "gemini-tts", "Gemini TTS"
    requires = ("GOOGLE_API_KEY", "GEMINI_API_KEY")
    default_base_url = "https://generativelanguage.googleapis.com"
    default_voice = "Kore"
    model = "gemini-2.5-flash-preview-tts"

    def voices(self) -> list[Voice]:
        """Return the prebuilt voices; each speaks the text's language, detected by the model."""
        return [Voice(name, name, "en") for name in VOICES]

    def _headers(self, api_key):
        return {"x-goog-api-key": api_key}

    def _request(self, text, voice, speed):
        return f"/v1beta/models/{self.model}:generateContent", {
            "contents": [{"parts": [{"text": text}]}],
            "generationConfig": {
                "responseModalities": ["AUDIO"],
                "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": voice}}},
            },
        }, None

    def _audio(self, data):
        parts = data["candidates"][0]["content"]["parts"]
        inline = [part["inlineData"] for part in parts if "inlineData" in part][0]
        rate = re.search(r"rate=(\d+)", inline.get("mimeType", ""))
        return pcm(base64.b64decode(inline["data"], validate=True), int(rate.group(1)) if rate else DEFAULT_RATE)
