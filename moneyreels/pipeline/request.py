"""What a generate job asks for: topic or script, options, providers, BYOK keys."""

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from ..config import PROVIDER_KEYS
from .catalog import ARCHETYPES, PACING, PLATFORMS
from .score import DirectorScore

MAX_DIRECTION_BYTES = 10 * 1024
# Keys a job may bring. Base URLs are not among them: a job must not point the server's
# requests (and the operator's keys) at a host of its choosing.
BYOK_NAMES = PROVIDER_KEYS
MAX_SCRIPT_CHARS = 5000


def _known_keys(keys: dict[str, str]) -> dict[str, str]:
    for name, value in keys.items():
        if name not in BYOK_NAMES:
            raise ValueError(f"unknown key name {name[:60]!r}; one of: {', '.join(BYOK_NAMES)}")
        if not 0 < len(value) <= 500:
            raise ValueError(f"{name} must be 1 to 500 characters")
    return keys


# BYOK provider keys: held in memory for the job only, never stored.
Keys = Annotated[dict[str, str], AfterValidator(_known_keys), Field(max_length=20)]


class RetryBody(BaseModel):
    """The optional body of a retry: the BYOK keys again, for a job whose keys were lost."""

    model_config = ConfigDict(extra="forbid")

    keys: Keys = Field(default_factory=dict)


class Providers(BaseModel):
    model_config = ConfigDict(extra="forbid")

    llm: str | None = Field(None, max_length=40)
    tts: str | None = Field(None, max_length=40)
    image: str | None = Field(None, max_length=40)
    stock: str | None = Field(None, max_length=40)
    video: str | None = Field(None, max_length=40)
    videoModel: str | None = Field(None, max_length=100)
    music: str | None = Field(None, max_length=40)


class GenerateRequest(BaseModel):
    """The OpenReels job request, plus MoneyReels' `script` and `voice`."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    topic: str | None = Field(None, min_length=1, max_length=500)
    title: str | None = Field(None, max_length=200)
    script: str | None = Field(None, min_length=1, max_length=MAX_SCRIPT_CHARS)
    archetype: str | None = Field(None, json_schema_extra={"enum": [*ARCHETYPES, None]})
    pacing: str | None = Field(None, json_schema_extra={"enum": [*PACING, None]})
    platform: str = Field("youtube", json_schema_extra={"enum": list(PLATFORMS)})
    dryRun: bool = False
    noMusic: bool = False
    noVideo: bool = False
    useMyMedia: bool = Field(False, description="prefer the caller's uploaded media (/api/v1/media) for scenes")
    direction: str | None = None
    score: DirectorScore | None = None
    voice: str | None = Field(None, max_length=100)
    # Expand a short script with the LLM when one is usable (OpenStory's enhance: auto); as written otherwise.
    enhance: bool = False
    providers: Providers = Field(default_factory=Providers)
    keys: Keys = Field(default_factory=dict)

    @field_validator("archetype", "pacing", "platform")
    @classmethod
    def _in_catalog(cls, value, info):
        catalog = {"archetype": ARCHETYPES, "pacing": PACING, "platform": PLATFORMS}[info.field_name]
        if value is not None and value not in catalog:
            raise ValueError(f"unknown {info.field_name} '{value}'; one of: {', '.join(catalog)}")
        return value

    @field_validator("direction", mode="before")
    @classmethod
    def _direction(cls, value):
        if value is None:
            return value
        if not isinstance(value, str):
            raise ValueError("direction must be a string")
        if len(value.encode()) > MAX_DIRECTION_BYTES:
            raise ValueError(f"direction is over 10 KB ({len(value.encode())} bytes)")
        return value

    @model_validator(mode="after")
    def _topic_or_script(self):
        if not self.topic and not self.script and self.score is None:
            raise ValueError("topic is required (or a script, or a score to replay)")
        return self

    def stored(self) -> dict:
        """The request as saved on the job: everything but the values of the BYOK keys."""
        data = self.model_dump(mode="json", exclude={"keys"}, exclude_none=True)
        data["byok"] = sorted(self.keys)
        return data
