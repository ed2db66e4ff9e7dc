"""What the remote image, stock and video providers share: keys, a registry, and safe downloads."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests

from .http import SECRET_HEADERS, ProviderClient, ProviderError

MAX_REDIRECTS = 5


class RemoteProvider:
    """One provider's key, checked at construction, and a ProviderClient that carries it.

    `client_options` go to every ProviderClient the provider builds (sleep, retries, timeout...).
    """

    key: ClassVar[str]
    label: ClassVar[str]
    requires: ClassVar[tuple[str, ...]]  # setting names, any one of which supplies the key
    default_base_url: ClassVar[str]
    timeout: ClassVar[float | tuple[float, float]] = (5, 60)

    def __init__(self, keys: Mapping[str, str], *, base_url: str | None = None,
                 client_options: Mapping[str, Any] | None = None):
        self._api_key = require_key(type(self), keys)
        self._options = {"timeout": self.timeout, **(client_options or {})}
        self.client = ProviderClient(self.key, base_url or self.default_base_url,
                                     headers=self._auth_headers(self._api_key), secrets=(self._api_key,),
                                     **self._options)

    def _auth_headers(self, api_key: str) -> dict[str, str]:
        """Return the headers that carry the key (none when it travels elsewhere)."""
        return {}

    def _download(self, url: str, out_path: Path, *, max_bytes: int, headers: Mapping[str, str] | None = None) -> Path:
        """Fetch an http(s) URL the provider gave into out_path, refusing more than max_bytes."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise self.client.error(f"{self.key} gave a media URL that is not http(s): {url[:200]}")
        origin = f"{parts.scheme}://{parts.netloc}"
        with _DownloadSession() as session:
            client = ProviderClient(self.key, origin, headers=dict(headers or {}), secrets=(self._api_key,),
                                    **{**self._options, "session": session})
            data = client.request("GET", url[len(origin):], expect="bytes", max_bytes=max_bytes)
        out_path = Path(out_path)
        out_path.write_bytes(data)
        return out_path


class _DownloadSession(requests.Session):
    """Follow a download's redirects (CDNs and signed storage links use them); keys stay on their host.

    ProviderClient asks for no redirects because requests would carry x-goog-api-key-style
    headers to the new host; this session follows them and drops every secret header first.
    """

    def __init__(self):
        super().__init__()
        self.max_redirects = MAX_REDIRECTS

    def request(self, method, url, **kwargs):
        return super().request(method, url, **{**kwargs, "allow_redirects": True})

    def rebuild_auth(self, prepared_request, response):
        super().rebuild_auth(prepared_request, response)  # drops Authorization on a host change
        if self.should_strip_auth(response.request.url, prepared_request.url):
            for name in SECRET_HEADERS:
                prepared_request.headers.pop(name, None)


def require_key(provider: type, keys: Mapping[str, str]) -> str:
    """Return a provider class's key (any of its `requires`), or fail naming the settings (never a value)."""
    value = next((keys[name] for name in provider.requires if keys.get(name)), None)
    if value is None:
        setting = " or ".join(provider.requires)
        raise ProviderError(f"{provider.label} needs {setting}: set it in the environment or send it with the job.",
                            provider=provider.key, code="missing_key", status=400,
                            details={"key": provider.requires[0]})
    return value


def describe(registry: Mapping[str, type[RemoteProvider]]) -> list[dict]:
    """Return {key, label, requires} for each provider of a registry."""
    return [{"key": cls.key, "label": cls.label, "requires": cls.requires} for cls in registry.values()]


def available(registry: Mapping[str, type[RemoteProvider]], keys: Mapping[str, str]) -> dict[str, bool]:
    """Return, per provider key, whether `keys` holds a key it accepts."""
    return {name: any(keys.get(setting) for setting in cls.requires) for name, cls in registry.items()}


def build(registry: Mapping[str, type[RemoteProvider]], kind: str, name: str, keys: Mapping[str, str],
          **options) -> Any:
    """Construct the named provider of a registry; an unknown name fails listing the known ones."""
    cls = registry.get(name)
    if cls is None:
        raise ProviderError(f"Unknown {kind} provider {name!r}; known: {', '.join(registry)}.", provider=name,
                            code="unknown_provider", status=400)
    return cls(keys, **options)
