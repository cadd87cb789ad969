"""Ollama's native API: /, /api/tags, /api/show, /api/ps, and /api/chat streaming NDJSON with per-request num_ctx."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.core.llm.ollama import ollama_name
from tests.fakes.fake_llm.replies import (
    BODY,
    Reply,
    count_tokens,
    prompt_tokens,
    status_message,
)

if TYPE_CHECKING:
    from tests.fakes.fake_llm.server import FakeLLM

THINKING = "The user wants a postmortem. Let me think about the timeline first."


def add_routes(app: web.Application, fake: FakeLLM) -> None:
    app.router.add_get("/", _root)
    app.router.add_get("/api/tags", partial(_tags, fake))
    app.router.add_post("/api/show", partial(_show, fake))
    app.router.add_get("/api/ps", partial(_ps, fake))
    app.router.add_get("/v1/models", partial(_v1_models, fake))


async def _root(_: web.Request) -> web.Response:
    return web.Response(text="Ollama is running")


async def _tags(fake: FakeLLM, _: web.Request) -> web.Response:
    models = [{"name": m, "model": m, "size": 4_920_753_328, "details": {"format": "gguf"}} for m in fake.models]
    return web.json_response({"models": models})


async def _v1_models(fake: FakeLLM, _: web.Request) -> web.Response:
    return web.json_response({"object": "list", "data": [{"id": m, "object": "model", "owned_by": "library"} for m in fake.models]})


async def _show(fake: FakeLLM, request: web.Request) -> web.Response:
    raw = request[BODY]
    body: dict[str, object] = raw if isinstance(raw, dict) else {}
    name = str(body.get("model") or body.get("name") or "")
    if ollama_name(name) not in fake.models:
        return web.json_response({"error": f"model '{name}' not found"}, status=404)
    info = {"general.architecture": "llama", "llama.context_length": fake.context_length}
    capabilities = ["completion", "thinking"] if fake.thinking else ["completion"]
    return web.json_response({"model_info": info, "capabilities": capabilities, "details": {"family": "llama"}})


async def _ps(fake: FakeLLM, _: web.Request) -> web.Response:
    if fake.loaded_context is None:
        return web.json_response({"models": []})
    entry = {"name": fake.models[0], "model": fake.models[0], "context_length": fake.loaded_context}
    return web.json_response({"models": [entry]})


def _line(model: str, **fields: Any) -> bytes:
    now = datetime.now(UTC).isoformat()
    return (json.dumps({"model": model, "created_at": now, **fields}) + "\n").encode()


async def chat(fake: FakeLLM, request: web.Request) -> web.StreamResponse:
    body = request[BODY]
    if not isinstance(body, dict):
        return web.json_response({"error": "invalid request body"}, status=400)
    model = str(body.get("model", ""))
    if ollama_name(model) not in fake.models:
        return web.json_response({"error": status_message(404, model)}, status=404)
    if body.get("think") and not fake.thinking:
        return web.json_response({"error": f'"{model}" does not support thinking'}, status=400)
    num_ctx = (body.get("options") or {}).get("num_ctx") or 4096
    if num_ctx != fake.loaded_context:
        fake.loads += 1
        fake.loaded_context = num_ctx
    if not body.get("messages"):  # a warm-up: the model is loaded, nothing is generated
        return web.Response(body=_line(model, message={"role": "assistant", "content": ""}, done_reason="load", done=True))
    reply = fake.next_reply(body)
    if reply.kind == "status":
        await fake.hold(reply)
        headers = {"Retry-After": reply.retry_after} if reply.retry_after is not None else None
        return web.json_response({"error": reply.message or status_message(reply.status, model)}, status=reply.status, headers=headers)
    # Ollama cuts an over-long prompt to num_ctx silently: the count is the only sign.
    prompt = reply.prompt_tokens if reply.prompt_tokens is not None else min(prompt_tokens(body["messages"]), num_ctx)
    if body.get("stream") is False:
        return await _whole(fake, reply, model, prompt)
    return await _stream(fake, request, body, reply, model, prompt)


async def _whole(fake: FakeLLM, reply: Reply, model: str, prompt: int) -> web.StreamResponse:
    if reply.kind == "stall":
        await fake.closing.wait()
    content = reply.text if reply.kind == "text" else ""
    return web.Response(
        body=_line(model, message={"role": "assistant", "content": content}, done=True, done_reason=reply.finish,
                   prompt_eval_count=prompt, eval_count=count_tokens(content)),
        content_type="application/json",
    )


async def _stream(
    fake: FakeLLM, request: web.Request, body: dict[str, Any], reply: Reply, model: str, prompt: int
) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
    await resp.prepare(request)

    async def content(piece: str) -> None:
        await resp.write(_line(model, message={"role": "assistant", "content": piece}, done=False))

    try:
        if body.get("think") and fake.thinking:
            for word in THINKING.split(" "):
                await resp.write(_line(model, message={"role": "assistant", "content": "", "thinking": word + " "}, done=False))
        if not await fake.play(request, reply, content):
            return resp
        if reply.kind == "invalid_json":
            await resp.write(b"{this is not json\n")
        else:
            sent = reply.text if reply.kind != "empty" else ""
            await resp.write(
                _line(model, message={"role": "assistant", "content": ""}, done=True, done_reason=reply.finish,
                      prompt_eval_count=prompt, eval_count=count_tokens(sent))
            )
        await resp.write_eof()
    except ConnectionResetError:  # the client gave up (e.g. its stall timeout fired)
        return resp
    fake.mark_finished()
    return resp
