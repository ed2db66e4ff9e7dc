"""Language models behind one small interface, chosen from keys, and JSON output that validates.

Three wire formats cover the field: OpenAI's chat completions (also Ollama, vLLM and
other OpenAI-compatible servers), Anthropic's messages, and Gemini's generateContent.
"""

import json
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from pydantic import BaseModel, ValidationError

from .http import ProviderClient, ProviderError

log = logging.getLogger(__name__)

OPENAI_URL = "https://api.openai.com/v1"
OLLAMA_URL = "http://localhost:11434/v1"
OLLAMA_MODEL = "llama3.2"
PROBE_TIMEOUT = 0.3
# Long non-streamed replies send nothing until they are done: the read timeout must cover the whole reply.
LLM_TIMEOUT = (5, 240)

# In the order from_settings prefers them; `requires` lists names any one of which will do.
PROVIDERS = (
    {"key": "openai-compatible", "label": "OpenAI-compatible server",
     "requires": ("MONEYREELS_LLM_BASE_URL", "OPENAI_BASE_URL")},
    {"key": "anthropic", "label": "Anthropic", "requires": ("ANTHROPIC_API_KEY",)},
    {"key": "openai", "label": "OpenAI", "requires": ("OPENAI_API_KEY",)},
    {"key": "gemini", "label": "Google Gemini", "requires": ("GOOGLE_API_KEY", "GEMINI_API_KEY")},
    {"key": "ollama", "label": "Ollama", "requires": ()},
)
BASE_URL_NAMES = PROVIDERS[0]["requires"]
KEY_NAMES = (*(name for spec in PROVIDERS for name in spec["requires"]), "MONEYREELS_LLM_MODEL")


class LLM(Protocol):
    key: str
    label: str
    model: str
    usage: dict[str, int]  # running {"input_tokens", "output_tokens"} totals, for cost

    def complete(
        self, system: str, user: str, *, json_mode: bool = False, max_tokens: int = 2000, temperature: float = 0.7
    ) -> str: ...


class _RemoteLLM(ABC):
    """What the wire formats share: one ProviderClient, a token count, and reply checks."""

    key = label = default_model = default_base_url = ""

    def __init__(self, api_key: str | None, *, model: str | None = None, base_url: str | None = None, **options):
        self.model = model or self.default_model
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.usage = {"input_tokens": 0, "output_tokens": 0}
        options.setdefault("timeout", LLM_TIMEOUT)
        self.client = ProviderClient(
            self.key, self.base_url, headers=self._headers(api_key) if api_key else {},
            secrets=(api_key,) if api_key else (), **options,
        )

    def complete(
        self, system: str, user: str, *, json_mode: bool = False, max_tokens: int = 2000, temperature: float = 0.7
    ) -> str:
        """Send one system + user turn and return the model's text."""
        path, body = self._request(system, user, json_mode, max_tokens, temperature)
        data = self.client.request("POST", path, json=body)
        try:
            text = self._text(data)
        except (KeyError, IndexError, TypeError, AttributeError):
            text = None
        if not isinstance(text, str) or not text:
            raise self.client.error(f"{self.key} returned a malformed response (no reply text)")
        input_tokens, output_tokens = self._usage(data)  # a dict: _text found its fields
        self.usage["input_tokens"] += input_tokens
        self.usage["output_tokens"] += output_tokens
        return text

    @abstractmethod
    def _headers(self, api_key: str) -> dict:
        """Return the headers that carry the key."""

    @abstractmethod
    def _request(self, system: str, user: str, json_mode: bool, max_tokens: int, temperature: float) -> tuple:
        """Return (path, JSON body) for one completion."""

    @abstractmethod
    def _text(self, data: Any) -> str:
        """Return the reply's text, raising KeyError, IndexError, TypeError or AttributeError if it has none."""

    @abstractmethod
    def _usage(self, data: dict) -> tuple[int, int]:
        """Return (input, output) tokens the reply reports."""


def _count(usage: Any, *names: str) -> int:
    """Sum the named token counts a provider reported; absent ones count as 0."""
    usage = usage if isinstance(usage, dict) else {}
    return sum(value for name in names if isinstance(value := usage.get(name), int))


class OpenAICompatible(_RemoteLLM):
    """OpenAI chat completions, or any server speaking them (Ollama, vLLM, LM Studio...)."""

    default_model = "gpt-4o-mini"

    def __init__(
        self, api_key: str | None = None, *, model: str | None = None, base_url: str | None = None,
        key: str | None = None, **options,
    ):
        base_url = base_url or OPENAI_URL
        parts = urlsplit(base_url)
        if key is None and parts.hostname == "api.openai.com":
            key = "openai"
        elif key is None:
            key = "ollama" if parts.port == 11434 else "openai-compatible"
        self.key, self.label = key, _spec(key)["label"]
        super().__init__(api_key, model=model, base_url=base_url, **options)

    def _headers(self, api_key):
        return {"Authorization": f"Bearer {api_key}"}

    def _request(self, system, user, json_mode, max_tokens, temperature):
        body = {
            "model": self.model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "max_tokens": max_tokens,
            "temperature": temperature,
        }
        if json_mode:
            # OpenAI refuses json_object mode (400) unless the word "JSON" appears in the messages.
            if "json" not in f"{system} {user}".lower():
                body["messages"][0]["content"] = f"{system}\n\nRespond in JSON."
            body["response_format"] = {"type": "json_object"}
        return "/chat/completions", body

    def _text(self, data):
        return data["choices"][0]["message"]["content"]

    def _usage(self, data):
        usage = data.get("usage")
        return _count(usage, "prompt_tokens"), _count(usage, "completion_tokens")


