"""An in-process fake of Ollama (or any OpenAI-compatible server) for tests and benchmarks.

    async with FakeLLM(model="llama3.1:8b", ollama=True, context_length=8192) as llm:
        settings = load_settings(llm_base_url=llm.base_url, llm_model=llm.model)
        llm.script(status(503, times=2), text("## Incident Timeline ...", tokens_per_s=200))
        ...
        assert llm.chat_requests[-1]["temperature"] == 0.3

Each chat request consumes the next scripted ``Reply`` (``times`` uses each); when the script is empty,
``llm.default`` answers (a full ``sample_report()`` unless given). Streams are byte-for-byte what
Ollama's /v1 sends: a role chunk, content chunks, a ``finish_reason: "stop"`` chunk, a usage chunk with
empty ``choices`` (when ``stream_options.include_usage``), then ``data: [DONE]``.

Reply builders: ``text()``, ``status()``, ``stall()``, ``empty()``, ``invalid_json()``.
Progressive tests: ``text(..., gate=event, gate_at="## Root Cause")`` pauses the stream just before that
marker (or character offset) until the test sets ``event``; ``llm.at_gate`` is set while it waits.
``llm.finished`` / ``llm.finished_at`` (time.monotonic()) mark the moment a stream's last byte was sent.
"""

from __future__ import annotations

import asyncio
import json
import math
import socket
import time
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web

from bot.core.llm.ollama import ollama_name
from tests.fakes.sample_reports import sample_report

# The decoded request body, stashed by the recording middleware for the handlers.
_BODY = web.RequestKey("fake_llm_body", object)

ReplyKind = Literal["text", "status", "stall", "empty", "invalid_json"]


@dataclass
class Reply:
    kind: ReplyKind
    text: str = ""
    chunk_chars: int = 4  # one chunk ≈ one token
    tokens_per_s: float | None = None  # None = as fast as possible
    status: int = 200
    message: str | None = None  # error message for kind="status"; None = what Ollama says
    times: int = 1  # how many requests this reply answers before the next one is used
    gate: asyncio.Event | None = None
    gate_at: int | str | None = None  # character offset, or the first occurrence of this marker


def text(
    content: str,
    *,
    chunk_chars: int = 4,
    tokens_per_s: float | None = None,
    gate: asyncio.Event | None = None,
    gate_at: int | str | None = None,
    times: int = 1,
) -> Reply:
    return Reply("text", content, chunk_chars, tokens_per_s, gate=gate, gate_at=gate_at, times=times)


def status(code: int, message: str | None = None, *, times: int = 1) -> Reply:
    """An HTTP error with Ollama's body shape, e.g. status(404) → "model 'x' not found"."""
    return Reply("status", status=code, message=message, times=times)


def stall(before: str = "") -> Reply:
    """Send headers, the role chunk and ``before``, then hang until the fake shuts down."""
    return Reply("stall", before)


def empty() -> Reply:
    """A well-formed stream that carries no content."""
    return Reply("empty")


def invalid_json(before: str = "") -> Reply:
    """Send ``before`` as normal chunks, then a ``data:`` line that is not JSON."""
    return Reply("invalid_json", before)


@dataclass
class RecordedRequest:
    method: str
    path: str
    json: Any  # the decoded body, or None


