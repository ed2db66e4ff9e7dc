"""ElevenLabs with timestamps: 22.05 kHz PCM and a time for every character it spoke."""

import base64
from urllib.parse import quote

from moneyreels.providers.tts.base import Voice
from moneyreels.providers.tts.remote import RemoteTTS, pcm

OUTPUT_FORMAT, PCM_RATE = "pcm_22050", 22050  # raw s16le; every plan may ask for it


class ElevenLabsTTS(RemoteTTS):
    """POST /v1/text-to-speech/{voice_id}/with-timestamps, key in xi-api-key."""

    key, label = "elevenlabs", "ElevenLabs"
    requires = ("ELEVENLABS_API_KEY",)
    default_base_url = "https://api.elevenlabs.io"
    default_voice = "JBFqnCBsd6RMkjVDRZzb"  # "George", a default voice every account has
    model = "eleven_multilingual_v2"
    speed_range = (0.7, 1.2)  # voice_settings.speed

    def voices(self) -> list[Voice]:
        """Return the account's voices (GET /v1/voices): the defaults and any it added or cloned."""
        data = self.client.request("GET", "/v1/voices")
        try:
            return [Voice(voice["voice_id"], voice["name"], _language(voice)) for voice in data["voices"]]
        except (KeyError, TypeError) as exc:
            raise self.client.error(
                f"{self.key} returned a malformed voice list ({type(exc).__name__}: {exc})") from None

    def _headers(self, api_key):
        return {"xi-api-key": api_key}

    def _request(self, text, voice, speed):
        body = {"text": text, "model_id": self.model}
        if speed != 1.0:  # otherwise the voice's own saved settings apply
            body["voice_settings"] = {"speed": speed}
        return f"/v1/text-to-speech/{quote(voice, safe='')}/with-timestamps", body, {"output_format": OUTPUT_FORMAT}

    def _audio(self, data):
        audio = pcm(base64.b64decode(data["audio_base64"], validate=True), PCM_RATE)
        # "alignment" is per input character; "normalized_alignment" follows the text as read aloud.
        alignment = data["alignment"]
        characters = alignment["characters"]
        starts, ends = alignment["character_start_times_seconds"], alignment["character_end_times_seconds"]
        if not len(characters) == len(starts) == len(ends):
            raise ValueError("alignment lists differ in length")
        audio.spoken = [(str(c), float(s), float(e)) for c, s, e in zip(characters, starts, ends)]
        return audio


def _language(voice: dict) -> str:
    """Return a voice's primary language: its first verified one, else its label, else English."""
    verified = voice.get("verified_languages") or [{}]
    language = verified[0].get("language") or (voice.get("labels") or {}).get("language") or "en"
    return language.split("-")[0].lower()
