"""Offline script-to-reel: a ~30 s script through all six stages at 1080x1920.

Runs one `generate` job through the real worker (the default Piper voice, drawn visuals,
synthesized music ducked under the voice, the ffmpeg render, the heuristic critic) and prints
each stage's time, the wall time and its ratio to the reel's length, the voice used and the
reel's loudness. Target: at most 1.0x the reel's duration.

    python bench/pipeline_bench.py [--scale 1.0] [--archetype nature_calm] [--voice en-us]
"""

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from moneyreels import create_app, jobs, kinds  # noqa: E402
from moneyreels.config import Settings  # noqa: E402
from moneyreels.pipeline.request import GenerateRequest  # noqa: E402
from moneyreels.worker import Worker  # noqa: E402
from tests.support.video import integrated_loudness  # noqa: E402

SCRIPT = (
    "Honey never spoils. Archaeologists opening Egyptian tombs found pots of it, sealed more than three thousand "
    "years ago, and it was still perfectly edible. The secret is chemistry. Bees collect nectar and add an enzyme "
    "that breaks sugar into acids. Then they fan it with their wings until almost all the water is gone. What is "
    "left is too sugary and too acidic for bacteria to survive. So the next time you find an old jar in the back "
    "of the cupboard, do not throw it away."
)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="output scale (1.0 = 1080x1920)")
    parser.add_argument("--archetype", default="nature_calm")
    parser.add_argument("--voice", default=None, help="a voice name, e.g. en-us for eSpeak NG (default: Piper's)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        root = Path(root)
        settings = Settings(data_dir=root / "data", jobs_dir=root / "output", media_dir=root / "media",
                            output_scale=args.scale, ollama_url="http://127.0.0.1:9/v1")
        create_app(settings)
        request = GenerateRequest.model_validate({"script": SCRIPT, "archetype": args.archetype, "voice": args.voice})
        job = kinds.generate.create(request, settings)
        started = time.perf_counter()
        Worker(settings, kinds.runners()).loop()
        wall = time.perf_counter() - started
        job = jobs.get(job.id)
        if job.state != "completed":
            sys.exit(f"job {job.state}: {job.error}")
        duration = job.outputs["total_duration_seconds"]
        print(f"{'stage':<10} {'seconds':>8}  detail")
        for name, stage in job.stages.items():
            print(f"{name:<10} {stage.get('durationSec', 0):>8.2f}  {stage.get('detail') or stage.get('reason', '')}")
        speaker = job.outputs["narration"]["speaker"]
        lufs = integrated_loudness(settings.jobs_dir / job.id / "final.mp4")
        print(f"\nvoice {speaker['provider']} {speaker['name']}; loudness {lufs:.1f} LUFS integrated (target -14)")
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"\nreel {duration:.1f} s at {settings.output_scale:g}x scale; wall {wall:.1f} s = "
              f"{wall / duration:.2f}x its duration (target <= 1.0x); peak RSS python {own:.0f} MB, "
              f"ffmpeg {peak:.0f} MB")


if __name__ == "__main__":
    main()
