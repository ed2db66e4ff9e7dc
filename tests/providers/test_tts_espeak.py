"""EspeakTTS: real synthesis through the bundled libespeak-ng, checked against the audio it writes."""

import json
import shutil
import subprocess
import threading
import wave

import numpy as np
import pytest

from moneyreels.providers.tts import EspeakTTS, Speech, TTSError, TTSProvider, Voice
from moneyreels.providers.tts.align import word_timings

TRICKY = ('Hello world, the spoils. Of war — are “great” 3.5 times & U.S.A. café naïve well-known.\n'
          'Wait... what?! It\'s 1,000,000 dollars.')
SENTENCE = "Saving money is about systems, not willpower."


@pytest.fixture(scope="module")
def tts():
    return EspeakTTS()


@pytest.fixture(scope="module")
def spoken(tts, tmp_path_factory):
    """TRICKY spoken once for the tests that only read the result."""
    return tts.synthesize(TRICKY, tmp_path_factory.mktemp("tts") / "tricky.wav")


def samples(speech: Speech) -> np.ndarray:
    with wave.open(str(speech.path)) as wav:
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float64)


def rms(audio: np.ndarray, start: float, end: float, rate: int = 22050) -> float:
    part = audio[int(start * rate):int(end * rate)]
    return float(np.sqrt((part ** 2).mean())) if part.size else 0.0


def test_is_a_local_tts_provider(tts):
    assert isinstance(tts, TTSProvider)
    assert (tts.key, tts.label, tts.requires) == ("espeak", "eSpeak NG (local)", ())


def test_writes_mono_16_bit_wav_as_long_as_reported(spoken):
    with wave.open(str(spoken.path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 22050)
        assert wav.getnframes() / wav.getframerate() == pytest.approx(spoken.duration)
    assert 5 < spoken.duration < 15


@pytest.mark.skipif(not shutil.which("ffprobe"), reason="needs ffprobe")
def test_ffprobe_reads_the_wav(spoken):
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(spoken.path)],
                           capture_output=True, text=True, check=True)
    (stream,) = json.loads(probe.stdout)["streams"]
    assert (stream["codec_name"], stream["channels"], stream["sample_rate"]) == ("pcm_s16le", 1, "22050")
    assert float(stream["duration"]) == pytest.approx(spoken.duration, abs=0.001)


def test_times_every_input_word_as_written_in_order(spoken):
    assert [w.text for w in spoken.words] == TRICKY.split()
    for word, following in zip(spoken.words, spoken.words[1:] + [None]):
        assert 0 <= word.start < word.end <= spoken.duration
        if following:
            assert word.end <= following.start


def test_word_espeak_skips_gets_a_short_slot_between_its_neighbours(spoken):
    texts = [w.text for w in spoken.words]
    before, dash, after = spoken.words[texts.index("—") - 1:texts.index("—") + 2]
    assert before.end <= dash.start < dash.end <= after.start
    assert dash.end - dash.start <= 0.15


def test_words_sit_on_speech_and_sentence_pauses_are_silent(spoken):
    audio = samples(spoken)
    spoken_words = [w for w in spoken.words if any(c.isalnum() for c in w.text)]
    loud = [w for w in spoken_words if rms(audio, w.start, w.end) > 1000]
    assert len(loud) >= 0.9 * len(spoken_words)
    texts = [w.text for w in spoken.words]
    for last in ("spoils.", "well-known.", "what?!"):
        end, start = spoken.words[texts.index(last)].end, spoken.words[texts.index(last) + 1].start
        assert start - end > 0.1, last  # the caption leaves before the pause...
        assert rms(audio, end, start) < 50, last  # ...which is silent


def test_alignment_trims_pauses_and_slots_unmarked_words():
    rate = 1000
    audio = np.zeros(3000, dtype=np.int16)
    audio[0:400] = audio[1000:1300] = 8000  # two words, a pause after each
    text = "— one, — two. —"
    timings = word_timings(text, [(2, 0.0), (9, 1.0)], audio, rate)
    assert [(w.text, round(w.start, 3), round(w.end, 3)) for w in timings] == [
        ("—", 0.0, 0.0), ("one,", 0.0, 0.4), ("—", 0.4, 0.52), ("two.", 1.0, 1.3), ("—", 1.3, 1.42)]


