"""OpenAI's speech endpoint: raw 24 kHz PCM back, no timings (align_sentences supplies them)."""

from moneyreels.providers.tts.base import Voice
from moneyreels.providers.tts.remote import RemoteTTS, pcm

PCM_RATE = 24000  # response_format "pcm" is 24 kHz mono s16le, headerless
VOICES = ("alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse")


class OpenAITTS(RemoteTTS):
    """POST /v1/audio/speech with a Bearer key."""

    key, label = "openai-tts", "OpenAI TTS"
    requires = ("OPENAI_API_KEY",)
    default_base_url = "https://api.openai.com"
    default_voice = "alloy"
    model = "gpt-4o-mini-tts"
    speed_range = (0.25, 4.0)
    expect = "bytes"

    def voices(self) -> list[Voice]:
        """Return the built-in voices; they speak whatever language the text is in."""
        return [Voice(name, name.capitalize(), "en") for name in VOICES]

    def _headers(self, api_key):
        return {"Authorization": f"Bearer {api_key}"}

    def _request(self, text, voice, speed):
        # pcm, not wav: the wav streams with placeholder sizes in its header.
        return "/v1/audio/speech", {"model": self.model, "input": text, "voice": voice,
                                    "response_format": "pcm", "speed": speed}, None

    def _audio(self, data):
        if len(data) % 2:
            raise ValueError(f"{len(data)} bytes is not whole 16-bit samples")
        return pcm(data, PCM_RATE)
