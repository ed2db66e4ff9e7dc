"""Turn a provider's word marks into one caption timing per input word, trimmed to voiced audio."""

import bisect
import re
from collections.abc import Callable

import numpy as np

from moneyreels.providers.tts.base import WordTiming

FRAME_SECONDS = 0.01  # energy is measured per 10 ms frame
SILENCE_RATIO = 0.05  # a frame is voiced above 5% of the loud frames' level...
SILENCE_FLOOR = 100  # ...and above this RMS (of 32767), so a near-silent clip stays silent
SHORT_WORD = 0.12  # seconds: the least a word is shown, and the slot of a word the voice skips


def word_timings(text: str, marks: list[tuple[int, float]], samples: np.ndarray,
                 rate: int) -> list[WordTiming]:
    """Time each whitespace-separated word of text.

    marks are (0-based character offset into text, seconds) where the voice began saying
    something. A word starts at its first mark and ends where its voiced audio does before
    the next word starts, so a caption does not linger over a pause. Words without a mark
    (a dash, a lone symbol) get a short slot after the word before.
    """
    words = list(re.finditer(r"\S+", text))
    duration = samples.size / rate
    offsets = [word.start() for word in words]
    starts: list[float | None] = [None] * len(words)
    for offset, at in marks:
        # A mark between words (espeak puts some after symbols) belongs to the word before.
        index = max(0, bisect.bisect_right(offsets, offset) - 1)
        at = min(at, duration)
        starts[index] = at if starts[index] is None else min(starts[index], at)
    voiced_until = _voiced_end_finder(samples, rate)
    _fill_unmarked(starts, voiced_until, duration)
    timings = []
    for i, word in enumerate(words):
        limit = starts[i + 1] if i + 1 < len(words) else duration
        end = max(voiced_until(starts[i], limit), min(starts[i] + SHORT_WORD, limit))
        timings.append(WordTiming(word.group(), float(starts[i]), float(end)))
    return timings


def _fill_unmarked(starts: list[float | None], voiced_until: Callable[[float, float], float],
                   duration: float) -> None:
    """Make starts monotonic and give each run of unmarked words short slots after the word before."""
    i, previous = 0, 0.0
    while i < len(starts):
        if starts[i] is not None:
            previous = starts[i] = max(starts[i], previous)
            i += 1
            continue
        run_end = i
        while run_end < len(starts) and starts[run_end] is None:
            run_end += 1
        following = max(previous, starts[run_end]) if run_end < len(starts) else duration
        count = run_end - i
        begin = max(previous, min(voiced_until(previous, following), following - count * SHORT_WORD))
        step = min(SHORT_WORD, (following - begin) / count)
        for j in range(count):
            starts[i + j] = begin + j * step
        previous, i = starts[run_end - 1], run_end


def voiced_frames(samples: np.ndarray, rate: int) -> np.ndarray:
    """Return one bool per FRAME_SECONDS frame: whether it is louder than silence."""
    frame = max(1, round(rate * FRAME_SECONDS))
    count = samples.size // frame
    frames = samples[: count * frame].astype(np.float32).reshape(count, frame)
    rms = np.sqrt((frames ** 2).mean(axis=1))
    loud = np.percentile(rms, 90) if count else 0.0
    return rms > max(SILENCE_FLOOR, SILENCE_RATIO * loud)


def _voiced_end_finder(samples: np.ndarray, rate: int) -> Callable[[float, float], float]:
    """Return f(start, stop): the end of the last voiced frame in [start, stop), or start if none."""
    frame = max(1, round(rate * FRAME_SECONDS))
    voiced = np.flatnonzero(voiced_frames(samples, rate))

    def voiced_until(start: float, stop: float) -> float:
        first, last = int(start * rate) // frame, int(stop * rate) // frame
        index = np.searchsorted(voiced, last) - 1  # the last voiced frame before stop
        if index < 0 or voiced[index] < first:
            return start
        return min(stop, (voiced[index] + 1) * frame / rate)

    return voiced_until