def test_longer_text_gives_proportionally_longer_audio(tts, tmp_path):
    one = tts.synthesize(SENTENCE, tmp_path / "one.wav")
    four = tts.synthesize(" ".join([SENTENCE] * 4), tmp_path / "four.wav")
    assert 3.5 < four.duration / one.duration < 4.5
    assert len(four.words) == 4 * len(one.words)


def test_speed_changes_the_pace(tts, tmp_path):
    fast = tts.synthesize(SENTENCE, tmp_path / "fast.wav", speed=1.5)
    slow = tts.synthesize(SENTENCE, tmp_path / "slow.wav", speed=0.75)
    assert fast.duration < 0.65 * slow.duration


def test_lists_voices_including_english_and_speaks_with_them(tts, tmp_path):
    voices = tts.voices()
    ids = [v.id for v in voices]
    assert len(ids) == len(set(ids)) > 20
    assert all(isinstance(v, Voice) and v.label for v in voices)
    english = {v.id for v in voices if v.language == "en"}
    assert {"en-us", "en-gb"} <= english
    us = tts.synthesize(SENTENCE, tmp_path / "us.wav", voice="en-us")
    gb = tts.synthesize(SENTENCE, tmp_path / "gb.wav", voice="en-gb")
    assert not np.array_equal(samples(us), samples(gb))
    german = tts.synthesize("Sparen ist eine Frage von Systemen.", tmp_path / "de.wav", voice="de")
    assert [w.text for w in german.words] == ["Sparen", "ist", "eine", "Frage", "von", "Systemen."]


def test_every_listed_voice_says_something(tts, tmp_path):
    silent = [v.id for v in tts.voices() if tts.synthesize("a 1", tmp_path / "v.wav", voice=v.id).duration < 0.2]
    assert silent == []


@pytest.mark.parametrize("voice", ["en", "fr", "es", "EN-GB", "en-us+f3"])
def test_takes_language_codes_voices_also_serve_and_variants(tts, tmp_path, voice):
    assert tts.synthesize(SENTENCE, tmp_path / "v.wav", voice=voice).duration > 1


def test_unknown_voice_is_a_tts_error_naming_it(tts, tmp_path):
    with pytest.raises(TTSError) as caught:
        tts.synthesize(SENTENCE, tmp_path / "x.wav", voice="klingon-xx")
    assert caught.value.code == "tts_failed"
    assert "eSpeak NG" in caught.value.message and "klingon-xx" in caught.value.message


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_text_is_a_tts_error(tts, tmp_path, text):
    with pytest.raises(TTSError, match="eSpeak NG"):
        tts.synthesize(text, tmp_path / "x.wav")


UNREADABLE = ["Money 💰 talks 🚀🚀 loud.", "日本語 のテキスト", "💰", "— …"]


@pytest.mark.parametrize("text", UNREADABLE)
def test_text_espeak_cannot_read_still_gets_timed(tts, tmp_path, text):
    speech = tts.synthesize(text, tmp_path / "x.wav")
    assert [w.text for w in speech.words] == text.split()
    assert all(0 <= w.start <= w.end <= speech.duration for w in speech.words)


def test_threads_speaking_at_once_each_get_their_own_speech(tts, tmp_path):
    texts = [f"Thread {n} says: " + " ".join([SENTENCE] * (n + 1)) for n in range(4)]
    expected = [tts.synthesize(t, tmp_path / f"serial{n}.wav") for n, t in enumerate(texts)]
    results: dict[int, Speech] = {}

    def speak(n: int):
        results[n] = tts.synthesize(texts[n], tmp_path / f"thread{n}.wav")

    threads = [threading.Thread(target=speak, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # espeak varies a few samples from one run to the next, so results are compared, not hashed.
    for n, text in enumerate(texts):
        assert [w.text for w in results[n].words] == text.split()
        assert results[n].duration == pytest.approx(expected[n].duration, abs=0.01)
        starts = [w.start for w in results[n].words]
        assert starts == pytest.approx([w.start for w in expected[n].words], abs=0.01)
        assert samples(results[n]).size == round(results[n].duration * 22050)
