"""Fakes of the remote TTS APIs' wire formats, serving real speech: eSpeak NG's, whose word times are known."""

import base64
import io
import tempfile
import wave
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from moneyreels.providers.tts import EspeakTTS, WordTiming
from moneyreels.providers.tts.elevenlabs import ElevenLabsTTS
from moneyreels.providers.tts.gemini import GeminiTTS
from moneyreels.providers.tts.inworld import InworldTTS
from moneyreels.providers.tts.openai import OpenAITTS
from tests.support.fakes import FakeServer, Reply, Request

# Not key-shaped on purpose: redaction must come from the client knowing its key.
OPENAI_KEY = "test-openai-key-81c2d7"
ELEVENLABS_KEY = "test-elevenlabs-key-3b9f0a"
GEMINI_KEY = "test-gemini-key-e61c44"
INWORLD_KEY = "dGVzdC1pbndvcmxkLWtleTpzZWNyZXQ="  # what Inworld's portal shows: Base64 of "key:secret"


@dataclass(frozen=True)
class Said:
    """Speech with its true word times."""

    samples: np.ndarray  # int16
    rate: int
    words: list[WordTiming]

    @property
    def duration(self) -> float:
        return self.samples.size / self.rate


@cache  # eSpeak's output varies a little from call to call; a fake and its test must share one
def say(text: str, rate: int) -> Said:
    """Speak text with eSpeak NG and resample to rate: real speech whose word times are exact."""
    with tempfile.TemporaryDirectory() as folder:
        speech = EspeakTTS().synthesize(text, Path(folder) / "said.wav")
        with wave.open(str(speech.path)) as wav:
            source_rate = wav.getframerate()
            samples = np.frombuffer(wav.readframes(wav.getnframes()), "<i2").astype(np.float64)
    count = round(samples.size * rate / source_rate)
    resampled = np.interp(np.arange(count) * source_rate / rate, np.arange(samples.size), samples)
    return Said(np.round(resampled).astype(np.int16), rate, speech.words)


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.astype("<i2").tobytes())
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def character_alignment(text: str, words: list[WordTiming]) -> dict:
    """ElevenLabs' alignment for text: each word's characters share its time; spaces fill the gaps."""
    characters, starts, ends = [], [], []

    def add(c: str, start: float, end: float) -> None:
        characters.append(c)
        starts.append(start)
        ends.append(end)

    position, previous_end = 0, 0.0
    for word in words:
        at = text.index(word.text, position)
        for c in text[position:at]:
            add(c, previous_end, word.start)
        step = (word.end - word.start) / len(word.text)
        for i, c in enumerate(word.text):
            add(c, word.start + i * step, word.start + (i + 1) * step)
        position, previous_end = at + len(word.text), word.end
    return {"characters": characters, "character_start_times_seconds": starts, "character_end_times_seconds": ends}


# --- replies, in each API's documented shape --------------------------------------------------

def openai_reply(text: str, said: Said) -> Reply:
    return Reply(200, said.samples.astype("<i2").tobytes(), headers={"Content-Type": "audio/pcm"})


def elevenlabs_reply(text: str, said: Said) -> dict:
    alignment = character_alignment(text, said.words)
    return {"audio_base64": b64(said.samples.astype("<i2").tobytes()), "alignment": alignment,
            "normalized_alignment": alignment}


def gemini_reply(text: str, said: Said) -> dict:
    return {
        "candidates": [{
            "content": {"parts": [{"inlineData": {"mimeType": "audio/L16;codec=pcm;rate=24000",
                                                  "data": b64(said.samples.astype("<i2").tobytes())}}],
                        "role": "model"},
            "finishReason": "STOP", "index": 0,
        }],
        "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 160, "totalTokenCount": 169,
                          "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 9}],
                          "candidatesTokensDetails": [{"modality": "AUDIO", "tokenCount": 160}]},
        "modelVersion": "gemini-2.5-flash-preview-tts", "responseId": "Xx3MaLrCJ4ee1dkP0vOl8Qo",
    }


def inworld_reply(text: str, said: Said, timed: bool = True) -> dict:
    reply = {"audioContent": b64(wav_bytes(said.samples, said.rate)),
             "usage": {"processedCharactersCount": len(text), "modelId": "inworld-tts-1"}}
    if timed:
        reply["timestampInfo"] = {"wordAlignment": {
            "words": [word.text for word in said.words],
            "wordStartTimeSeconds": [word.start for word in said.words],
            "wordEndTimeSeconds": [word.end for word in said.words],
        }}
    return reply


