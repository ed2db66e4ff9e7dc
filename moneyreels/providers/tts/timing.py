"""Word timings for voices that give few or none: from a provider's own times, or from the audio.

`from_spoken` and `match_words` map what a voice says it spoke (characters, words or phonemes,
each timed) onto the input's words. `align_sentences` needs only the audio: sentence ends sit on its longest pauses,
and eSpeak NG, whose word timings are exact for its own voice, weights the words in between.
"""

import difflib
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from moneyreels.providers.tts.align import FRAME_SECONDS, voiced_frames
from moneyreels.providers.tts.base import WordTiming
from moneyreels.providers.tts.espeak import EspeakTTS

MIN_PAUSE = 0.08  # seconds: shorter silences are stops inside words, not sentence breaks
_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*$")

Span = tuple[float, float]


def from_spoken(text: str, spoken: Sequence[tuple[str, float, float]], duration: float) -> list[WordTiming]:
    """Time each whitespace-separated word of text from (piece, start, end) in spoken order.

    Pieces are characters, or words with " " pieces between them. The words they spell are
    matched to the text's by a diff, so text the voice normalised ("3.5" read as "three point
    five") loses only its own words' times: those words share the gap between their neighbours.
    """
    said = "".join(piece for piece, _, _ in spoken)
    times = [(start, end) for piece, start, end in spoken for _ in piece]
    heard = [(_folded(word.group()), min(s for s, _ in times[word.start():word.end()]),
              max(e for _, e in times[word.start():word.end()])) for word in re.finditer(r"\S+", said)]
    return match_words(text, [[_folded(word)] for word in text.split()], heard, duration)


def match_words(text: str, expected: Sequence[Sequence[str]], heard: Sequence[tuple[str, float, float]],
                duration: float) -> list[WordTiming]:
    """Time each whitespace-separated word of text from the words a voice said, timed.

    expected holds, per word of text, the keys it should sound as ("$5" may be two: "five",
    "dollars"); heard, each key the voice said with its (start, end). A diff pairs them: keys that
    differ in the middle of one word's ("e.g." said "for example") still time that word, and words
    the diff cannot place share the gap between their neighbours.
    """
    words = list(re.finditer(r"\S+", text))
    flat = [(index, key) for index, keys in enumerate(expected) for key in keys]
    # Keys, not characters: a character diff of a long script takes seconds.
    matcher = difflib.SequenceMatcher(None, [key for _, key in flat], [key for key, _, _ in heard], autojunk=False)
    spans: list[Span | None] = [None] * len(words)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        owners = {index for index, _ in flat[a0:a1]}
        if tag == "equal":
            pairs = [(flat[a0 + k][0], heard[b0 + k]) for k in range(a1 - a0)]
        elif tag == "replace" and len(owners) == 1:
            (owner,) = owners
            pairs = [(owner, said) for said in heard[b0:b1]]
        else:
            continue
        for index, (_, start, end) in pairs:
            known = spans[index]
            spans[index] = (start, end) if known is None else (min(known[0], start), max(known[1], end))
    return _tidy(words, _fill(spans, [len(word.group()) for word in words], duration), duration)


def _folded(word: str) -> str:
    """Compare words by letters and digits only: voices drop or change punctuation."""
    return re.sub(r"\W+", "", word.lower()) or word


def align_sentences(text: str, audio: np.ndarray, rate: int) -> list[WordTiming]:
    """Time each whitespace-separated word of text from the audio alone.

    Sentence breaks go on the longest pauses, as many as the text has breaks; each stretch of
    audio between them gets its words in the proportions eSpeak NG speaks them.
    """
    words = list(re.finditer(r"\S+", text))
    if not words:
        return []
    duration = audio.size / rate
    estimate = _espeak_spans(text)
    breaks = [i for i in range(len(words) - 1) if _ends_sentence(words[i].group(), words[i + 1].group())]
    voiced = voiced_frames(audio, rate)
    if voiced.any():
        first, last = np.flatnonzero(voiced)[[0, -1]]
        speech = (first * FRAME_SECONDS, (last + 1) * FRAME_SECONDS)
    else:
        speech = (0.0, duration)
    pauses = _pauses(voiced)
    cuts = _assign(breaks, pauses, estimate, speech)  # word index before each cut -> its pause
    spans: list[Span] = []
    begin, start = 0, speech[0]
    for after, (pause_start, pause_end) in [*cuts, (len(words) - 1, (speech[1], speech[1]))]:
        spans += _stretch(estimate[begin:after + 1], start, pause_start)
        begin, start = after + 1, pause_end
    return _tidy(words, spans, duration)


