"""The remote TTS providers against fakes of their wire formats; sentence alignment; Kokoro; the registry."""

import base64
import sys
import types
import wave

import numpy as np
import pytest

from moneyreels.providers.http import ProviderError
from moneyreels.providers.tts import (
    PROVIDERS, TTS_PROVIDERS, EspeakTTS, Speech, TTSError, TTSProvider, WordTiming, available, build,
)
from moneyreels.providers.tts.kokoro import KokoroTTS
from moneyreels.providers.tts.timing import align_sentences, from_spoken
from tests.support.fakes import Reply
from tests.providers.tts_fakes import (
    APIS, ELEVENLABS, ELEVENLABS_KEY, GEMINI, INWORLD, OPENAI, b64, elevenlabs_reply, inworld_reply, say,
)

TEXT = "Saving money is about systems, not willpower. Start small today! Then automate everything you can."
WORDS = TEXT.split()
ALL = pytest.mark.parametrize("api", APIS, ids=lambda api: api.name)


def raised(call, kind=ProviderError):
    with pytest.raises(kind) as info:
        call()
    return info.value


def read(speech: Speech) -> tuple[np.ndarray, int]:
    with wave.open(str(speech.path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        assert wav.getnframes() / wav.getframerate() == pytest.approx(speech.duration)
        return np.frombuffer(wav.readframes(wav.getnframes()), "<i2"), wav.getframerate()


def assert_well_timed(speech: Speech, text: str = TEXT) -> None:
    """One timing per input word, as written, in order, inside the clip."""
    assert [word.text for word in speech.words] == text.split()
    for word, following in zip(speech.words, speech.words[1:] + [None]):
        assert 0 <= word.start <= word.end <= speech.duration
        if following:
            assert word.end <= following.start


def assert_near(words: list[WordTiming], truth: list[WordTiming], tolerance: float) -> None:
    for word, true in zip(words, truth, strict=True):
        assert word.start == pytest.approx(true.start, abs=tolerance), word
        assert word.end == pytest.approx(true.end, abs=tolerance), word


# --- each API: the exact request, a real reply, word timings ----------------------------------

@ALL
def test_speaks_through_the_api_and_times_every_word(api, fake, sleeps, tmp_path):
    api.serve(fake, TEXT)
    speech = api.build(fake, sleeps).synthesize(TEXT, tmp_path / "line.wav")
    said = say(TEXT, api.rate)
    samples, rate = read(speech)
    assert rate == api.rate
    assert np.array_equal(samples, said.samples)
    assert_well_timed(speech)
    # Timed replies give the words' own times; the others are aligned to the audio, close to the truth.
    assert_near(speech.words, said.words, 0.01 if api.timed else 0.06)
    assert len(fake.requests) == 1 and not sleeps


@ALL
def test_is_a_tts_provider(api, fake, sleeps):
    provider = api.build(fake, sleeps)
    assert isinstance(provider, TTSProvider)
    assert (provider.key, provider.requires) == (api.name, api.cls.requires) and list(api.keys)[0] in api.cls.requires


@pytest.mark.parametrize("api", [OPENAI, GEMINI, INWORLD], ids=lambda api: api.name)
def test_lists_its_voices_without_a_request(api, fake, sleeps):
    provider = api.build(fake, sleeps)
    voices = provider.voices()
    assert provider.default_voice in {voice.id for voice in voices} and len(voices) >= 10
    assert not fake.requests


@ALL
def test_a_missing_key_is_named_not_sent(api, fake, sleeps):
    error = raised(lambda: api.build(fake, sleeps, keys={"SOME_OTHER_KEY": "x"}))
    assert (error.code, error.status, error.details["key"]) == ("missing_key", 400, api.cls.requires[0])
    assert all(name in error.message for name in api.cls.requires)
    assert not fake.requests


@ALL
def test_a_rejected_key_fails_at_once_without_the_key(api, fake, sleeps, tmp_path):
    api.serve(fake, TEXT)
    keys = {name: "wrong-key-for-this-test-9a8b" for name in api.keys}
    error = raised(lambda: api.build(fake, sleeps, keys=keys).synthesize(TEXT, tmp_path / "x.wav"))
    assert error.http_status == api.rejected and not error.retryable
    assert api.name in error.message and "wrong-key-for-this-test-9a8b" not in error.message
    assert "[redacted]" in error.message  # the fake's error echoes the key it was sent
    assert len(fake.requests) == 1 and not sleeps


@ALL
def test_an_error_body_echoing_the_real_key_is_redacted(api, fake, sleeps, tmp_path):
    fake.script(Reply(400, api.error(400, f"Request with key {api.key} is invalid: voice not found")))
    error = raised(lambda: api.build(fake, sleeps).synthesize(TEXT, tmp_path / "x.wav"))
    assert api.key not in error.message and api.key not in str(error.details)
    assert "[redacted]" in error.message and "voice not found" in error.message


@ALL
def test_429_waits_as_told_then_succeeds(api, fake, sleeps, tmp_path):
    api.serve(fake, TEXT)
    fake.script(Reply(429, api.error(429, "Too many requests"), headers={"Retry-After": "2"}))
    speech = api.build(fake, sleeps).synthesize(TEXT, tmp_path / "x.wav")
    assert_well_timed(speech)
    assert sleeps == [2.0] and len(fake.requests) == 2


@ALL
def test_500_backs_off_then_succeeds(api, fake, sleeps, tmp_path):
    api.serve(fake, TEXT)
    fake.script(Reply(500, api.error(500, "Internal error")))
    speech = api.build(fake, sleeps, backoff=0.5).synthesize(TEXT, tmp_path / "x.wav")
    assert_well_timed(speech)
    assert sleeps == [0.5] and len(fake.requests) == 2


@ALL
def test_a_timeout_is_retried_then_reported(api, fake, sleeps, tmp_path):
    api.serve(fake, TEXT)
    fake.script(Reply(delay=2), Reply(delay=2))
    provider = api.build(fake, sleeps, timeout=(1, 0.2), retries=1)
    error = raised(lambda: provider.synthesize(TEXT, tmp_path / "x.wav"))
    assert "timed out" in error.message and error.retryable
    assert len(sleeps) == 1 and len(fake.requests) == 2
    assert not (tmp_path / "x.wav").exists()


MALFORMED = {
    "openai-tts": [Reply(200, b"\x01\x02\x03", headers={"Content-Type": "audio/pcm"})],  # half a sample
    "elevenlabs": [Reply(200, "<html>Bad gateway</html>"), {"audio_base64": "not base64!"},
                   {"audio_base64": b64(b"\0\0" * 100), "alignment": {"characters": ["a"],
                    "character_start_times_seconds": [], "character_end_times_seconds": []}}],
    "gemini-tts": [Reply(200, "<html>Bad gateway</html>"), {"candidates": [{"finishReason": "OTHER", "index": 0}]},
                   {"candidates": [{"content": {"parts": [{"text": "I cannot read that."}]}}]}],
    "inworld": [Reply(200, "<html>Bad gateway</html>"), {"result": {}},
                {"audioContent": b64(b"RIFF\x24\0\0\0WAVEgarbage")}],
}


@ALL
def test_a_malformed_reply_is_an_error_not_a_crash(api, fake, sleeps, tmp_path):
    for reply in MALFORMED[api.name]:
        fake.script(reply if isinstance(reply, Reply) else Reply(200, reply))
        error = raised(lambda: api.build(fake, sleeps).synthesize(TEXT, tmp_path / "x.wav"))
        assert "malformed" in error.message and api.name in error.message, reply
    assert not sleeps


NO_AUDIO = {
    "openai-tts": Reply(200, b"", headers={"Content-Type": "audio/pcm"}),
    "inworld": Reply(200, {"audioContent": "", "usage": {"processedCharactersCount": 0, "modelId": "inworld-tts-1"}}),
    "elevenlabs": Reply(200, {"audio_base64": "", "alignment": {
        "characters": [], "character_start_times_seconds": [], "character_end_times_seconds": []}}),
}


@pytest.mark.parametrize("api", [OPENAI, INWORLD, ELEVENLABS], ids=lambda api: api.name)
def test_no_audio_is_a_tts_error(api, fake, sleeps, tmp_path):
    fake.script(NO_AUDIO[api.name])
    error = raised(lambda: api.build(fake, sleeps).synthesize(TEXT, tmp_path / "x.wav"), TTSError)
    assert "no audio" in error.message and api.cls.label in error.message
    assert not (tmp_path / "x.wav").exists()


@ALL
def test_blank_text_is_refused_before_any_request(api, fake, sleeps, tmp_path):
    error = raised(lambda: api.build(fake, sleeps).synthesize(" \n", tmp_path / "x.wav"), TTSError)
    assert "no text" in error.message and not fake.requests


# --- speed: the API's own setting where it has one, ffmpeg's atempo for the rest -----------------

@pytest.mark.parametrize("api, speed, api_speed", [
    (OPENAI, 1.5, 1.5), (ELEVENLABS, 1.1, 1.1), (INWORLD, 0.8, 0.8),
], ids=lambda value: getattr(value, "name", value))
def test_speed_goes_to_the_api_setting(api, speed, api_speed, fake, sleeps, tmp_path):
    api.serve(fake, TEXT, speed=api_speed)  # the fake asserts the exact body
    speech = api.build(fake, sleeps).synthesize(TEXT, tmp_path / "x.wav", speed=speed)
    # The API did the speeding: the audio is what it sent (the fake ignores the setting).
    assert speech.duration == pytest.approx(say(TEXT, api.rate).duration)


@pytest.mark.parametrize("api, speed, api_speed", [
    (GEMINI, 1.6, 1.0), (ELEVENLABS, 1.5, 1.2), (INWORLD, 0.4, 0.5),
], ids=lambda value: getattr(value, "name", value))
def test_speed_beyond_the_api_is_done_by_atempo(api, speed, api_speed, fake, sleeps, tmp_path):
    api.serve(fake, TEXT, speed=api_speed)
    speech = api.build(fake, sleeps).synthesize(TEXT, tmp_path / "x.wav", speed=speed)
    said = say(TEXT, api.rate)
    tempo = speed / api_speed
    assert speech.duration == pytest.approx(said.duration / tempo, rel=0.02)
    assert_well_timed(speech)
    scaled = [WordTiming(w.text, w.start / tempo, w.end / tempo) for w in said.words]
    assert_near(speech.words, scaled, 0.03 if api.timed else 0.08)


# --- provider specifics ------------------------------------------------------------------------

def test_elevenlabs_character_times_become_word_times(fake, sleeps, tmp_path):
    text = "Hi there, friend."
    # Characters 0.1 s apart, with the space before "friend." held for 0.5 s: a pause the times must keep.
    times, t = [], 0.0
    for i, c in enumerate(text):
        length = 0.5 if i == 9 else 0.1
        times.append((c, t, t + length))
        t += length
    alignment = {"characters": [c for c, _, _ in times], "character_start_times_seconds": [s for _, s, _ in times],
                 "character_end_times_seconds": [e for _, _, e in times]}
    audio = (np.sin(np.arange(int(2.2 * 22050)) * 0.1) * 8000).astype("<i2")
    fake.route("POST", ELEVENLABS.path, lambda request: {"audio_base64": b64(audio.tobytes()), "alignment": alignment})
    speech = ELEVENLABS.build(fake, sleeps).synthesize(text, tmp_path / "x.wav")
    assert [(w.text, round(w.start, 6), round(w.end, 6)) for w in speech.words] == [
        ("Hi", 0.0, 0.2), ("there,", 0.3, 0.9), ("friend.", 1.4, 2.1)]


def test_elevenlabs_lists_the_accounts_voices(fake, sleeps):
    def voices(request):
        assert request.headers["xi-api-key"] == ELEVENLABS_KEY
        return {"voices": [
            {"voice_id": "JBFqnCBsd6RMkjVDRZzb", "name": "George", "category": "premade",
             "labels": {"accent": "british", "age": "middle aged", "gender": "male"},
             "verified_languages": [{"language": "en", "model_id": "eleven_multilingual_v2", "accent": "british"}]},
            {"voice_id": "cgSgspJ2msm6clMCkdW9", "name": "Jessica", "category": "premade", "labels": {}},
            {"voice_id": "Xb7hH8MSUJpSbSDYk0k2", "name": "Alice", "labels": {"language": "de"}},
        ]}

    fake.route("GET", "/v1/voices", voices)
    found = ELEVENLABS.build(fake, sleeps).voices()
    assert [(v.id, v.label, v.language) for v in found] == [
        ("JBFqnCBsd6RMkjVDRZzb", "George", "en"), ("cgSgspJ2msm6clMCkdW9", "Jessica", "en"),
        ("Xb7hH8MSUJpSbSDYk0k2", "Alice", "de")]


def test_elevenlabs_voice_and_inworld_voice_are_sent(fake, sleeps, tmp_path):
    said = say("Hello there.", 22050)
    fake.route("POST", "/v1/text-to-speech/cgSgspJ2msm6clMCkdW9/with-timestamps",
               lambda request: elevenlabs_reply("Hello there.", said))
    speech = ELEVENLABS.build(fake, sleeps).synthesize("Hello there.", tmp_path / "x.wav", voice="cgSgspJ2msm6clMCkdW9")
    assert_well_timed(speech, "Hello there.")
    fake.route("POST", INWORLD.path, lambda request: inworld_reply("Hello there.", say("Hello there.", 24000))
               if request.json["voiceId"] == "Dennis" else Reply(400, {"code": 3, "message": "wrong voice"}))
    assert_well_timed(INWORLD.build(fake, sleeps).synthesize("Hello there.", tmp_path / "y.wav", voice="Dennis"),
                      "Hello there.")


def test_inworld_without_timestamps_aligns_sentences(fake, sleeps, tmp_path):
    fake.route("POST", INWORLD.path, lambda request: inworld_reply(TEXT, say(TEXT, 24000), timed=False))
    speech = INWORLD.build(fake, sleeps).synthesize(TEXT, tmp_path / "x.wav")
    assert_well_timed(speech)
    assert_near(speech.words, say(TEXT, 24000).words, 0.06)


def test_inworld_raw_key_pair_is_encoded_for_basic_auth(fake, sleeps, tmp_path):
    INWORLD.serve(fake, TEXT)  # expects the Base64 of "key:secret"
    speech = INWORLD.build(fake, sleeps, keys={"INWORLD_TTS_API_KEY": "test-inworld-key:secret"}).synthesize(
        TEXT, tmp_path / "x.wav")
    assert_well_timed(speech)
    assert base64.b64decode(INWORLD.key) == b"test-inworld-key:secret"


def test_gemini_takes_either_google_key(fake, sleeps, tmp_path):
    GEMINI.serve(fake, TEXT)
    provider = GEMINI.build(fake, sleeps, keys={"GOOGLE_API_KEY": GEMINI.key})
    assert_well_timed(provider.synthesize(TEXT, tmp_path / "x.wav"))


# --- from_spoken and align_sentences ------------------------------------------------------------

def test_words_the_voice_normalised_share_the_gap_around_them():
    text = "It costs 3.5 dollars"
    spoken = [("It", 0.0, 0.2), (" ", 0.2, 0.2), ("costs", 0.2, 0.6), (" ", 0.6, 0.6), ("three", 0.6, 0.9),
              (" ", 0.9, 0.9), ("point", 0.9, 1.1), (" ", 1.1, 1.1), ("five", 1.1, 1.4), (" ", 1.4, 1.4),
              ("dollars", 1.4, 1.9)]
    words = from_spoken(text, spoken, 2.0)
    assert [(w.text, round(w.start, 6), round(w.end, 6)) for w in words] == [
        ("It", 0.0, 0.2), ("costs", 0.2, 0.6), ("3.5", 0.6, 1.4), ("dollars", 1.4, 1.9)]


RATE = 16000


def voice(*parts: tuple[str, float]) -> np.ndarray:
    """Audio of ("tone"|"gap", seconds) parts: tones stand in for speech, gaps for pauses."""
    chunks = []
    for kind, seconds in parts:
        n = int(round(seconds * RATE))
        t = np.arange(n) / RATE
        chunks.append(np.sin(2 * np.pi * 220 * t) * 9000 if kind == "tone" else np.zeros(n))
    return np.concatenate(chunks).astype(np.int16)


def test_sentence_breaks_land_on_the_longest_pauses_and_long_words_get_more_time():
    text = "Go internationalization, friends. Yes! Extraordinarily unbelievable results."
    # A comma pause (0.15 s) shorter than both sentence pauses (0.4 s, 0.3 s).
    audio = voice(("gap", 0.2), ("tone", 1.0), ("gap", 0.15), ("tone", 0.4), ("gap", 0.4), ("tone", 0.3),
                  ("gap", 0.3), ("tone", 1.6), ("gap", 0.25))
    words = align_sentences(text, audio, RATE)
    assert [w.text for w in words] == text.split()
    go, inter, friends, yes, extra, unbelievable, results = words
    assert go.start == pytest.approx(0.2, abs=0.011)
    assert friends.end == pytest.approx(1.75, abs=0.011)  # sentence one ends where the first long pause starts
    assert yes.start == pytest.approx(2.15, abs=0.011) and yes.end == pytest.approx(2.45, abs=0.011)
    assert extra.start == pytest.approx(2.75, abs=0.011) and results.end == pytest.approx(4.35, abs=0.011)
    # Within a sentence, words are weighted by how long they take to say, not spread evenly.
    assert inter.end - inter.start > 3 * (go.end - go.start)
    assert extra.end - extra.start > results.end - results.start


def test_fewer_pauses_than_sentences_still_time_every_word():
    text = "One. Two. Three is the longest sentence of the three."
    audio = voice(("tone", 0.8), ("gap", 0.5), ("tone", 2.0))  # one pause, after "Two."
    words = align_sentences(text, audio, RATE)
    assert [w.text for w in words] == text.split()
    assert words[1].end == pytest.approx(0.8, abs=0.011) and words[2].start == pytest.approx(1.3, abs=0.011)
    assert all(a.start <= a.end <= b.start for a, b in zip(words, words[1:]))
    assert words[-1].end == pytest.approx(3.3, abs=0.011)


def test_an_abbreviation_is_not_a_sentence_break():
    text = "The U.S.A. economy grew. Prices fell."
    audio = voice(("tone", 1.2), ("gap", 0.1), ("tone", 0.5), ("gap", 0.5), ("tone", 0.8))
    words = align_sentences(text, audio, RATE)
    # One break: the long pause, after "grew." — not the short one inside sentence one.
    assert words[3].end == pytest.approx(1.8, abs=0.011) and words[4].start == pytest.approx(2.3, abs=0.011)


# --- Kokoro: local, optional -------------------------------------------------------------------

def test_kokoro_without_a_model_says_what_to_install_and_set(tmp_path):
    for keys in ({}, {"MONEYREELS_KOKORO_MODEL": str(tmp_path / "missing.onnx")}):
        error = raised(lambda: KokoroTTS(keys), TTSError)
        assert "MONEYREELS_KOKORO_MODEL" in error.message and "kokoro-onnx" in error.message
        assert error.message.startswith("Kokoro (local): ")


@pytest.fixture
def kokoro_files(tmp_path):
    (tmp_path / "kokoro-v1.0.onnx").write_bytes(b"onnx")
    (tmp_path / "voices-v1.0.bin").write_bytes(b"voices")
    return {"MONEYREELS_KOKORO_MODEL": str(tmp_path / "kokoro-v1.0.onnx")}


def test_kokoro_without_the_package_says_so(kokoro_files, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "kokoro_onnx", None)  # import fails as if not installed
    error = raised(lambda: KokoroTTS(kokoro_files).synthesize("Hello.", tmp_path / "x.wav"), TTSError)
    assert "kokoro-onnx package is not installed" in error.message and "MONEYREELS_KOKORO_MODEL" in error.message


def test_kokoro_speaks_through_kokoro_onnx(kokoro_files, tmp_path, monkeypatch):
    calls = []

    class Kokoro:  # kokoro-onnx's interface: Kokoro(model, voices).create(...) -> (float samples, rate)
        def __init__(self, model, voices):
            calls.append(("load", model, voices))

        def get_voices(self):
            return ["bf_emma", "af_sarah"]

        def create(self, text, voice, speed, lang):
            calls.append(("create", text, voice, speed, lang))
            said = say(text, 24000)
            return said.samples.astype(np.float32) / 32768, 24000

    monkeypatch.setitem(sys.modules, "kokoro_onnx", types.SimpleNamespace(Kokoro=Kokoro))
    tts = KokoroTTS(kokoro_files)
    assert [(v.id, v.language) for v in tts.voices()] == [("af_sarah", "en"), ("bf_emma", "en")]
    speech = tts.synthesize(TEXT, tmp_path / "x.wav", voice="bf_emma", speed=3.0)
    assert calls == [("load", kokoro_files["MONEYREELS_KOKORO_MODEL"], str(tmp_path / "voices-v1.0.bin")),
                     ("create", TEXT, "bf_emma", 2.0, "en-gb")]
    assert speech.duration == pytest.approx(say(TEXT, 24000).duration / 1.5, rel=0.02)
    assert_well_timed(speech)


# --- the registry ------------------------------------------------------------------------------

def test_registry_lists_every_provider():
    assert list(TTS_PROVIDERS) == ["piper", "espeak", "kokoro", "openai-tts", "elevenlabs", "gemini-tts", "inworld"]
    assert {spec["key"]: spec["requires"] for spec in PROVIDERS}["gemini-tts"] == ("GOOGLE_API_KEY", "GEMINI_API_KEY")


def test_available_follows_keys_and_the_kokoro_model(kokoro_files):
    # Piper is off in tests not about it (tests/conftest.py).
    assert available({}) == {"piper": False, "espeak": True, "kokoro": False, "openai-tts": False,
                             "elevenlabs": False, "gemini-tts": False, "inworld": False}
    assert available({"GEMINI_API_KEY": "k", "ELEVENLABS_API_KEY": "k", **kokoro_files}) == {
        "piper": False, "espeak": True, "kokoro": True, "openai-tts": False, "elevenlabs": True, "gemini-tts": True,
        "inworld": False}


def test_build_makes_each_provider_or_says_why_not(kokoro_files):
    assert isinstance(build("espeak", {}), EspeakTTS)
    assert isinstance(build("kokoro", kokoro_files), KokoroTTS)
    for api in APIS:
        provider = build(api.name, api.keys)
        assert isinstance(provider, api.cls) and isinstance(provider, TTSProvider)
        assert raised(lambda: build(api.name, {})).code == "missing_key"
    error = raised(lambda: build("polly", {}))
    assert (error.code, error.status) == ("unknown_provider", 400) and "espeak" in error.message
