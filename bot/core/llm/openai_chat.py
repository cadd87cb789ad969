"""Streaming over /v1/chat/completions with the openai SDK: llama.cpp, vLLM, LM Studio and other compatible servers."""

from __future__ import annotations

import json
from typing import Any

import openai

from bot.core.llm.errors import (
    RETRYABLE_STATUSES,
    dropped,
    malformed_stream,
    mid_answer_error,
    server_message,
    stalled,
    status_error,
    unreachable,
)
from bot.core.llm.models import StreamResult
from bot.core.llm.retry import RetryableStatus, retry_after
from bot.core.llm.sink import RequestTarget, Sink


def request_params(
    model: str, system: str, user: str, *, temperature: float, max_tokens: int, json_schema: dict[str, Any] | None = None
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
        # Always sent: Ollama's /v1 falls back to temperature 1.0 when it is omitted, others have their own defaults.
        "temperature": temperature,
        "max_tokens": max_tokens,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if json_schema is not None:  # structured output: the server constrains the answer to this schema
        params["response_format"] = {"type": "json_schema", "json_schema": {"name": "answer", "schema": json_schema}}
    return params


async def stream_openai(
    client: openai.AsyncOpenAI, params: dict[str, Any], sink: Sink, result: StreamResult, target: RequestTarget, timeout_s: float
) -> None:
    opened = False
    try:
        stream = await client.chat.completions.create(**params)
        opened = True
        async with stream:
            async for chunk in stream:
                sink.touch()
                text, finish_reason, usage, model = _parse_chunk(chunk)
                if usage is not None:
                    result.prompt_tokens, result.completion_tokens = usage
                if finish_reason:
                    result.finish_reason = finish_reason
                if model:
                    result.server_model = model
                if text:
                    await sink.text(text)
    except openai.APIStatusError as exc:
        # A status arrives before any text, so a retry never repeats text already passed to on_text.
        if exc.status_code in RETRYABLE_STATUSES:
            raise RetryableStatus(exc.status_code, retry_after(exc.response.headers)) from None
        detail = server_message(exc.body, exc.message)
        raise status_error(
            exc.status_code, detail, exc.body, model=target.model, shown_url=target.shown_url, backend=target.backend
        ) from None
    except openai.APITimeoutError as exc:  # subclass of APIConnectionError: test it first
        # A connect timeout means nobody is listening, not that the model stalled.
        if not opened and type(exc.__cause__).__name__ == "ConnectTimeout":
            raise unreachable(target.shown_url, target.backend) from None
        raise stalled(timeout_s) from None
    except openai.APIConnectionError:
        if opened:
            raise dropped(sink.received, target.backend) from None
        raise unreachable(target.shown_url, target.backend) from None
    except openai.APIError as exc:  # an {"error": ...} event inside an otherwise good stream
        raise mid_answer_error(exc.message, target.backend) from None
    except json.JSONDecodeError as exc:  # the SDK passes json.loads errors on a `data:` line through raw
        raise malformed_stream(f"invalid JSON in the event stream: {exc}") from None


def _parse_chunk(chunk: Any) -> tuple[str | None, str | None, tuple[int | None, int | None] | None, str | None]:
    """(text, finish_reason, (prompt_tokens, completion_tokens), model) of one chunk.

    The SDK builds chunks without validating them, so a wrong shape surfaces here as a clear error.
    """
    try:
        choice = chunk.choices[0] if chunk.choices else None
        text = choice.delta.content if choice is not None and choice.delta is not None else None
        finish_reason = choice.finish_reason if choice is not None else None
        usage = (chunk.usage.prompt_tokens, chunk.usage.completion_tokens) if chunk.usage is not None else None
        model = chunk.model if isinstance(getattr(chunk, "model", None), str) else None
    except (AttributeError, TypeError, IndexError) as exc:
        raise malformed_stream(f"unexpected chunk shape: {exc}") from None
    if text is not None and not isinstance(text, str):
        raise malformed_stream(f"delta content is {type(text).__name__}, not text")
    return text, finish_reason, usage, model