def unused_base_url() -> str:
    """A /v1 URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def _error_body(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "api_error", "param": None, "code": None}}


def _status_message(code: int, model: str) -> str:
    """What Ollama says for the statuses tests script most."""
    messages = {
        401: "unauthorized",
        404: f"model '{model}' not found",
        503: "server busy, please try again.  maximum pending requests exceeded",
    }
    return messages.get(code, f"error {code}")


class FakeLLM:
    def __init__(
        self,
        *,
        model: str = "llama3.1:8b",
        ollama: bool = True,
        context_length: int = 8192,
        default: Reply | str | None = None,
        other_models: tuple[str, ...] = (),
    ) -> None:
        self.model = model
        self.ollama = ollama
        self.context_length = context_length
        self.default: Reply = text(default) if isinstance(default, str) else default or text(sample_report())
        self.models = [ollama_name(m) for m in (model, *other_models)]
        self.requests: list[RecordedRequest] = []
        self.at_gate = asyncio.Event()
        self.finished = asyncio.Event()  # set each time a chat stream ends; clear() it to await the next
        self.finished_at: float | None = None
        self._script: list[Reply] = []
        self._uses = 0
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""  # http://127.0.0.1:<port>, set on start

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def chat_requests(self) -> list[Any]:
        """JSON bodies of the chat completion requests, oldest first."""
        return [r.json for r in self.requests if r.path == "/v1/chat/completions"]

    def script(self, *replies: Reply | str) -> None:
        """Queue replies for the next chat requests (strings become ``text()``)."""
        self._script.extend(text(r) if isinstance(r, str) else r for r in replies)

    async def __aenter__(self) -> FakeLLM:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        if self.ollama:
            app.router.add_get("/", self._root)
            app.router.add_get("/api/tags", self._tags)
            app.router.add_post("/api/show", self._show)
        app.middlewares.append(self._record)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing.set()  # releases stalled streams so shutdown does not wait on them
        assert self._runner is not None
        await self._runner.cleanup()

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.read()
        try:
            decoded = json.loads(body) if body else None
        except ValueError:
            decoded = None
        self.requests.append(RecordedRequest(request.method, request.path, decoded))
        request[_BODY] = decoded
        return await handler(request)

    def _next_reply(self) -> Reply:
        if not self._script:
            return self.default
        reply = self._script[0]
        self._uses += 1
        if self._uses >= reply.times:
            self._script.pop(0)
            self._uses = 0
        return reply

    # Ollama native API

    async def _root(self, _: web.Request) -> web.Response:
        return web.Response(text="Ollama is running")

    async def _tags(self, _: web.Request) -> web.Response:
        models = [{"name": m, "model": m, "size": 4_920_753_328, "details": {"format": "gguf"}} for m in self.models]
        return web.json_response({"models": models})

    async def _show(self, request: web.Request) -> web.Response:
        body = request[_BODY] or {}
        name = str(body.get("model") or body.get("name") or "")
        if ollama_name(name) not in self.models:
            return web.json_response({"error": f"model '{name}' not found"}, status=404)
        info = {"general.architecture": "llama", "llama.context_length": self.context_length}
        return web.json_response({"model_info": info, "details": {"family": "llama", "format": "gguf"}})

    # /v1/chat/completions

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = request[_BODY]
        if not isinstance(body, dict):
            return web.json_response(_error_body("invalid request body"), status=400)
        model = str(body.get("model", ""))
        if self.ollama and ollama_name(model) not in self.models:
            return web.json_response(_error_body(_status_message(404, model)), status=404)
        reply = self._next_reply()
        if reply.kind == "status":
            message = reply.message or _status_message(reply.status, model)
            return web.json_response(_error_body(message), status=reply.status)
        prompt_tokens = _estimate_tokens(body.get("messages"))
        if not body.get("stream"):
            return await self._whole(reply, model, prompt_tokens)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return await self._stream(request, reply, model, prompt_tokens, include_usage)

    async def _whole(self, reply: Reply, model: str, prompt_tokens: int) -> web.StreamResponse:
        if reply.kind == "stall":
            await self._closing.wait()
        if reply.kind == "invalid_json":
            return web.Response(text="{not json", content_type="application/json")
        content = reply.text if reply.kind == "text" else ""
        return web.json_response(
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "system_fingerprint": "fp_ollama",
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
                ],
                "usage": _usage(prompt_tokens, content),
            }
        )

    async def _stream(
        self, request: web.Request, reply: Reply, model: str, prompt_tokens: int, include_usage: bool
    ) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await resp.prepare(request)
        created = int(time.time())

        async def send(delta: dict[str, Any] | None, finish: str | None = None, usage: Any = None) -> None:
            chunk: dict[str, Any] = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_ollama",
                "choices": [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            if usage is not None:
                chunk["usage"] = usage
            await resp.write(f"data: {json.dumps(chunk)}\n\n".encode())

        try:
            await send({"role": "assistant", "content": ""})
            sent = reply.text if reply.kind != "empty" else ""
            for index, piece in enumerate(_pieces(reply)):
                if index and reply.tokens_per_s:
                    await asyncio.sleep(1 / reply.tokens_per_s)  # simulated generation speed
                if piece is None:  # the gate
                    assert reply.gate is not None
                    self.at_gate.set()
                    await reply.gate.wait()
                    self.at_gate.clear()
                    continue
                await send({"role": "assistant", "content": piece})
            if reply.kind == "stall":
                await self._closing.wait()
                return resp
            if reply.kind == "invalid_json":
                await resp.write(b"data: {this is not json\n\n")
            else:
                await send({"role": "assistant", "content": ""}, "stop")
                if include_usage:
                    await send(None, usage=_usage(prompt_tokens, sent))
            await resp.write(b"data: [DONE]\n\n")
            await resp.write_eof()
        except ConnectionResetError:  # the client gave up (e.g. its stall timeout fired)
            return resp
        self.finished_at = time.monotonic()
        self.finished.set()
        return resp


def _pieces(reply: Reply) -> list[str | None]:
    """The reply's text in chunks, with None marking where to wait for the gate."""
    if reply.kind == "empty":
        return []
    size = max(1, reply.chunk_chars)

    def chunks(s: str) -> list[str | None]:
        return [s[i : i + size] for i in range(0, len(s), size)]

    if reply.gate is None or reply.gate_at is None:
        return chunks(reply.text)
    at = reply.text.index(reply.gate_at) if isinstance(reply.gate_at, str) else reply.gate_at
    return [*chunks(reply.text[:at]), None, *chunks(reply.text[at:])]


def _estimate_tokens(messages: Any) -> int:
    """About 4 characters a token, like the project's own estimate, so tests can aim at the context size."""
    chars = sum(len(str(m.get("content", ""))) for m in messages or [] if isinstance(m, dict))
    return math.ceil(chars / 4)


def _usage(prompt_tokens: int, completion: str) -> dict[str, int]:
    completion_tokens = math.ceil(len(completion) / 4)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
