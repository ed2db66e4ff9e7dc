"""Benchmark the offline voices (Piper, eSpeak NG): seconds of speech made per second of wall time.

Cases: a ~75-word reel script in one call, and 10 short sentences in 10 calls (how a pipeline
that speaks scene by scene uses it). Each voice's one-time start-up (Piper: loading and patching
the model, and its first, slower inference) is reported apart.

Run: python bench/tts_bench.py  (prints a table; no assertions)
"""

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moneyreels.providers.tts import EspeakTTS, TTSProvider  # noqa: E402
from moneyreels.providers.tts.piper import PiperTTS  # noqa: E402

RUNS = 5
SCRIPT = (
    "Most people think saving money is about willpower. It is not. It is about systems. "
    "Set up an automatic transfer on payday, so the money leaves before you can spend it. "
    "Cancel one subscription you forgot about, and cook at home three nights a week. "
    "Put every windfall, every bonus and every refund straight into savings. "
    "Do this for one year, and you will not recognise your bank balance. Follow for more money tips."
)
SENTENCES = [
    "Stop scrolling for a second.", "Here is the trick nobody tells you.", "Pay yourself first.",
    "Automate it on payday.", "Cut one subscription today.", "Cook at home three nights a week.",
    "Save every windfall.", "Check your balance monthly.", "Watch it grow.", "Follow for more.",
]


def speak_all(tts: TTSProvider, texts: list[str], folder: Path) -> tuple[float, float]:
    """Speak texts one call each; return (seconds of speech, seconds of wall time)."""
    started = time.perf_counter()
    speech = sum(tts.synthesize(text, folder / f"{i}.wav").duration for i, text in enumerate(texts))
    return speech, time.perf_counter() - started


def main():
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        piper = PiperTTS({})
        started = time.perf_counter()
        piper.load()
        print(f"Piper: loading en_US-joe-medium, patched for alignments: {time.perf_counter() - started:.2f} s")
        for tts in (piper, EspeakTTS()):
            started = time.perf_counter()
            tts.synthesize("Hello.", folder / "warm.wav")
            startup = time.perf_counter() - started
            print(f"{tts.label}: start-up and first word (once per process): {startup * 1000:.0f} ms")
            print(f"{'case':<28}{'words':>6}{'speech s':>10}{'wall ms':>10}{'x real time':>13}")
            for name, texts in [("75-word script, 1 call", [SCRIPT]), ("10 sentences, 10 calls", SENTENCES)]:
                runs = [speak_all(tts, texts, folder) for _ in range(RUNS)]
                speech = runs[0][0]
                wall = statistics.median(w for _, w in runs)
                words = sum(len(t.split()) for t in texts)
                print(f"{name:<28}{words:>6}{speech:>10.1f}{wall * 1000:>10.1f}{speech / wall:>13.1f}")
            print()


if __name__ == "__main__":
    main()