def _ends_sentence(word: str, following: str) -> bool:
    # "U.S.A. café" or "e.g. this": a lower-case word after a full stop continues the sentence.
    return bool(_SENTENCE_END.search(word)) and not following[0].islower()


def _espeak_spans(text: str) -> list[Span]:
    """Return eSpeak NG's (start, end) for every word of text: its own timings are exact."""
    with tempfile.TemporaryDirectory(prefix="moneyreels-align-") as folder:
        speech = EspeakTTS().synthesize(text, Path(folder) / "estimate.wav")
    return [(word.start, word.end) for word in speech.words]


def _pauses(voiced: np.ndarray) -> list[Span]:
    """Return the (start, end) seconds of every silence of MIN_PAUSE or more between voiced frames."""
    frames = np.flatnonzero(voiced)
    silent = np.diff(frames) - 1  # silent frames after each voiced frame, up to the next voiced one
    return [((frames[k] + 1) * FRAME_SECONDS, frames[k + 1] * FRAME_SECONDS)
            for k in np.flatnonzero(silent >= round(MIN_PAUSE / FRAME_SECONDS))]


def _assign(breaks: list[int], pauses: list[Span], estimate: list[Span], speech: Span) -> list[tuple[int, Span]]:
    """Pair sentence breaks with pauses, in order; return (word index before the break, pause).

    With a pause for every break, the longest pauses are the breaks. With too few, each pause
    takes the break eSpeak's timing puts nearest, and the other breaks fall inside a stretch.
    """
    if len(pauses) >= len(breaks):
        longest = sorted(pauses, key=lambda pause: pause[1] - pause[0], reverse=True)[:len(breaks)]
        return list(zip(breaks, sorted(longest)))
    (e0, e1), (s0, s1) = (estimate[0][0], estimate[-1][1]), speech
    expected = [s0 + ((estimate[i][1] + estimate[i + 1][0]) / 2 - e0) / max(e1 - e0, 1e-9) * (s1 - s0)
                for i in breaks]
    cuts, next_break = [], 0
    for n, pause in enumerate(pauses):
        # Leave a break for every pause still to come.
        options = range(next_break, len(breaks) - (len(pauses) - n) + 1)
        chosen = min(options, key=lambda j: abs(expected[j] - (pause[0] + pause[1]) / 2))
        cuts.append((breaks[chosen], pause))
        next_break = chosen + 1
    return cuts


def _stretch(estimate: list[Span], start: float, end: float) -> list[Span]:
    """Map eSpeak's spans for a stretch of words linearly onto [start, end] of the real audio."""
    e0, e1 = estimate[0][0], estimate[-1][1]
    scale = (end - start) / max(e1 - e0, 1e-9)
    return [(start + (s - e0) * scale, start + (e - e0) * scale) for s, e in estimate]


def _fill(spans: list[Span | None], weights: list[int], duration: float) -> list[Span]:
    """Give each run of untimed words the gap around it, shared by their lengths."""
    filled: list[Span] = []
    i = 0
    while i < len(spans):
        if spans[i] is not None:
            filled.append(spans[i])
            i += 1
            continue
        end = i
        while end < len(spans) and spans[end] is None:
            end += 1
        gap_start = filled[-1][1] if filled else 0.0
        gap_end = max(gap_start, spans[end][0] if end < len(spans) else duration)
        shares = np.concatenate([[0], np.cumsum(weights[i:end])]) / sum(weights[i:end])
        edges = gap_start + shares * (gap_end - gap_start)
        filled += [(float(a), float(b)) for a, b in zip(edges[:-1], edges[1:])]
        i = end
    return filled


def _tidy(words: list[re.Match], spans: list[Span], duration: float) -> list[WordTiming]:
    """Clamp to the clip, keep starts in order and stop each word where the next begins."""
    timings: list[WordTiming] = []
    for i, (word, (start, end)) in enumerate(zip(words, spans)):
        start = min(max(start, timings[-1].start if timings else 0.0), duration)
        following = spans[i + 1][0] if i + 1 < len(spans) else duration
        end = min(max(end, start), max(following, start), duration)
        timings.append(WordTiming(word.group(), float(start), float(end)))
    return timings
