"""A small builder for one ffmpeg invocation: numbered inputs and a labelled filter_complex."""

from fractions import Fraction
from pathlib import Path

from PIL import Image

from moneyreels.render.assets import Source
from moneyreels.render.probe import input_guard

# What we draw reaches ffmpeg as run-length coded TGA, pixel for pixel what a PNG holds: drawn
# sprites are mostly runs of transparency, so Pillow writes it four times as fast as a level-1
# PNG and ffmpeg reads a caption track in two thirds of the time (README, Performance).
DRAWN = ".tga"


class Graph:
    """Collect inputs and filter chains; hand out unique pad labels."""

    def __init__(self, fps: float, rw_timeout: float):
        self.rate = Fraction(fps).limit_denominator(1001)
        self.rw_timeout = rw_timeout
        self.inputs: list[list[str]] = []
        self.chains: list[str] = []
        self._count = 0
        self._frames: dict[Path, int] = {}

    @property
    def time_base(self) -> str:
        return f"{self.rate.denominator}/{self.rate.numerator}"

    def label(self, stem: str) -> str:
        self._count += 1
        return f"{stem}{self._count}"

    def add_input(self, args: list[str]) -> int:
        """Append an input (its options then -i ...); return its index."""
        self.inputs.append(args)
        return len(self.inputs) - 1

    def media_input(self, source: Source, *, seek: float = 0.0, duration: float | None = None, loop=False) -> int:
        """Add a fetched asset, reading only [seek, seek+duration) of it."""
        args = input_guard(source.remote, self.rw_timeout)
        if source.info.is_still:
            args += ["-framerate", str(self.rate)]
        else:
            args += ["-stream_loop", "-1"] if loop else []
            args += ["-ss", seconds(seek)] if seek else []
            args += ["-t", seconds(duration)] if duration else []
        return self.add_input(args + ["-i", source.location])

    def still_input(self, path: Path) -> int:
        """Add an image we drew (save_drawn); ffmpeg decodes it once."""
        return self.add_input(["-protocol_whitelist", "file", "-framerate", str(self.rate), "-i", str(path)])

    def frame_input(self, path: Path) -> str:
        """Return the video pad of a one-frame file we wrote (a Y4M), added once however many chains read it."""
        if path not in self._frames:
            self._frames[path] = self.add_input(["-protocol_whitelist", "file", "-i", str(path)])
        return f"{self._frames[path]}:v"

    def chain(self, inputs: list[str], filters: list[str], stem: str = "v") -> str:
        """Append `[inputs]f1,f2,...[out]`; return the out label."""
        out = self.label(stem)
        pads = "".join(f"[{name}]" for name in inputs)
        self.chains.append(f"{pads}{','.join(filters) or 'null'}[{out}]")
        return out

    def filter_complex(self) -> str:
        return ";".join(self.chains)

    def args(self, script: Path) -> list[str]:
        """Write the filtergraph to script; return every input's arguments and the option that reads it.

        From a file: a graph of many layers outgrows the 128 KiB the kernel allows one argument.
        One filter thread: slicing each filter's small jobs across threads cost more in wake-ups
        than it saved, beside an encoder that keeps every core busy (4 % of the bench reels' time).
        """
        script.write_text(self.filter_complex())
        flat = [arg for input_args in self.inputs for arg in input_args]
        return flat + ["-filter_complex_threads", "1", "-/filter_complex", str(script)]


def save_drawn(image: Image.Image, path: Path) -> None:
    """Write an image we drew where still_input and concat lists read it (path ends in DRAWN)."""
    image.save(path, format="TGA", compression="tga_rle")


def seconds(value: float) -> str:
    """Format a time for a filter option."""
    return f"{float(value):.6f}".rstrip("0").rstrip(".") or "0"