# --- error bodies ---------------------------------------------------------------------------

def openai_error(status: int, message: str) -> dict:
    return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}}


def elevenlabs_error(status: int, message: str) -> dict:
    return {"detail": {"status": "invalid_api_key", "message": message}}


def gemini_error(status: int, message: str) -> dict:
    kind = {400: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED"}.get(status, "INTERNAL")
    return {"error": {"code": status, "message": message, "status": kind}}


def inworld_error(status: int, message: str) -> dict:
    return {"code": 16 if status == 401 else 3, "message": message, "details": []}


@dataclass(frozen=True)
class Api:
    """One provider's wire format, as its fake serves it."""

    name: str
    cls: type
    keys: dict[str, str]
    path: str  # of the default voice
    rate: int  # of the audio the API sends
    presented: Callable[[Request], str | None]  # the credential a request carries
    expected: Callable[[str, float], tuple[dict, dict]]  # (body, query) for text at an API speed
    reply: Callable[[str, Said], Reply | dict]
    error: Callable[[int, str], dict]
    rejected: int  # what a bad key gets: Gemini answers 400 API_KEY_INVALID, not 401
    timed: bool  # the reply times the words itself

    @property
    def key(self) -> str:
        return next(iter(self.keys.values()))

    def serve(self, fake: FakeServer, text: str, speed: float = 1.0) -> None:
        """Answer like the real API: check the key and the exact request for text, then speak it."""

        def handle(request: Request) -> Reply | dict:
            if self.presented(request) != self.key:
                message = f"Incorrect API key provided: {self.presented(request)}."
                return Reply(self.rejected, self.error(self.rejected, message))
            assert request.headers["content-type"] == "application/json"
            assert (request.json, request.query) == self.expected(text, speed)
            return self.reply(text, say(text, self.rate))

        fake.route("POST", self.path, handle)

    def build(self, fake: FakeServer, sleeps: list, keys: dict | None = None, **options):
        options = {"timeout": (2, 2), "retries": 2, "sleep": sleeps.append, **options}
        return self.cls(self.keys if keys is None else keys, base_url=fake.url, client_options=options)


def _speed_field(body: dict, name: str, speed: float) -> dict:
    return body if speed == 1.0 else {**body, name: {"speed": speed}}


OPENAI = Api(
    "openai-tts", OpenAITTS, {"OPENAI_API_KEY": OPENAI_KEY}, "/v1/audio/speech", 24000,
    lambda request: request.headers.get("authorization", "").removeprefix("Bearer ") or None,
    lambda text, speed: ({"model": "gpt-4o-mini-tts", "input": text, "voice": "alloy", "response_format": "pcm",
                          "speed": speed}, {}),
    openai_reply, openai_error, 401, timed=False,
)
ELEVENLABS = Api(
    "elevenlabs", ElevenLabsTTS, {"ELEVENLABS_API_KEY": ELEVENLABS_KEY},
    "/v1/text-to-speech/JBFqnCBsd6RMkjVDRZzb/with-timestamps", 22050,
    lambda request: request.headers.get("xi-api-key"),
    lambda text, speed: (_speed_field({"text": text, "model_id": "eleven_multilingual_v2"}, "voice_settings", speed),
                         {"output_format": ["pcm_22050"]}),
    elevenlabs_reply, elevenlabs_error, 401, timed=True,
)
GEMINI = Api(
    "gemini-tts", GeminiTTS, {"GEMINI_API_KEY": GEMINI_KEY},
    "/v1beta/models/gemini-2.5-flash-preview-tts:generateContent", 24000,
    lambda request: request.headers.get("x-goog-api-key"),
    lambda text, speed: ({"contents": [{"parts": [{"text": text}]}], "generationConfig": {
        "responseModalities": ["AUDIO"],
        "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}}}}}, {}),
    gemini_reply, gemini_error, 400, timed=False,
)
INWORLD = Api(
    "inworld", InworldTTS, {"INWORLD_TTS_API_KEY": INWORLD_KEY}, "/tts/v1/voice", 24000,
    lambda request: request.headers.get("authorization", "").removeprefix("Basic ") or None,
    lambda text, speed: ({"text": text, "voiceId": "Ashley", "modelId": "inworld-tts-1",
                          "audio_config": {"audio_encoding": "LINEAR16", "sample_rate_hertz": 24000,
                                           "speaking_rate": speed},
                          "timestampType": "WORD"}, {}),
    inworld_reply, inworld_error, 401, timed=True,
)
APIS = (OPENAI, ELEVENLABS, GEMINI, INWORLD)
