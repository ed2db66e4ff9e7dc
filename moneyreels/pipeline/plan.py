"""One generate job's working state: its request, keys, catalog choices and stage outputs."""

import functools
from pathlib import Path

from ..providers.costs import Ledger
from .catalog import ARCHETYPES, PACING, PALETTES, PLATFORMS, pick_archetype
from .request import GenerateRequest
from .stages import Stages


class Plan:
    """What the stages share; outputs persist on the job so a resumed run reuses them."""

    def __init__(self, ctx, keys: dict):
        self.ctx = ctx
        self.settings = ctx.settings
        self.job = ctx.job
        self.request = GenerateRequest.model_validate(ctx.job.request)
        self.keys = keys
        self.stages = Stages(ctx.job, ctx.holding)
        self.outputs = dict(ctx.job.outputs or {})
        # What this run spends, by category (a resumed run counts only its own spending).
        self.ledger = Ledger()

    @property
    def dir(self) -> Path:
        return self.ctx.dir

    @property
    def text(self) -> str:
        return self.request.topic or self.request.script or ""

    @functools.cached_property
    def archetype(self):
        score = self.outputs.get("score")
        name = self.request.archetype or (score or {}).get("archetype") or pick_archetype(self.text)
        return ARCHETYPES.get(name) or ARCHETYPES[pick_archetype(self.text)]

    @property
    def pacing(self):
        return PACING[self.request.pacing or self.archetype.scenePacing]

    @property
    def platform(self):
        return PLATFORMS[self.request.platform]

    @property
    def palette(self):
        return PALETTES[self.archetype.colorPalette]

    @property
    def size(self) -> tuple[int, int]:
        """Output size: the platform's, scaled by MONEYREELS_OUTPUT_SCALE (even numbers for H.264)."""
        scale = self.settings.output_scale
        return (max(2, int(self.platform.width * scale) // 2 * 2), max(2, int(self.platform.height * scale) // 2 * 2))

    @property
    def scale(self) -> float:
        return self.size[0] / self.platform.width

    def save(self, **outputs):
        """Keep stage outputs on the job row (JSON) so a retry or a restart resumes from them."""
        self.outputs.update(outputs)
        self.ctx.save(**outputs)

    def log(self, message, level="info", **payload):
        self.ctx.log(message, level=level, payload=payload or None)

    def here(self, file: str) -> str:
        """A file a stage recorded, on this machine: one of the job's folder, recorded by a run under
        another JOBS_DIR (a resume on another machine, its files fetched from the bucket), is here."""
        parts = Path(file).parts
        if self.job.id not in parts:
            return file
        return str(self.dir.resolve().joinpath(*parts[parts.index(self.job.id) + 1:]))

    def relative(self, path: Path) -> str:
        """A path inside the job folder, relative to it (either side may be relative to the cwd)."""
        return str(Path(path).resolve().relative_to(self.dir.resolve()))
