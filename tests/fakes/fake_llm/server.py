"""The FakeLLM server: one aiohttp app on 127.0.0.1 that plays Ollama, llama.cpp, vLLM or a generic /v1 server."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web

from bot.core.llm.ollama import ollama_name
from tests.fakes.fake_llm import ollama_wire, openai_wire, side_endpoints
from tests.fakes.fake_llm.gated_report import gate_passing_report
from tests.fakes.fake_llm.replies import BODY, Reply, for_request, json_reply, pieces, text

Flavor = Literal["ollama", "llama.cpp", "vllm", "generic"]


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


class FakeLLM:
    def __init__(
        self,
        *,
        model: str = "llama3.1:8b",
        ollama: bool = True,
        context_length: int = 8192,
        default: Reply | str | None = None,
        other_models: tuple[str, ...] = (),
        flavor: Flavor | None = None,
        thinking: bool = False,
        loaded_context: int | None = None,
        basic_auth: tuple[str, str] | None = None,
        chars_per_token: float = 4.0,
    ) -> None:
        self.flavor: Flavor = flavor or ("ollama" if ollama else "generic")
        self.model = model
        self.context_length = context_length  # Ollama: the model maximum; llama.cpp: n_ctx; vLLM: max_model_len
        self.default: Reply = text(default) if isinstance(default, str) else default or text(gate_passing_report())
        self.models = [ollama_name(m) for m in (model, *other_models)] if self.flavor == "ollama" else [model, *other_models]
        self.thinking = thinking  # Ollama: the model has the "thinking" capability
        self.loaded_context = loaded_context  # Ollama: what /api/ps reports; set by each /api/chat's num_ctx
        self.loads = 0  # Ollama: times a request's num_ctx (re)loaded the model
        self.basic_auth = basic_auth  # when set, every request must carry these credentials
        # The tokenizer's density (llama.cpp/vLLM /tokenize and their context checks): lower = more tokens per text.
        self.chars_per_token = chars_per_token
        self.requests: list[RecordedRequest] = []
        self.at_gate = asyncio.Event()
        self.finished = asyncio.Event()  # set each time a chat stream ends; clear() it to await the next
        self.finished_at: float | None = None
        self.closing = asyncio.Event()
        # The answer to a structured-output request (``format`` / ``response_format``) when nothing is scripted.
        self.json_default: Reply = json_reply({"tests": []})
        self._script: list[Reply] = []
        self._uses = 0
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self.port = 0
        self.down = False  # go_down(): as if the server had crashed, until come_back()
        self.url = ""  # http://127.0.0.1:<port>, set on start

    @property
    def ollama(self) -> bool:
        return self.flavor == "ollama"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def chat_requests(self) -> list[Any]:
        """Generation requests, oldest first, in OpenAI shape whichever endpoint took them.

        /api/chat bodies keep their fields and gain ``temperature`` / ``max_tokens`` from ``options``, so
        tests read what the bot asked for without caring which API it used. Warm-ups are in ``warm_ups``.
        """
        out: list[Any] = []
        for r in self.requests:
            if r.path == "/v1/chat/completions":
                out.append(r.json)
            elif r.path == "/api/chat" and isinstance(r.json, dict) and r.json.get("messages"):
                options = r.json.get("options") or {}
                out.append({**r.json, "temperature": options.get("temperature"), "max_tokens": options.get("num_predict")})
        return out

    @property
    def json_requests(self) -> list[dict[str, Any]]:
        """Generation requests that asked for structured output: the schema under ``format`` (Ollama's
        /api/chat) or ``response_format`` (/v1), whichever endpoint took them."""
        return [r for r in self.chat_requests if isinstance(r, dict) and (r.get("format") or r.get("response_format"))]

    @staticmethod
    def schema_of(request: dict[str, Any]) -> Any:
        """The JSON schema a structured-output request carried, on either API."""
        if request.get("format") is not None:
            return request["format"]
        return ((request.get("response_format") or {}).get("json_schema") or {}).get("schema")

    @property
    def native_chats(self) -> list[dict[str, Any]]:
        """Raw /api/chat generation bodies (with ``options.num_ctx``, ``keep_alive``, ``think``)."""
        return [r.json for r in self.requests if r.path == "/api/chat" and isinstance(r.json, dict) and r.json.get("messages")]

    @property
    def warm_ups(self) -> list[dict[str, Any]]:
        """/api/chat requests without messages: Ollama loads the model and answers at once."""
        return [r.json for r in self.requests if r.path == "/api/chat" and isinstance(r.json, dict) and not r.json.get("messages")]

    def script(self, *replies: Reply | str) -> None:
        """Queue replies for the next chat requests (strings become ``text()``)."""
        self._script.extend(text(r) if isinstance(r, str) else r for r in replies)

    def next_reply(self, body: Any = None) -> Reply:
        """The reply for the next chat request; a reply built from the request (``render``) gets ``body``."""
        if not self._script:
            structured = isinstance(body, dict) and (body.get("format") or body.get("response_format"))
            return for_request(self.json_default if structured else self.default, body)
        reply = self._script[0]
        self._uses += 1
        if self._uses >= reply.times:
            self._script.pop(0)
            self._uses = 0
        return for_request(reply, body)

    async def __aenter__(self) -> FakeLLM:
        app = web.Application(middlewares=[self._record])
        # Bound at start so a wrapper assigned to ``_chat`` beforehand (bench/harness.py's probe) sees every chat.
        chat = self._chat
        app.router.add_post("/v1/chat/completions", chat)
        if self.flavor == "ollama":
            app.router.add_post("/api/chat", chat)
        if self.flavor == "ollama":
            ollama_wire.add_routes(app, self)
        else:
            side_endpoints.add_routes(app, self)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await self._site.start()
        self.port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.closing.set()  # releases stalled streams so shutdown does not wait on them
        assert self._runner is not None
        await self._runner.cleanup()

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        """Both chat endpoints, one handler: the OpenAI one, and Ollama's native one when playing Ollama."""
        if request.path == "/api/chat":
            return await ollama_wire.chat(self, request)
        return await openai_wire.chat(self, request)

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.read()
        try:
            decoded = json.loads(body) if body else None
        except ValueError:
            decoded = None
        if self.down:  # a request on a connection kept alive from before the crash: it is cut, unanswered
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=503)
        self.requests.append(RecordedRequest(request.method, request.path, decoded))
        request[BODY] = decoded
        if self.basic_auth is not None:
            expected = "Basic " + base64.b64encode(":".join(self.basic_auth).encode()).decode()
            if request.headers.get("Authorization") != expected:
                return web.Response(status=401, text="401 Authorization Required")
        return await handler(request)

    async def play(self, request: web.Request, reply: Reply, send: Callable[[str], Awaitable[None]]) -> bool:
        """Send the reply's text through ``send`` (pacing, gate, stall, reset); False when the stream must end now."""
        for index, piece in enumerate(pieces(reply)):
            if index and reply.tokens_per_s:
                await asyncio.sleep(1 / reply.tokens_per_s)  # simulated generation speed
            if piece is None:  # the gate
                assert reply.gate is not None
                self.at_gate.set()
                await reply.gate.wait()
                self.at_gate.clear()
                continue
            await send(piece)
        if reply.kind == "stall":
            await self.closing.wait()
            return False
        if reply.kind == "reset":
            assert request.transport is not None
            request.transport.close()  # no terminating chunk: the client sees the body cut short
            return False
        return True

    async def hold(self, reply: Reply) -> None:
        """Wait for a gated error reply's gate, if it has one, before it is sent."""
        if reply.gate is not None:
            self.at_gate.set()
            await reply.gate.wait()
            self.at_gate.clear()

    async def go_down(self) -> None:
        """Stop listening (new connections are refused) and drop requests on connections kept alive: a crash."""
        self.down = True
        assert self._site is not None
        await self._site.stop()

    async def come_back(self) -> None:
        """Listen again on the same port."""
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await self._site.start()
        self.down = False

    def mark_finished(self) -> None:
        self.finished_at = time.monotonic()
        self.finished.set()
