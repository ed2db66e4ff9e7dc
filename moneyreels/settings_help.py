"""Describe the settings for `--help`: each environment variable, its default and what it does.

Generated from config.ENVIRONMENT and Settings, so a new setting shows up without editing here.
"""

from .config import ENVIRONMENT, Settings


def default_text(info) -> str:
    """The default of one setting as a user would type it."""
    value = info.get_default(call_default_factory=True)
    if value is None or value == ():
        return "unset"
    return str(value)


def settings_help() -> str:
    """A table of the environment variables MoneyReels reads, with defaults and descriptions."""
    lines = ["settings (environment variables, with their defaults):"]
    width = max(map(len, ENVIRONMENT))
    for variable, name in ENVIRONMENT.items():
        info = Settings.model_fields[name]
        text = f"  {variable:<{width}}  {default_text(info)}"
        if info.description:
            text += f"  ({info.description})"
        lines.append(text)
    return "\n".join(lines)


RENDER_HELP = """\
asset paths: an http(s) URL is downloaded (size- and time-capped); a local path, or a file://
URL, is looked up relative to MEDIA_DIR first, then relative to the manifest's folder; an
absolute path must lie inside one of those two folders. Keys the manifest format does not know
are reported as warnings (errors with --strict)."""
