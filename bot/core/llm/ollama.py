"""Ollama: is the model pulled, how large may its context be, and the per-run num_ctx."""

from __future__ import annotations

import math
from typing import Any

import aiohttp

from bot.core.llm.errors import model_not_found
from bot.core.llm.models import ModelInfo
from bot.core.llm.probe_http import get_json, positive_int
from bot.settings import Settings

# Smallest num_ctx class: Ollama's own default on small hosts, so short runs load the model the usual way.
MIN_NUM_CTX = 4096
# Room for the chat template's own tokens and the estimate's error (3.6 chars a token ran up to 15 % low).
PROMPT_MARGIN = 1.15
TEMPLATE_ALLOWANCE = 64


def ollama_name(name: str) -> str:
    """Ollama lists "mistral" as "mistral:latest". Only the last path segment may carry a tag (host:port/ns/m)."""
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


async def probe_ollama(session: aiohttp.ClientSession, root: str, settings: Settings, tags: dict[str, Any]) -> ModelInfo:
    """ModelInfo for an Ollama server whose /api/tags answered ``tags``; raises ModelNotFound."""
    model = settings.llm_model
    pulled = {ollama_name(str(m.get("name", ""))) for m in tags["models"] if isinstance(m, dict)}
    if ollama_name(model) not in pulled:
        raise model_not_found(model, "ollama")
    show = await get_json(session, "POST", f"{root}/api/show", {"model": model})
    ps = await get_json(session, "GET", f"{root}/api/ps")
    model_max = _context_length(show)
    info = ModelInfo("ollama", model, 0, context_source="")
    info.thinking = isinstance(show, dict) and "thinking" in (show.get("capabilities") or [])
    info.loaded_context = _loaded_context(ps, model)
    _size_ceiling(info, settings, model_max)
    return info


def _size_ceiling(info: ModelInfo, settings: Settings, model_max: int | None) -> None:
    """The most num_ctx a run may ask for: LLM_CONTEXT_TOKENS if set, else LLM_MAX_CONTEXT_TOKENS; never past the model."""
    if settings.llm_context_tokens is not None:
        ceiling, source = settings.llm_context_tokens, "LLM_CONTEXT_TOKENS"
    else:
        ceiling, source = settings.llm_max_context_tokens, "LLM_MAX_CONTEXT_TOKENS (Ollama num_ctx per run)"
    if model_max is not None and model_max < ceiling:
        if settings.llm_context_tokens is not None:
            info.warnings.append(
                f"LLM_CONTEXT_TOKENS={ceiling} is more than {settings.llm_model} supports; using {model_max}"
            )
        ceiling, source = model_max, "model maximum from Ollama /api/show"
    info.context_tokens, info.context_source = ceiling, source


def _context_length(show: Any) -> int | None:
    """The model's maximum context from /api/show's "<arch>.context_length" key."""
    info = show.get("model_info") if isinstance(show, dict) else None
    if not isinstance(info, dict):
        return None
    return next((positive_int(v) for k, v in info.items() if k.endswith(".context_length") and positive_int(v)), None)


def _loaded_context(ps: Any, model: str) -> int | None:
    """The context the model is loaded with right now (/api/ps), so a run that fits it does not reload it."""
    models = ps.get("models") if isinstance(ps, dict) else None
    for entry in models if isinstance(models, list) else []:
        if isinstance(entry, dict) and ollama_name(str(entry.get("name") or entry.get("model") or "")) == ollama_name(model):
            return positive_int(entry.get("context_length"))
    return None


def size_num_ctx(prompt_chars: int, max_tokens: int, ceiling: int, loaded: int | None) -> int:
    """num_ctx for one request: prompt estimate + answer + margin, rounded up to a power of two, within the ceiling.

    A different num_ctx makes Ollama reload the model, so sizes come in few classes, and a model already loaded
    with enough room (``loaded``) is reused as it is.
    """
    need = math.ceil(prompt_chars / 3.6 * PROMPT_MARGIN) + TEMPLATE_ALLOWANCE + max_tokens
    if loaded is not None and need <= loaded:  # already in memory: reusing it allocates nothing more
        return loaded
    size = MIN_NUM_CTX
    while size < need:
        size *= 2
    return min(size, ceiling)


def keep_alive_value(setting: str) -> str | int:
    """Ollama reads a bare number as seconds and a string as a Go duration ("30m", "-1" is not one)."""
    stripped = setting.strip()
    return int(stripped) if stripped.lstrip("-").isdigit() else stripped
