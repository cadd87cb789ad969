"""Streaming chat client for Ollama's /v1 or any OpenAI-compatible server, with domain errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import openai

from bot.core.llm.errors import RETRYABLE_STATUSES, busy, malformed_stream, map_openai_error, stalled, unreachable
from bot.core.llm.ollama import GENERIC_DEFAULT_CONTEXT, ModelInfo, probe
from bot.errors import EmptyOutput
from bot.settings import Settings

# A prompt this close to the context size was most likely cut: Ollama truncates to exactly num_ctx, silently.
TRUNCATION_RATIO = 0.95
# Connecting is instant on a healthy host; a blackholed one should fail fast rather than after LLM_TIMEOUT_S.
CONNECT_TIMEOUT_S = 10.0


@dataclass
class StreamResult:
    text: str
    prompt_tokens: int | None
    completion_tokens: int | None
    truncated_warning: str | None
    finish_reason: str | None  # "length" means the answer hit max_tokens and is cut short


class LLMClient:
    """One per process. ``preflight()`` first, so ``stream()`` knows the real context size.

    retry_attempts / retry_base_delay_s bound the backoff on 503 "server busy": delays are base, 2·base, 4·base…
    """

    def __init__(self, settings: Settings, *, retry_attempts: int = 5, retry_base_delay_s: float = 1.0) -> None:
        self._settings = settings
        self._retry_attempts = max(1, retry_attempts)
        self._retry_base_delay_s = retry_base_delay_s
        # Our own loop retries 503s (bounded, testable delays); SDK retries would double up and hide stalls.
        self._openai = openai.AsyncOpenAI(
            base_url=settings.llm_base_url,
            # Local servers ignore the key, but the SDK refuses to start without one.
            api_key=settings.llm_api_key.get_secret_value() or "none",
            timeout=openai.Timeout(settings.llm_timeout_s, connect=min(CONNECT_TIMEOUT_S, settings.llm_timeout_s)),
            max_retries=0,
        )
        # Ollama runs one request at a time by default and queues the rest; queueing here instead keeps
        # waiting time out of the stall timer and avoids 503s when the server's queue is full.
        self._slots = asyncio.Semaphore(settings.llm_concurrency)
        self.model_info: ModelInfo | None = None

    async def __aenter__(self) -> LLMClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def preflight(self) -> ModelInfo:
        """Check the server and model before any work; remembers the context size for ``stream()``."""
        self.model_info = await probe(self._settings)
        return self.model_info

    async def stream(
        self,
        system: str,
        user: str,
        *,
        on_text: Callable[[str], Awaitable[None]] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        context_tokens: int | None = None,
    ) -> StreamResult:
        """Generate an answer, calling ``on_text(delta)`` for each piece of text as it arrives."""
        settings = self._settings
        params: dict[str, Any] = {
            "model": settings.llm_model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            # Always sent: Ollama's /v1 falls back to temperature 1.0 when it is omitted.
            "temperature": settings.llm_temperature if temperature is None else temperature,
            "max_tokens": settings.llm_max_tokens if max_tokens is None else max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        async with self._slots:
            for attempt in range(1, self._retry_attempts + 1):
                try:
                    result = await self._stream_once(params, on_text)
                    break
                except openai.APIStatusError as exc:
                    # A status arrives before any text, so a retry never repeats text already passed to on_text.
                    if exc.status_code not in RETRYABLE_STATUSES:
                        raise self._map(exc) from None
                    if attempt == self._retry_attempts:
                        raise busy(attempt) from None
                    await asyncio.sleep(self._retry_base_delay_s * 2 ** (attempt - 1))
                except openai.OpenAIError as exc:
                    raise self._map(exc) from None
        if not result.text.strip():
            raise EmptyOutput(
                f"the model {settings.llm_model} answered with no text",
                f"try again; if it persists, check the model with `ollama run {settings.llm_model}` or change LLM_MODEL",
            )
        context = context_tokens or self._context_tokens()
        result.truncated_warning = truncation_warning(result.prompt_tokens, context)
        return result

    async def complete(self, system: str, user: str, *, temperature: float, max_tokens: int) -> str:
        """The whole answer at once. Streams underneath so a stalled model is caught the same way."""
        return (await self.stream(system, user, temperature=temperature, max_tokens=max_tokens)).text

    async def aclose(self) -> None:
        await self._openai.close()

    async def _stream_once(
        self, params: dict[str, Any], on_text: Callable[[str], Awaitable[None]] | None
    ) -> StreamResult:
        timeout_s = self._settings.llm_timeout_s
        loop = asyncio.get_running_loop()
        parts: list[str] = []
        result = StreamResult("", None, None, None, None)
        # An inactivity timer, not a deadline: it covers connect + first byte, then restarts on every chunk,
        # so a slow but steady model runs as long as it needs while a stalled one fails after timeout_s.
        deadline = asyncio.timeout(timeout_s)
        try:
            async with deadline:
                stream = await self._openai.chat.completions.create(**params)
                async with stream:
                    async for chunk in stream:
                        # Time spent in on_text (e.g. posting to Slack) is ours, not the model's.
                        deadline.reschedule(None)
                        text, finish_reason, usage = _parse_chunk(chunk)
                        if usage is not None:
                            result.prompt_tokens, result.completion_tokens = usage
                        if finish_reason:
                            result.finish_reason = finish_reason
                        if text:
                            parts.append(text)
                            if on_text is not None:
                                await on_text(text)
                        deadline.reschedule(loop.time() + timeout_s)
        except TimeoutError:
            if not deadline.expired():  # raised by on_text or the SDK, not by our timer
                raise
            raise stalled(timeout_s) from None
        except json.JSONDecodeError as exc:  # the SDK passes json.loads errors on a `data:` line through raw
            raise malformed_stream(f"invalid JSON in the event stream: {exc}") from None
        result.text = "".join(parts)
        return result

    def _context_tokens(self) -> int:
        if self.model_info is not None:
            return self.model_info.context_tokens
        return self._settings.llm_context_tokens or GENERIC_DEFAULT_CONTEXT

    def _map(self, exc: openai.OpenAIError) -> Exception:
        settings = self._settings
        # A connect timeout means nobody is listening, not that the model stalled.
        if isinstance(exc, openai.APITimeoutError) and type(exc.__cause__).__name__ == "ConnectTimeout":
            return unreachable(settings.llm_base_url)
        return map_openai_error(
            exc, model=settings.llm_model, base_url=settings.llm_base_url, timeout_s=settings.llm_timeout_s
        )


def _parse_chunk(chunk: Any) -> tuple[str | None, str | None, tuple[int | None, int | None] | None]:
    """(text, finish_reason, (prompt_tokens, completion_tokens)) of one chunk.

    The SDK builds chunks without validating them, so a wrong shape surfaces here as a clear error.
    """
    try:
        choice = chunk.choices[0] if chunk.choices else None
        text = choice.delta.content if choice is not None and choice.delta is not None else None
        finish_reason = choice.finish_reason if choice is not None else None
        usage = (chunk.usage.prompt_tokens, chunk.usage.completion_tokens) if chunk.usage is not None else None
    except (AttributeError, TypeError, IndexError) as exc:
        raise malformed_stream(f"unexpected chunk shape: {exc}") from None
    if text is not None and not isinstance(text, str):
        raise malformed_stream(f"delta content is {type(text).__name__}, not text")
    return text, finish_reason, usage


def truncation_warning(prompt_tokens: int | None, context_tokens: int) -> str | None:
    """A warning when usage shows the prompt filled the context, the only sign Ollama gives of cutting it."""
    if prompt_tokens is None or prompt_tokens < context_tokens * TRUNCATION_RATIO:
        return None
    if prompt_tokens > context_tokens:
        # The server evidently has more room than we assumed, so we cannot tell whether it cut anything.
        return (
            f"the prompt used {prompt_tokens} tokens, more than the assumed context of {context_tokens}; "
            "set LLM_CONTEXT_TOKENS to the server's real context size so truncation can be detected"
        )
    return (
        f"the prompt used {prompt_tokens} of {context_tokens} context tokens, so the server probably cut part of "
        "the incident silently; shorten the input, or raise OLLAMA_CONTEXT_LENGTH and LLM_CONTEXT_TOKENS together"
    )
