"""Preflight: which server is this, is the model there, and how large is the context it will honour."""

from __future__ import annotations

from typing import Any

import aiohttp

from bot.core.llm.endpoint import Endpoint
from bot.core.llm.errors import model_not_found, unreachable
from bot.core.llm.models import ModelInfo
from bot.core.llm.ollama import probe_ollama
from bot.core.llm.probe_http import get_json, positive_int
from bot.settings import Settings

# A server that reports nothing: a prompt budgeted for 4096 tokens is never cut, one for 128k usually would be.
GENERIC_DEFAULT_CONTEXT = 4096


async def probe(session: aiohttp.ClientSession, endpoint: Endpoint, settings: Settings) -> ModelInfo:
    """Describe the configured model, raising LLMUnavailable / ModelNotFound when it cannot be used."""
    try:
        tags = await get_json(session, "GET", f"{endpoint.root}/api/tags")
        if isinstance(tags, dict) and isinstance(tags.get("models"), list):
            return await probe_ollama(session, endpoint.root, settings, tags)
        props = await get_json(session, "GET", f"{endpoint.root}/props")
        models = await get_json(session, "GET", f"{endpoint.base_url}/models")
    except (TimeoutError, aiohttp.ClientError, OSError):
        raise unreachable(endpoint.shown, endpoint.guessed_backend) from None
    return _openai_compatible(settings, props, _model_entries(models))


def _model_entries(models: Any) -> list[dict[str, Any]]:
    data = models.get("data") if isinstance(models, dict) else None
    return [m for m in data if isinstance(m, dict)] if isinstance(data, list) else []


def _backend(props: Any, entries: list[dict[str, Any]]) -> str:
    if isinstance(props, dict) and isinstance(props.get("default_generation_settings"), dict):
        return "llama.cpp"
    if any(e.get("owned_by") == "llamacpp" or isinstance(e.get("meta"), dict) for e in entries):
        return "llama.cpp"
    if any(e.get("owned_by") == "vllm" or "max_model_len" in e for e in entries):
        return "vllm"
    return "generic"


def _openai_compatible(settings: Settings, props: Any, entries: list[dict[str, Any]]) -> ModelInfo:
    backend = _backend(props, entries)
    model = settings.llm_model
    ids = [str(e.get("id")) for e in entries if e.get("id")]
    entry = next((e for e in entries if e.get("id") == model), None)
    info = ModelInfo(backend, model, GENERIC_DEFAULT_CONTEXT)
    if entry is None and ids:
        if backend != "llama.cpp":
            raise model_not_found(model, backend, ids)
        # llama-server serves one model and ignores the name in requests: worth a note, not a refusal.
        entry = entries[0]
        info.warnings.append(
            f"llama-server serves {ids[0]}, not {model}; it answers with its own model, "
            f"so set LLM_MODEL={ids[0]} for accurate reports"
        )
    info.server_model = str(entry["id"]) if entry is not None else None
    reported, source = _reported_context(props, entry)
    if settings.llm_context_tokens is not None:
        info.context_tokens, info.context_source = settings.llm_context_tokens, "LLM_CONTEXT_TOKENS"
        if reported is not None and reported < settings.llm_context_tokens:
            info.warnings.append(
                f"LLM_CONTEXT_TOKENS={settings.llm_context_tokens} is more than the server's {reported} ({source})"
            )
    elif reported is not None:
        info.context_tokens, info.context_source = reported, source
    else:
        info.context_source = "assumed (the server does not report it)"
        info.warnings.append(
            f"this server does not report its context size; assuming {GENERIC_DEFAULT_CONTEXT} tokens "
            "(set LLM_CONTEXT_TOKENS to use more)"
        )
    return info


def _reported_context(props: Any, entry: dict[str, Any] | None) -> tuple[int | None, str]:
    """The context size the server says a request gets, and where it said so."""
    settings = props.get("default_generation_settings") if isinstance(props, dict) else None
    if isinstance(settings, dict) and (n := positive_int(settings.get("n_ctx"))):
        return n, "llama.cpp /props n_ctx"
    if entry is not None:
        meta = entry.get("meta")
        if isinstance(meta, dict) and (n := positive_int(meta.get("n_ctx"))):
            return n, "llama.cpp /v1/models meta.n_ctx"
        if n := positive_int(entry.get("max_model_len")):
            return n, "vLLM /v1/models max_model_len"
    return None, ""