class Anthropic(_RemoteLLM):
    """Anthropic's Messages API. It has no JSON switch: generate_json's instructions do that job."""

    key, label = "anthropic", "Anthropic"
    default_model = "claude-sonnet-4-5"
    default_base_url = "https://api.anthropic.com"

    def _headers(self, api_key):
        return {"x-api-key": api_key, "anthropic-version": "2023-06-01"}

    def _request(self, system, user, json_mode, max_tokens, temperature):
        return "/v1/messages", {
            "model": self.model,
            "system": system,
            "messages": [{"role": "user", "content": user}],
            "max_tokens": max_tokens,
            "temperature": temperature,
        }

    def _text(self, data):
        return "".join(block["text"] for block in data["content"] if block.get("type") == "text")

    def _usage(self, data):
        usage = data.get("usage")
        return _count(usage, "input_tokens"), _count(usage, "output_tokens")


class Gemini(_RemoteLLM):
    """Google's Gemini API (generativelanguage), key in the x-goog-api-key header."""

    key, label = "gemini", "Google Gemini"
    default_model = "gemini-2.5-flash"
    default_base_url = "https://generativelanguage.googleapis.com"

    def _headers(self, api_key):
        return {"x-goog-api-key": api_key}

    def _request(self, system, user, json_mode, max_tokens, temperature):
        config = {"maxOutputTokens": max_tokens, "temperature": temperature}
        if json_mode:
            config["responseMimeType"] = "application/json"
        return f"/v1beta/models/{self.model.removeprefix('models/')}:generateContent", {
            "systemInstruction": {"parts": [{"text": system}]},
            "contents": [{"role": "user", "parts": [{"text": user}]}],
            "generationConfig": config,
        }

    def _text(self, data):
        # Thought summaries come as parts flagged "thought"; they are not the answer.
        parts = data["candidates"][0]["content"]["parts"]
        return "".join(part["text"] for part in parts if "text" in part and not part.get("thought"))

    def _usage(self, data):
        # Gemini 2.5 bills thinking tokens as output, but reports them apart from the candidates.
        usage = data.get("usageMetadata")
        return _count(usage, "promptTokenCount"), _count(usage, "candidatesTokenCount", "thoughtsTokenCount")


