"""One settings object, read from the environment once and passed around explicitly."""

import os
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

# Provider settings that are not secret: environment variable -> setting name. Providers look
# them up by the variable's name, the way a job's own (BYOK) values are named.
PROVIDER_SETTINGS = {
    "MONEYREELS_LLM_BASE_URL": "llm_base_url",
    "OPENAI_BASE_URL": "openai_base_url",
    "MONEYREELS_LLM_MODEL": "llm_model",
    "MONEYREELS_KOKORO_MODEL": "kokoro_model",
    "MONEYREELS_KOKORO_VOICES": "kokoro_voices",
    "MONEYREELS_PIPER_VOICES_DIR": "piper_voices_dir",
}

# Environment variable -> setting name. Documented in README's configuration table.
ENVIRONMENT = {
    "HOST": "host",
    "PORT": "port",
    "THREADS": "threads",
    "WORKERS": "workers",
    "DATA_DIR": "data_dir",
    "DATABASE_URL": "database_url",
    "JOBS_DIR": "jobs_dir",
    "MEDIA_DIR": "media_dir",
    "MAX_JOBS": "max_jobs",
    "MONEYREELS_API_KEYS": "api_keys",
    "MONEYREELS_MAX_BODY_BYTES": "max_body_bytes",
    "MONEYREELS_RATE_LIMIT": "rate_limit",
    "MONEYREELS_RATE_WINDOW": "rate_window",
    "MONEYREELS_API_RATE_LIMIT": "api_rate_limit",
    "MONEYREELS_WEBHOOK_SECRET": "webhook_secret",
    "MONEYREELS_PUBLIC_URL": "public_url",
    "MONEYREELS_MAX_DURATION": "max_duration_seconds",
    "MONEYREELS_MAX_ASSET_BYTES": "max_asset_bytes",
    "MONEYREELS_RENDER_MEMORY_MB": "render_memory_mb",
    "MONEYREELS_MAX_FETCH_SECONDS": "max_fetch_seconds",
    "MONEYREELS_PRESET": "preset",
    "MONEYREELS_OUTPUT_SCALE": "output_scale",
    "MONEYREELS_OLLAMA_URL": "ollama_url",
    "MONEYREELS_ALLOW_PRIVATE_URLS": "allow_private_urls",
    "MONEYREELS_ALLOWED_HOSTS": "allowed_hosts",
    "MONEYREELS_MAX_WAITING": "max_waiting",
    "MONEYREELS_MAX_WAITING_PER_CLIENT": "max_waiting_per_client",
    "MONEYREELS_MAX_CONNECTIONS": "max_connections",
    "MONEYREELS_LEASE_SECONDS": "lease_seconds",
    "MONEYREELS_LEASE_RENEW_SECONDS": "lease_renew_seconds",
    "MONEYREELS_FONTS_DIR": "fonts_dir",
    "STORAGE_URL": "storage_url",
    "MONEYREELS_STORAGE_SERVE": "storage_serve",
    **PROVIDER_SETTINGS,
}

# What DATABASE_URL may name, through peewee's database URLs.
DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres")

# The provider API keys an operator may set and a job may bring (BYOK): the one list of their names.
PROVIDER_KEYS = ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GOOGLE_API_KEY", "GEMINI_API_KEY", "ELEVENLABS_API_KEY",
                 "INWORLD_TTS_API_KEY", "PEXELS_API_KEY", "PIXABAY_API_KEY", "FAL_KEY")


