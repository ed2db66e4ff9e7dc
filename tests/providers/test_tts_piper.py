"""PiperTTS: real synthesis with the bundled en_US-joe-medium voice, its word times checked against its audio."""

import os
import shutil
import wave

import numpy as np
import pytest

from moneyreels.providers.tts import TTSError, TTSProvider, language_voice, local_provider
from moneyreels.providers.tts.align import FRAME_SECONDS, voiced_frames
from moneyreels.providers.tts.piper import DEFAULT_VOICE, VOICES_SETTING, PiperTTS, installed

# Pauses (commas, full stops) between words let the audio itself show where those words begin.
PAUSED = "Money, land, gold. $120,000, nine, 7%, and more."
ONSET_TOLERANCE = 0.05  # seconds: the target for every caption word
# A caption word may also lead the audio by up to this: the energy detector below finds a soft
# vowel's start late (over twenty syntheses, "e.g." began 31-52 ms before its detected onset).
ONSET_LEAD = 0.08
# Seconds of silence before a voiced frame that count as a spoken onset. Piper samples its audio
# afresh each time: over ten syntheses of PAUSED, the closure before a stop inside a word ("gold.")
# lasted up to 80 ms, the pauses at commas and full stops 190 ms or more.
MIN_PAUSE = 0.12


@pytest.fixture(scope="module")
def tts():
    return PiperTTS({})


@pytest.fixture(scope="module")
def paused(tts, tmp_path_factory):
    return tts.synthesize(PAUSED, tmp_path_factory.mktemp("piper") / "paused.wav")


def read(path) -> tuple[int, np.ndarray]:
    with wave.open(str(path)) as wav:
        return wav.getframerate(), np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")


def onsets_after_pauses(path) -> list[float]:
    """Seconds at which speech resumes after a silence: measured from the audio, not from the voice's report."""
    rate, audio = read(path)
    voiced = np.flatnonzero(voiced_frames(audio, rate))
    silent = np.diff(voiced) - 1
    resumed = voiced[1:][silent >= round(MIN_PAUSE / FRAME_SECONDS)]
    return [float(frame * FRAME_SECONDS) for frame in (voiced[0], *resumed)]


def heard_at(start: float, onset: float) -> bool:
    """Return whether a word starting at `start` is timed to speech resuming at `onset`."""
    return -ONSET_LEAD <= start - onset <= ONSET_TOLERANCE


def test_is_a_local_tts_provider_offering_the_bundled_voice(tts):
    assert isinstance(tts, TTSProvider)
    assert (tts.key, tts.requires) == ("piper", ())
    assert [(voice.id, voice.label, voice.language) for voice in tts.voices()] == [
        (DEFAULT_VOICE, "Joe (en_US, medium)", "en")]


def test_writes_mono_16_bit_wav_as_long_as_reported(paused):
    rate, audio = read(paused.path)
    assert rate == 22050 and audio.size / rate == pytest.approx(paused.duration)
    assert 3 < paused.duration < 12 and np.abs(audio).max() > 10000


def test_caption_words_are_the_words_as_written(paused):
    assert [word.text for word in paused.words] == PAUSED.split()
    amount = paused.words[3]
    # "$120,000" is said as four words, and captioned as one that lasts as long as they do.
    assert amount.text == "$120,000," and amount.end - amount.start > 1.2
    for before, after in zip(paused.words, paused.words[1:]):
        assert before.start < before.end <= after.start


def test_every_word_after_a_pause_starts_where_the_audio_resumes(paused):
    onsets = onsets_after_pauses(paused.path)
    words = paused.words
    for onset in onsets:
        inside = [word.text for word in words if word.start + ONSET_TOLERANCE < onset < word.end]
        if inside in (["$120,000,"], ["7%,"]):
            continue  # a pause between the words an amount is said as ("seven ... percent")
        nearest = min(words, key=lambda word: abs(word.start - onset))
        assert heard_at(nearest.start, onset), f"speech resumes at {onset:.3f}s, inside {inside}"
    # Every word after a comma or full stop (and the first) begins after a pause the audio shows.
    follows_pause = [words[0], *(word for before, word in zip(words, words[1:]) if before.text[-1] in ",.")]
    assert len(follows_pause) == 7
    for word in follows_pause:
        assert any(heard_at(word.start, onset) for onset in onsets), word


