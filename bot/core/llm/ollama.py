"""Preflight over Ollama's native API: is the server up, is it Ollama, is the model pulled, how big is the context."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.core.llm.errors import model_not_found, unreachable
from bot.settings import Settings

# Ollama's /v1 runs every model with the server's num_ctx, not the model's maximum, and /v1 cannot change it.
# The server default is 4096 on hosts with < 24 GiB VRAM (PLATFORM_FACTS), and no endpoint we can rely on
# reports the value in force. Assuming the smaller figure is the safe side: a prompt budgeted for 4096 tokens
# is never cut silently; one budgeted for the model's 128k maximum usually would be.
OLLAMA_DEFAULT_CONTEXT = 4096
# Servers other than Ollama give us no way to ask, so the same conservative figure applies.
GENERIC_DEFAULT_CONTEXT = 4096
# /api/tags and /api/show answer from disk; waiting longer than this means the server is not healthy.
PROBE_TIMEOUT_S = 15.0


@dataclass
class ModelInfo:
    backend: str  # "ollama" | "openai-compatible"
    model: str
    context_tokens: int  # the prompt + answer budget the server will actually honour
    warnings: list[str] = field(default_factory=list)


def server_root(base_url: str) -> str:
    """http://host:11434/v1/ → http://host:11434 (Ollama's native API lives beside /v1, not under it)."""
    root = base_url.rstrip("/")
    return root[: -len("/v1")] if root.endswith("/v1") else root


def ollama_name(name: str) -> str:
    """Ollama lists "mistral" as "mistral:latest". Only the last path segment may carry a tag (host:port/ns/m)."""
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


async def probe(settings: Settings) -> ModelInfo:
    """Describe the configured model, raising LLMUnavailable / ModelNotFound when it cannot be used."""
    root = server_root(settings.llm_base_url)
    model = settings.llm_model
    # Same host as LLM_BASE_URL, so sending its key here leaks nothing; it lets an auth proxy in front of Ollama pass.
    headers = {"Authorization": f"Bearer {settings.llm_api_key.get_secret_value()}"}
    timeout = aiohttp.ClientTimeout(total=min(PROBE_TIMEOUT_S, settings.llm_timeout_s))
    try:
        async with aiohttp.ClientSession(timeout=timeout, headers=headers) as session:
            tags = await _get_json(session, "GET", f"{root}/api/tags")
            if not (isinstance(tags, dict) and isinstance(tags.get("models"), list)):
                return _generic_info(settings)
            pulled = {ollama_name(str(m.get("name", ""))) for m in tags["models"] if isinstance(m, dict)}
            if ollama_name(model) not in pulled:
                raise model_not_found(model)
            show = await _get_json(session, "POST", f"{root}/api/show", {"model": model})
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
        raise unreachable(settings.llm_base_url) from None
    return _ollama_info(settings, _context_length(show))


async def _get_json(session: aiohttp.ClientSession, method: str, url: str, body: Any = None) -> Any:
    """The decoded JSON body, or None when the answer is not a 200 JSON document (i.e. not Ollama)."""
    async with session.request(method, url, json=body) as resp:
        if resp.status != 200:
            return None
        try:
            return json.loads(await resp.text())
        except ValueError:
            return None


def _context_length(show: Any) -> int | None:
    """The model's maximum context from /api/show's "<arch>.context_length" key."""
    info = show.get("model_info") if isinstance(show, dict) else None
    if not isinstance(info, dict):
        return None
    for key, value in info.items():
        if key.endswith(".context_length") and isinstance(value, int) and value > 0:
            return value
    return None


def _ollama_info(settings: Settings, model_max: int | None) -> ModelInfo:
    info = ModelInfo("ollama", settings.llm_model, OLLAMA_DEFAULT_CONTEXT)
    configured = settings.llm_context_tokens
    if configured is not None:
        info.context_tokens = configured
        if model_max is not None and configured > model_max:
            info.context_tokens = model_max
            info.warnings.append(
                f"LLM_CONTEXT_TOKENS={configured} is more than {settings.llm_model} supports; using {model_max}"
            )
    elif model_max is not None and model_max < OLLAMA_DEFAULT_CONTEXT:
        info.context_tokens = model_max
    elif model_max is not None and model_max > OLLAMA_DEFAULT_CONTEXT:
        info.warnings.append(
            f"assuming Ollama's default {OLLAMA_DEFAULT_CONTEXT}-token context ({settings.llm_model} supports "
            f"{model_max}); if the server runs with a larger OLLAMA_CONTEXT_LENGTH, set LLM_CONTEXT_TOKENS to match"
        )
    return info


def _generic_info(settings: Settings) -> ModelInfo:
    if settings.llm_context_tokens is not None:
        return ModelInfo("openai-compatible", settings.llm_model, settings.llm_context_tokens)
    return ModelInfo(
        "openai-compatible",
        settings.llm_model,
        GENERIC_DEFAULT_CONTEXT,
        [
            f"this server does not report its context size; assuming {GENERIC_DEFAULT_CONTEXT} tokens "
            "(set LLM_CONTEXT_TOKENS to use more)"
        ],
    )
