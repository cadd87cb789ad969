"""Streaming over Ollama's native /api/chat (NDJSON), the only Ollama API that takes a per-request num_ctx."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from aiohttp.http_exceptions import HttpProcessingError

from bot.core.llm.errors import (
    RETRYABLE_STATUSES,
    dropped,
    malformed_stream,
    mid_answer_error,
    server_message,
    status_error,
    unreachable,
)
from bot.core.llm.models import StreamResult
from bot.core.llm.retry import RetryableStatus, retry_after
from bot.core.llm.sink import RequestTarget, Sink


def chat_body(
    model: str,
    messages: list[dict[str, str]],
    *,
    temperature: float | None,
    max_tokens: int | None,
    num_ctx: int,
    keep_alive: str | int,
    think: bool | None,
    stream: bool = True,
    json_schema: dict[str, Any] | None = None,
) -> dict[str, Any]:
    options: dict[str, Any] = {"num_ctx": num_ctx}
    if temperature is not None:
        options["temperature"] = temperature  # always sent for generation: the default is not ours to pick
    if max_tokens is not None:
        options["num_predict"] = max_tokens
    body: dict[str, Any] = {"model": model, "messages": messages, "stream": stream, "keep_alive": keep_alive, "options": options}
    if think is not None:  # only for thinking models: others may refuse the field
        body["think"] = think
    if json_schema is not None:  # structured output: Ollama constrains the answer to this JSON schema
        body["format"] = json_schema
    return body


async def stream_ollama(
    session: aiohttp.ClientSession, url: str, body: dict[str, Any], sink: Sink, result: StreamResult, target: RequestTarget
) -> None:
    opened = False
    try:
        async with session.post(url, json=body) as resp:
            if resp.status != 200:
                raise await _status(resp, target)
            opened = True
            async for raw in resp.content:
                line = raw.strip()
                if line:  # blank keep-alive lines are not progress: a server sending only those stalls
                    sink.touch()
                    await _take_line(line, sink, result, target)
    except (HttpProcessingError, ValueError) as exc:  # a line over aiohttp's limit, a chunk it cannot parse
        raise malformed_stream(f"{type(exc).__name__}: {exc}") from None
    except (aiohttp.ClientError, OSError):  # aiohttp's connect timeout is a ClientError too
        if opened:
            raise dropped(sink.received, target.backend) from None
        raise unreachable(target.shown_url, target.backend) from None

async def _status(resp: aiohttp.ClientResponse, target: RequestTarget) -> Exception:
    # An error page may be in any encoding, or none: never fail on decoding the reason for a failure.
    text = (await resp.read()).decode("utf-8", "replace")
    if resp.status in RETRYABLE_STATUSES:
        return RetryableStatus(resp.status, retry_after(resp.headers))
    try:
        body: Any = json.loads(text)
    except ValueError:
        body = text
    detail = server_message(body, f"HTTP {resp.status}")
    return status_error(resp.status, detail, body, model=target.model, shown_url=target.shown_url, backend=target.backend)


async def _take_line(line: bytes, sink: Sink, result: StreamResult, target: RequestTarget) -> None:
    try:
        event = json.loads(line)
    except ValueError as exc:
        raise malformed_stream(f"invalid JSON line from /api/chat: {exc}") from None
    if not isinstance(event, dict):
        raise malformed_stream("a /api/chat line is not a JSON object")
    if "error" in event:
        raise mid_answer_error(str(event["error"]), target.backend)
    if isinstance(event.get("model"), str):
        result.server_model = event["model"]
    message = event.get("message")
    # message.thinking is the trace of a thinking model: it keeps the stall timer alive but is not the answer.
    content = message.get("content") if isinstance(message, dict) else None
    if content is not None and not isinstance(content, str):
        raise malformed_stream(f"message content is {type(content).__name__}, not text")
    if content:
        await sink.text(content)
    if event.get("done"):
        result.finish_reason = event.get("done_reason") if isinstance(event.get("done_reason"), str) else None
        result.prompt_tokens = _count(event.get("prompt_eval_count"))
        result.completion_tokens = _count(event.get("eval_count"))


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


async def warm_up_ollama(session: aiohttp.ClientSession, url: str, body: dict[str, Any], target: RequestTarget) -> None:
    """Load the model: /api/chat with no messages loads it and returns at once (done_reason "load")."""
    try:
        async with session.post(url, json=body) as resp:
            if resp.status != 200:
                error = await _status(resp, target)
                if isinstance(error, RetryableStatus):  # busy: it is loaded or loading for someone else
                    return
                raise error
            await resp.read()
    except (TimeoutError, aiohttp.ClientError, OSError):
        raise unreachable(target.shown_url, target.backend) from None
