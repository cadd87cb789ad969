"""LLMClient: preflight, token counting, warm-up and streamed generation against Ollama or any OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import openai

from bot import metrics
from bot.core.llm.checks import answer_warnings, truncation_warning
from bot.core.llm.discovery import probe
from bot.core.llm.endpoint import parse_endpoint
from bot.core.llm.errors import stalled
from bot.core.llm.models import ModelInfo, ServerState, StreamResult
from bot.core.llm.ollama import keep_alive_value, size_num_ctx
from bot.core.llm.ollama_chat import chat_body, stream_ollama, warm_up_ollama
from bot.core.llm.openai_chat import request_params, stream_openai
from bot.core.llm.probe_http import get_json
from bot.core.llm.retry import Elsewhere, Sleep, with_retries
from bot.core.llm.sink import OnText, RequestTarget, Sink
from bot.core.prepare.budget import estimate_tokens
from bot.errors import EmptyOutput, PostmortemError
from bot.settings import Settings

log = logging.getLogger(__name__)

# Connecting is instant on a healthy host; a blackholed one should fail fast rather than after LLM_TIMEOUT_S.
CONNECT_TIMEOUT_S = 10.0

Transport = Callable[[Sink, StreamResult], Awaitable[None]]


class LLMClient:
    """One per process. ``preflight()`` first, so ``stream()`` knows the server, the model and the context.

    retry_attempts / retry_base_delay_s bound the backoff on 429/503 "busy" when the server sends no Retry-After:
    delays are base, 2·base, 4·base…; ``sleep`` is injectable so tests wait on events, not on the clock.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        retry_attempts: int = 5,
        retry_base_delay_s: float = 1.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._settings = settings
        self._endpoint = parse_endpoint(settings.llm_base_url)
        self._retry_attempts = max(1, retry_attempts)
        self._retry_base_delay_s = retry_base_delay_s
        self._sleep = sleep
        # Our own loop retries busy answers (bounded, testable delays); SDK retries would double up and hide stalls.
        self._openai = openai.AsyncOpenAI(
            base_url=self._endpoint.base_url,
            # Local servers ignore the key, but the SDK refuses to start without one.
            api_key=settings.llm_api_key.get_secret_value() or "none",
            # Basic credentials from LLM_BASE_URL replace the bearer key: the proxy in front consumes them.
            default_headers=self._endpoint.auth_header() or None,
            timeout=openai.Timeout(settings.llm_timeout_s, connect=min(CONNECT_TIMEOUT_S, settings.llm_timeout_s)),
            max_retries=0,
        )
        self._http: aiohttp.ClientSession | None = None  # created on first use, inside the running loop
        # Ollama runs one request at a time by default and queues the rest; queueing here instead keeps
        # waiting time out of the stall timer and avoids 503s when the server's queue is full.
        self._slots = asyncio.Semaphore(settings.llm_concurrency)
        self.model_info: ModelInfo | None = None

    async def __aenter__(self) -> LLMClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def shown_url(self) -> str:
        """LLM_BASE_URL as it may be printed: without the password."""
        return self._endpoint.shown

    @property
    def backend(self) -> str:
        return self.model_info.backend if self.model_info else self._endpoint.guessed_backend

    async def preflight(self) -> ModelInfo:
        """Check the server and model before any work; remembers what it learnt for ``stream()``."""
        with metrics.llm_call(self.shown_url):
            self.model_info = await probe(self._session(), self._endpoint, self._settings)
        log.debug(
            "LLM preflight: %s at %s, model %s, context %d (%s)", self.model_info.backend, self._endpoint.shown,
            self.model_info.model, self.model_info.context_tokens, self.model_info.context_source,
        )
        return self.model_info

    async def warm_up(self) -> None:
        """Load the model now (Ollama only; a no-op elsewhere), at the context ceiling so runs reuse it as loaded.

        Raises like ``preflight()``; a busy server is taken as already loading the model.
        """
        info = self.model_info or await self.preflight()
        if info.backend != "ollama":
            return
        body = chat_body(
            info.model, [], temperature=None, max_tokens=None, num_ctx=info.context_tokens,
            keep_alive=keep_alive_value(self._settings.llm_keep_alive), think=None, stream=False,
        )
        await warm_up_ollama(self._session(), f"{self._endpoint.root}/api/chat", body, self._target())
        info.loaded_context = info.context_tokens

    async def count_tokens(self, text: str) -> int | None:
        """The server's own count of ``text`` (llama.cpp, vLLM), or None where it has no tokenizer endpoint."""
        backend = self.model_info.backend if self.model_info else None
        if backend == "llama.cpp":
            body: dict[str, Any] = {"content": text}
        elif backend == "vllm":
            body = {"model": self._settings.llm_model, "prompt": text}
        else:
            return None
        try:
            answer = await get_json(self._session(), "POST", f"{self._endpoint.root}/tokenize", body)
        except (TimeoutError, aiohttp.ClientError, OSError):
            return None
        if not isinstance(answer, dict):
            return None
        if isinstance(answer.get("count"), int):
            return int(answer["count"])
        tokens = answer.get("tokens")
        return len(tokens) if isinstance(tokens, list) else None

    async def stream(
        self,
        system: str,
        user: str,
        *,
        on_text: OnText | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        context_tokens: int | None = None,
        json_schema: dict[str, Any] | None = None,
        elsewhere: Elsewhere | None = None,
    ) -> StreamResult:
        """Generate an answer, calling ``on_text(delta)`` for each piece of clean text as it arrives.

        Runs ``preflight()`` first if it has not run: the server decides the API (Ollama: /api/chat).

        Raises ContextExceeded when the server refuses the prompt as too long, LLMDropped when it hangs up
        mid-answer, LLMBusy after the retries, EmptyOutput for an answer with no text.
        ``json_schema`` asks for structured output (``format`` on Ollama, ``response_format`` elsewhere).
        ``elsewhere`` (from a pool) says whether another server is free: a long busy wait then raises LLMBusy at once.
        """
        settings = self._settings
        temperature = settings.llm_temperature if temperature is None else temperature
        max_tokens = settings.llm_max_tokens if max_tokens is None else max_tokens
        prompt_chars = len(system) + len(user)
        info = self.model_info or await self.preflight()
        async with self._slots:
            if info.backend == "ollama":
                result = await self._stream_native(info, system, user, on_text, temperature, max_tokens, json_schema, elsewhere)
            else:
                params = request_params(settings.llm_model, system, user, temperature=temperature, max_tokens=max_tokens,
                                        json_schema=json_schema)
                target, timeout_s = self._target(), settings.llm_timeout_s

                async def transport(sink: Sink, res: StreamResult) -> None:
                    await stream_openai(self._openai, params, sink, res, target, timeout_s)

                result = await self._retrying(transport, on_text, elsewhere)
                result.context_tokens = context_tokens or info.context_tokens
        with metrics.llm_call(self.shown_url):  # an answer with no text is the server's failure too
            if not result.text.strip():
                if result.finish_reason == "length":  # a thinking model can spend every token before the answer
                    raise EmptyOutput(
                        f"the model {settings.llm_model} used all {max_tokens} answer tokens without writing any text",
                        "raise LLM_MAX_TOKENS, or set LLM_THINK=false for a thinking model",
                    )
                raise EmptyOutput(
                    f"the model {settings.llm_model} answered with no text",
                    "try again; if it persists, try the model directly on the server or change LLM_MODEL",
                )
        result.truncated_warning = truncation_warning(
            result.prompt_tokens, result.context_tokens or info.context_tokens, self.backend
        )
        result.warnings = answer_warnings(result, backend=self.backend, prompt_chars=prompt_chars, max_tokens=max_tokens)
        return result

    async def _stream_native(
        self, info: ModelInfo, system: str, user: str, on_text: OnText | None, temperature: float, max_tokens: int,
        json_schema: dict[str, Any] | None = None, elsewhere: Elsewhere | None = None,
    ) -> StreamResult:
        """Ollama's /api/chat with num_ctx sized for this request (see ``size_num_ctx``)."""
        settings = self._settings
        num_ctx = size_num_ctx(len(system) + len(user), max_tokens, info.context_tokens, info.loaded_context)
        body = chat_body(
            settings.llm_model,
            [{"role": "system", "content": system}, {"role": "user", "content": user}],
            temperature=temperature,
            max_tokens=max_tokens,
            num_ctx=num_ctx,
            keep_alive=keep_alive_value(settings.llm_keep_alive),
            think=settings.llm_think if info.thinking else None,
            json_schema=json_schema,
        )
        url, session, target = f"{self._endpoint.root}/api/chat", self._session(), self._target()
        log.debug(
            "ollama /api/chat at %s: num_ctx=%d for %d prompt chars + %d answer tokens (ceiling %d, loaded %s)",
            self._endpoint.shown, num_ctx, len(system) + len(user), max_tokens, info.context_tokens, info.loaded_context,
        )

        async def transport(sink: Sink, res: StreamResult) -> None:
            await stream_ollama(session, url, body, sink, res, target)

        result = await self._retrying(transport, on_text, elsewhere)
        info.loaded_context = result.context_tokens = num_ctx
        return result

    async def complete(self, system: str, user: str, *, temperature: float, max_tokens: int,
                       elsewhere: Elsewhere | None = None) -> str:
        """The whole answer at once. Streams underneath so a stalled model is caught the same way."""
        return (await self.stream(system, user, temperature=temperature, max_tokens=max_tokens, elsewhere=elsewhere)).text

    async def complete_json(self, system: str, user: str, schema: dict[str, Any], *, max_tokens: int | None = None,
                            elsewhere: Elsewhere | None = None) -> dict[str, Any]:
        """One structured-output answer: the server is asked to follow ``schema``; the decoded object is returned
        unvalidated (the caller validates it with its own model). Raises PostmortemError when the answer is not
        a JSON object, besides what ``stream`` raises."""
        text = (await self.stream(system, user, temperature=0.0, max_tokens=max_tokens, json_schema=schema,
                                  elsewhere=elsewhere)).text
        try:
            answer = json.loads(text)
        except ValueError as exc:
            raise PostmortemError(f"the model's structured answer is not JSON ({exc})", "try a model that supports structured output") from None
        if not isinstance(answer, dict):
            raise PostmortemError(f"the model's structured answer is a JSON {type(answer).__name__}, not an object",
                                  "try a model that supports structured output")
        return answer

    def server_states(self) -> list[ServerState]:
        """One server: its state is the run's error or success, nothing more to show."""
        return []

    async def aclose(self) -> None:
        await self._openai.close()
        if self._http is not None:
            await self._http.close()

    async def _retrying(self, transport: Transport, on_text: OnText | None, elsewhere: Elsewhere | None) -> StreamResult:
        async def attempt() -> StreamResult:
            return await self._attempt(transport, on_text)

        return await with_retries(
            attempt,
            attempts=self._retry_attempts,
            base_delay_s=self._retry_base_delay_s,
            sleep=self._sleep,
            backend=self.backend,
            elsewhere=elsewhere,
        )

    async def _attempt(self, transport: Transport, on_text: OnText | None) -> StreamResult:
        timeout_s = self._settings.llm_timeout_s
        result = StreamResult("", None, None, None, None)
        # An inactivity timer, not a deadline: it covers connect + first byte, then restarts on every chunk,
        # so a slow but steady model runs as long as it needs while a stalled one fails after timeout_s.
        deadline = asyncio.timeout(timeout_s)
        started = time.perf_counter()
        with metrics.llm_call(self.shown_url):
            try:
                async with deadline:
                    sink = Sink(on_text, deadline, timeout_s)
                    await transport(sink, result)
                    await sink.close()
            except TimeoutError:
                if not deadline.expired():  # raised by on_text, not by our timer
                    raise
                raise stalled(timeout_s) from None
        result.text, result.template_tokens = sink.joined, sink.template_tokens
        metrics.llm_generated(self.shown_url, result.completion_tokens or estimate_tokens(result.text), time.perf_counter() - started)
        return result

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            bearer = {"Authorization": f"Bearer {self._settings.llm_api_key.get_secret_value()}"}
            self._http = aiohttp.ClientSession(
                # Same host as LLM_BASE_URL, so the key leaks nothing; basic credentials (if any) replace it.
                headers=self._endpoint.auth_header() or bearer,
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=min(CONNECT_TIMEOUT_S, self._settings.llm_timeout_s)),
            )
        return self._http

    def _target(self) -> RequestTarget:
        return RequestTarget(self._settings.llm_model, self._endpoint.shown, self.backend)
