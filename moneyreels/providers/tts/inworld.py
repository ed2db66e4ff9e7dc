"""Inworld TTS: a base64 WAV back, with word times when the model gives them."""

import base64

from moneyreels.providers.tts.base import Voice
from moneyreels.providers.tts.remote import RemoteTTS, decode, pcm

SAMPLE_RATE = 24000
# Inworld's stock English voices; a cloned voice's id works too, it is just not listed here.
VOICES = ("Ashley", "Alex", "Craig", "Deborah", "Dennis", "Edward", "Elizabeth", "Hades", "Julia", "Mark",
          "Olivia", "Pixie", "Priya", "Ronald", "Sarah", "Shaun", "Theodore", "Timothy", "Wendy")


class InworldTTS(RemoteTTS):
    """POST /tts/v1/voice with the portal's Basic credentials."""

    key, label = "inworld", "Inworld TTS"
    requires = ("INWORLD_TTS_API_KEY",)
    default_base_url = "https://api.inworld.ai"
    default_voice = "Ashley"
    model = "inworld-tts-1"
    speed_range = (0.5, 1.5)  # audio_config.speaking_rate

    def voices(self) -> list[Voice]:
        """Return Inworld's stock English voices."""
        return [Voice(name, name, "en") for name in VOICES]

    def _headers(self, api_key):
        # The portal hands out the Base64 of "key:secret" ready to use; a raw pair is encoded here.
        if ":" in api_key:
            api_key = base64.b64encode(api_key.encode()).decode()
        return {"Authorization": f"Basic {api_key}"}

    def _request(self, text, voice, speed):
        return "/tts/v1/voice", {
            "text": text, "voiceId": voice, "modelId": self.model,
            "audio_config": {"audio_encoding": "LINEAR16", "sample_rate_hertz": SAMPLE_RATE, "speaking_rate": speed},
            "timestampType": "WORD",
        }, None

    def _audio(self, data):
        content = base64.b64decode(data["audioContent"], validate=True)
        # LINEAR16 comes as a WAV file; headerless samples are read as such rather than refused.
        audio = decode(content, SAMPLE_RATE) if content[:4] == b"RIFF" else pcm(content, SAMPLE_RATE)
        words = ((data.get("timestampInfo") or {}).get("wordAlignment") or {})
        if words.get("words"):
            audio.spoken = [piece for word, start, end in zip(words["words"], words["wordStartTimeSeconds"],
                                                               words["wordEndTimeSeconds"], strict=True)
                            for piece in ((str(word), float(start), float(end)), (" ", float(end), float(end)))]
        return audio