def test_a_word_said_otherwise_in_context_still_starts_where_it_is_heard(tts, tmp_path):
    # Alone, espeak reads "e.g." as letters; in a sentence, as "for example": matched all the same.
    speech = tts.synthesize("Automate it, e.g. on payday.", tmp_path / "eg.wav")
    said = speech.words[2]
    assert said.text == "e.g." and said.end - said.start > 0.4  # four syllables, not a gap's share
    assert any(heard_at(said.start, onset) for onset in onsets_after_pauses(speech.path))


def test_each_word_spans_mostly_voiced_audio(paused):
    rate, audio = read(paused.path)
    voiced = voiced_frames(audio, rate)
    for word in paused.words:
        frames = voiced[int(word.start / FRAME_SECONDS): int(word.end / FRAME_SECONDS)]
        assert frames.mean() > 0.6, f"{word.text!r} is mostly silence"


def test_speed_shortens_the_speech(tts, paused, tmp_path):
    fast = tts.synthesize(PAUSED, tmp_path / "fast.wav", speed=1.5)
    assert fast.duration < 0.8 * paused.duration
    assert [word.text for word in fast.words] == PAUSED.split()


@pytest.mark.parametrize("text, voice, message", [
    ("   ", None, "there is no text to speak"),
    ("Hello.", "xx_XX-nobody-low", "unknown voice 'xx_XX-nobody-low'; installed: en_US-joe-medium"),
])
def test_refuses_what_it_cannot_say(tts, tmp_path, text, voice, message):
    with pytest.raises(TTSError, match=message):
        tts.synthesize(text, tmp_path / "x.wav", voice=voice)


@pytest.fixture
def voices_dir(tmp_path):
    """A voices folder holding the bundled voice again as en_GB-test-medium, and a model without its config."""
    model, config = installed({})[DEFAULT_VOICE]
    folder = tmp_path / "voices"
    folder.mkdir()
    os.symlink(model, folder / "en_GB-test-medium.onnx")
    shutil.copy(config, folder / "en_GB-test-medium.onnx.json")
    (folder / "de_DE-lonely-low.onnx").write_bytes(b"no config beside it")
    return folder


def test_a_voices_folder_adds_its_voices(voices_dir, tmp_path, piper_voice):
    keys = {VOICES_SETTING: str(voices_dir)}
    tts = PiperTTS(keys)
    assert [voice.id for voice in tts.voices()] == [DEFAULT_VOICE, "en_GB-test-medium"]
    assert local_provider("en_GB-test-medium", keys) == "piper"
    assert local_provider("de_DE-lonely-low", keys) is None
    assert language_voice("en-gb", keys) == "en_GB-test-medium" and language_voice("en-us", keys) == DEFAULT_VOICE
    speech = tts.synthesize("Hello there.", tmp_path / "gb.wav", voice="en_GB-test-medium")
    assert [word.text for word in speech.words] == ["Hello", "there."] and speech.duration > 0.5


def test_voice_names_pick_their_local_provider(piper_voice):
    assert local_provider(None, {}) == "piper"
    assert local_provider(DEFAULT_VOICE, {}) == "piper"
    assert [local_provider(name, {}) for name in ("en-us", "fr", "en-us+f3")] == ["espeak"] * 3
    assert local_provider("alloy", {}) is None
    assert language_voice("en-gb", {}) == DEFAULT_VOICE and language_voice("fr", {}) == "fr"


def test_without_piper_espeak_is_the_default():
    assert local_provider(None, {}) == "espeak" and local_provider(DEFAULT_VOICE, {}) is None


def test_providers_lists_the_installed_piper_voices(client, voices_dir, configure, piper_voice):
    configure(piper_voices_dir=str(voices_dir))
    (entry,) = [entry for entry in client.get("/api/v1/providers").json["tts"] if entry["key"] == "piper"]
    assert entry["available"] is True and entry["requires"] == []
    assert [voice["id"] for voice in entry["voices"]] == [DEFAULT_VOICE, "en_GB-test-medium"]