class Settings(BaseModel):
    """Every knob MoneyReels has, with its embedded default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    threads: int = Field(32, ge=1, le=512, description="HTTP threads; long-polls and SSE hold one each")
    max_waiting: int = Field(0, ge=0, description="long-polls and SSE streams held at once; 0: half of THREADS")
    max_waiting_per_client: int = Field(
        0, ge=0, description="long-polls and SSE streams one key (or address) holds at once; 0: THREADS / 8"
    )
    max_connections: int = Field(1000, ge=10, le=100_000, description="open connections waitress accepts")
    workers: int = Field(1, ge=0, le=16, description="job threads; rendering is CPU-bound")
    lease_seconds: float = Field(
        30.0, ge=1, le=3600, description="how long a job's lease lasts unrenewed; then any worker takes the job back"
    )
    lease_renew_seconds: float = Field(10.0, gt=0, description="how often a running job's lease is renewed")
    data_dir: Path = Path("data")
    # A secret: a PostgreSQL URL carries its password. Only connection_url reveals it, to the store.
    database_url: SecretStr | None = Field(
        None, description="sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/NAME; unset: DATA_DIR's SQLite file"
    )
    jobs_dir: Path = Path("output")
    media_dir: Path = Path("media")
    max_jobs: int = Field(0, ge=0, description="prune the oldest finished jobs beyond this; 0 keeps all")
    api_keys: tuple[str, ...] = ()
    max_body_bytes: int = Field(1_000_000, ge=1024)
    rate_limit: int = Field(60, ge=0, description="requests per key (or client address) per window; 0 disables")
    rate_window: float = Field(60.0, gt=0)
    api_rate_limit: int = Field(10, ge=0, description="/api/v1 requests per key (or address) per second; 0 disables")
    webhook_secret: str | None = Field(None, description="signs webhooks that carry no webhook_secret of their own")
    public_url: str | None = Field(None, description="base of absolute URLs handed out, when behind a proxy")
    max_duration_seconds: float = Field(60.0, gt=0)
    max_asset_bytes: int = Field(500_000_000, gt=0)
    render_memory_mb: int = Field(4096, ge=0, description="address space each render's ffmpeg may use; 0: no cap")
    max_fetch_seconds: float = Field(300.0, gt=0, le=3600, description="a whole asset download's deadline")
    allow_private_urls: bool | None = Field(
        None, description="let asset and webhook URLs reach private addresses; unset: only when HOST is loopback"
    )
    allowed_hosts: tuple[str, ...] = Field(
        (), description="host names served besides loopback, HOST and PUBLIC_URL's host; '*' serves any"
    )
    ollama_url: str = Field("http://localhost:11434/v1", description="a local Ollama, used when no LLM is named")
    output_scale: float = Field(1.0, ge=0.05, le=1.0, description="scale of pipeline reels; 0.5 for quick previews")
    preset: str = Field("superfast", pattern=r"^(ultrafast|superfast|veryfast|faster|fast|medium|slow|slower|veryslow)$")
    fonts_dir: Path | None = Field(None, description="an extra folder of fonts text overlays may name")
    storage_url: str | None = Field(
        None, pattern=r"^(file://.+|s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?)$",
        description="where jobs' files and uploads are kept: file:///folder, or s3://bucket/prefix; unset: JOBS_DIR")
    storage_serve: str = Field(
        "proxy", pattern=r"^(proxy|redirect)$",
        description="how files in a bucket are served: streamed through the app (proxy), or by a presigned URL "
                    "(redirect)")
    # Secrets: their repr and JSON show asterisks; only provider_values() reveals them, to the providers.
    provider_keys: dict[str, SecretStr] = Field({}, description="the operator's provider API keys, by variable name")
    llm_base_url: str | None = None
    openai_base_url: str | None = None
    llm_model: str | None = None
    kokoro_model: str | None = None
    kokoro_voices: str | None = None
    piper_voices_dir: str | None = None

    @field_validator("api_keys", "allowed_hosts", mode="before")
    @classmethod
    def _split_keys(cls, value):
        if isinstance(value, str):
            return tuple(key.strip() for key in value.split(",") if key.strip())
        return value

    @field_validator("provider_keys")
    @classmethod
    def _known_keys(cls, value):
        if unknown := set(value) - set(PROVIDER_KEYS):
            raise ValueError(f"not provider keys: {', '.join(sorted(unknown))}")
        return {name: secret for name, secret in value.items() if secret.get_secret_value()}

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value):
        # The message never quotes the value: a PostgreSQL URL holds a password.
        if value is not None and urlsplit(value.get_secret_value()).scheme not in DATABASE_SCHEMES:
            raise ValueError("must start with sqlite:/// or postgresql://")
        return value

    @field_validator("lease_renew_seconds")
    @classmethod
    def _renew_within_lease(cls, value, info):
        if value >= info.data.get("lease_seconds", value + 1):
            raise ValueError("must be shorter than MONEYREELS_LEASE_SECONDS")
        return value

    @property
    def database_path(self) -> Path | None:
        """The SQLite file: DATABASE_URL's, or moneyreels.sqlite3 in DATA_DIR; None for PostgreSQL."""
        if self.database_url is None:
            return self.data_dir / "moneyreels.sqlite3"
        parts = urlsplit(self.database_url.get_secret_value())
        return Path(parts.path[1:]) if parts.scheme == "sqlite" else None

    @property
    def connection_url(self) -> str:
        """The database URL, password included: for the store's connection only, never for a log."""
        if self.database_url is None:
            return f"sqlite:///{self.database_path}"
        return self.database_url.get_secret_value()

    def provider_values(self) -> dict[str, str]:
        """The provider keys and settings that are set, by variable name: what providers look keys up in."""
        keys = {name: secret.get_secret_value() for name, secret in self.provider_keys.items()}
        return keys | {var: getattr(self, name) for var, name in PROVIDER_SETTINGS.items() if getattr(self, name)}

    @classmethod
    def from_env(cls, environ=None, **overrides):
        """Build settings from environment variables, then explicit overrides."""
        environ = os.environ if environ is None else environ
        values = {name: environ[var] for var, name in ENVIRONMENT.items() if environ.get(var, "") != ""}
        values["provider_keys"] = {name: environ[name] for name in PROVIDER_KEYS if environ.get(name)}
        values.update(overrides)
        return cls(**values)


class ConfigurationError(Exception):
    """The environment holds a setting MoneyReels cannot use."""


def load_settings(environ=None, **overrides) -> Settings:
    """Return validated settings or raise ConfigurationError naming the bad variable."""
    try:
        return Settings.from_env(environ, **overrides)
    except ValidationError as exc:
        names = {name: var for var, name in ENVIRONMENT.items()}
        problems = "; ".join(
            f"{names.get(str(err['loc'][0]), err['loc'][0])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigurationError(f"invalid configuration: {problems}") from None