def merge_keys(operator: Mapping[str, str], byok: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the operator's LLM settings (settings.provider_values()), overridden by a job's own (BYOK) keys.

    A job that points the OpenAI-compatible client at a server of its choosing must not
    have the operator's OPENAI_API_KEY sent there: only a key the job brought goes along.
    """
    merged = {name: operator[name] for name in KEY_NAMES if operator.get(name)}
    own = {name: value for name, value in (byok or {}).items() if name in KEY_NAMES and value}
    if any(name in own for name in BASE_URL_NAMES):
        merged.pop("OPENAI_API_KEY", None)
    return merged | own


def local_models(url: str | None = None) -> list[str]:
    """Return the models an OpenAI-compatible server (default: local Ollama) lists; [] unless it answers at once."""
    url = url or OLLAMA_URL
    try:
        with requests.Session() as session:
            session.trust_env = False  # a proxy from the environment cannot reach this machine's localhost
            response = session.get(f"{url.rstrip('/')}/models", timeout=PROBE_TIMEOUT)
        response.raise_for_status()
        return [model["id"] for model in response.json()["data"]]
    except (requests.RequestException, ValueError, KeyError, TypeError):
        return []


def _first(names: tuple[str, ...], keys: Mapping[str, str]) -> str | None:
    return next((keys[name] for name in names if keys.get(name)), None)


def _spec(name: str) -> dict:
    for spec in PROVIDERS:
        if spec["key"] == name:
            return spec
    known = ", ".join(spec["key"] for spec in PROVIDERS)
    raise ProviderError(f"Unknown LLM provider {name!r}; known: {known}.", provider=name,
                        code="unknown_provider", status=400)


def _require(name: str, keys: Mapping[str, str]) -> str:
    """Return the provider's key, or fail naming the setting that would supply it."""
    spec = _spec(name)
    value = _first(spec["requires"], keys)
    if value is None:
        setting = " or ".join(spec["requires"])
        raise ProviderError(f"{spec['label']} needs {setting}: set it in the environment or send it with the job.",
                            provider=name, code="missing_key", status=400, details={"key": spec["requires"][0]})
    return value


def available(keys: Mapping[str, str], *, probe_local: bool = True, ollama_url: str | None = None) -> dict[str, bool]:
    """Return, per provider key, whether the keys (or a local Ollama) make it usable."""
    return {
        spec["key"]: bool(_first(spec["requires"], keys)) if spec["requires"]
        else probe_local and bool(local_models(ollama_url))
        for spec in PROVIDERS
    }


def from_settings(
    name: str | None,
    keys: Mapping[str, str],
    *,
    base_url: str | None = None,
    model: str | None = None,
    probe_local: bool = True,
    ollama_url: str | None = None,
) -> LLM | None:
    """Build the named LLM, or (name None) the first usable one in PROVIDERS order; None if none is.

    MONEYREELS_LLM_BASE_URL / OPENAI_BASE_URL point only the OpenAI-compatible client;
    `base_url` points whichever provider is built. MONEYREELS_LLM_MODEL applies to any.
    """
    model = model or keys.get("MONEYREELS_LLM_MODEL") or None
    ollama_url = ollama_url or OLLAMA_URL  # read now, not at import, so it can be repointed
    if name is None:
        name = next((spec["key"] for spec in PROVIDERS if spec["requires"] and _first(spec["requires"], keys)), None)
        if base_url:
            name = "openai-compatible"
        elif name is None:
            models = local_models(ollama_url) if probe_local else []
            if not models:
                return None
            name, model = "ollama", model or models[0]
    _spec(name)  # unknown names fail here
    if name == "anthropic":
        return Anthropic(_require(name, keys), model=model, base_url=base_url)
    if name == "gemini":
        return Gemini(_require(name, keys), model=model, base_url=base_url)
    if name == "ollama":
        return OpenAICompatible(None, base_url=base_url or ollama_url, model=model or OLLAMA_MODEL, key="ollama")
    if name == "openai-compatible" and not (base_url or _first(BASE_URL_NAMES, keys)):
        _require(name, keys)  # fails, naming the setting
    url = base_url or _first(BASE_URL_NAMES, keys) or OPENAI_URL
    # Only OpenAI itself needs a key; a compatible server may take one or not.
    api_key = _require("openai", keys) if urlsplit(url).hostname == "api.openai.com" else keys.get("OPENAI_API_KEY")
    return OpenAICompatible(api_key or None, base_url=url, model=model)


MAX_PROBLEMS = 20
JSON_INSTRUCTION = "Reply with a single JSON object and nothing else. It must match this JSON Schema:\n{schema}"
REPAIR = (
    "{user}\n\nYour previous reply was:\n{reply}\n\nIt was rejected for these problems:\n{problems}\n\n"
    "Reply again with the corrected JSON object only."
)


def extract_json(text: str) -> dict | None:
    """Return the first JSON object in an LLM's reply, bare, in a ```json fence, or wrapped in prose."""
    decoder = json.JSONDecoder()
    # Try each "{" in turn: prose may hold braces that start no JSON, and fences are just prose here.
    for brace in re.finditer(r"\{", text):
        try:
            value, _ = decoder.raw_decode(text, brace.start())
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def _problems(reply: str, model: type[BaseModel], validate) -> tuple[BaseModel | None, list[str]]:
    """Return the validated object, or the list of what is wrong with the reply."""
    data = extract_json(reply)
    if data is None:
        return None, ["the reply contains no JSON object"]
    try:
        result = model.model_validate(data)
    except ValidationError as exc:
        return None, [
            f"{'.'.join(map(str, error['loc'])) or '(root)'}: {error['msg']}" for error in exc.errors()
        ][:MAX_PROBLEMS]
    problems = list(validate(result)) if validate else []
    return (None, problems[:MAX_PROBLEMS]) if problems else (result, [])


def generate_json(
    llm: LLM,
    system: str,
    user: str,
    model: type[BaseModel],
    *,
    attempts: int = 3,
    validate: Callable[[BaseModel], list[str]] | None = None,
    max_tokens: int = 4000,
) -> BaseModel:
    """Ask for JSON matching `model`, then for repairs listing what was wrong, up to `attempts` times."""
    schema = json.dumps(model.model_json_schema(), separators=(",", ":"))
    system = f"{system}\n\n{JSON_INSTRUCTION.format(schema=schema)}"
    prompt, problems = user, []
    for attempt in range(1, attempts + 1):
        reply = llm.complete(system, prompt, json_mode=True, max_tokens=max_tokens)
        result, problems = _problems(reply, model, validate)
        if result is not None:
            return result
        log.warning("%s reply %d of %d was invalid: %s", llm.key, attempt, attempts, "; ".join(problems))
        prompt = REPAIR.format(user=user, reply=reply, problems="\n".join(f"- {problem}" for problem in problems))
    raise ProviderError(
        f"{llm.label} gave no valid {model.__name__} in {attempts} attempts: {'; '.join(problems[:5])}",
        provider=llm.key, code="invalid_llm_output", details={"problems": problems},
    )
