"""/v1/chat/completions as Ollama, llama-server, vLLM or a generic server send it (SSE or one JSON document)."""

from __future__ import annotations

import json
import math
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.core.llm.ollama import ollama_name
from tests.fakes.fake_llm.replies import BODY, Reply, prompt_tokens, status_message

if TYPE_CHECKING:
    from tests.fakes.fake_llm.server import FakeLLM


def error_body(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "api_error", "param": None, "code": None}}


def status_response(reply: Reply, model: str) -> web.Response:
    headers = {"Retry-After": reply.retry_after} if reply.retry_after is not None else None
    message = reply.message or status_message(reply.status, model)
    return web.json_response(error_body(message), status=reply.status, headers=headers)


def _over_context(fake: FakeLLM, body: dict[str, Any], prompt: int) -> web.Response | None:
    """The 400 llama-server and vLLM send for a prompt their context cannot hold (counted by their tokenizer)."""
    if fake.flavor == "llama.cpp" and prompt >= fake.context_length:
        message = f"request ({prompt} tokens) exceeds the available context size ({fake.context_length} tokens), try increasing it"
        error = {"code": 400, "message": message, "type": "exceed_context_size_error", "n_prompt_tokens": prompt, "n_ctx": fake.context_length}
        return web.json_response({"error": error}, status=400)
    wanted = prompt + int(body.get("max_tokens") or 0)
    if fake.flavor == "vllm" and wanted > fake.context_length:
        message = (
            f"This model's maximum context length is {fake.context_length} tokens. However, you requested {wanted} "
            f"tokens ({prompt} in the messages, {wanted - prompt} in the completion). Please reduce the length."
        )
        return web.json_response({"object": "error", "message": message, "type": "BadRequestError", "code": 400}, status=400)
    return None


async def chat(fake: FakeLLM, request: web.Request) -> web.StreamResponse:
    body = request[BODY]
    if not isinstance(body, dict):
        return web.json_response(error_body("invalid request body"), status=400)
    model = str(body.get("model", ""))
    if fake.flavor == "ollama" and ollama_name(model) not in fake.models:
        return web.json_response(error_body(status_message(404, model)), status=404)
    if fake.flavor == "vllm" and model not in fake.models:
        return web.json_response(error_body(f"The model `{model}` does not exist."), status=404)
    prompt = prompt_tokens(body.get("messages"), fake.chars_per_token)
    if (refusal := _over_context(fake, body, prompt)) is not None:
        return refusal
    reply = fake.next_reply(body)
    if reply.kind == "status":
        await fake.hold(reply)
        return status_response(reply, model)
    # llama-server answers with the model it serves, whatever the request named.
    reported = fake.model if fake.flavor == "llama.cpp" else model
    prompt = reply.prompt_tokens if reply.prompt_tokens is not None else prompt
    if not body.get("stream"):
        return await _whole(fake, reply, reported, prompt)
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    return await _stream(fake, request, reply, reported, prompt, include_usage)


async def _whole(fake: FakeLLM, reply: Reply, model: str, prompt: int) -> web.StreamResponse:
    if reply.kind == "stall":
        await fake.closing.wait()
    if reply.kind == "invalid_json":
        return web.Response(text="{not json", content_type="application/json")
    content = reply.text if reply.kind == "text" else ""
    message = {"role": "assistant", "content": content}
    return web.json_response(
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "message": message, "finish_reason": reply.finish}],
            "usage": usage(prompt, content),
        }
    )


async def _stream(
    fake: FakeLLM, request: web.Request, reply: Reply, model: str, prompt: int, include_usage: bool
) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await resp.prepare(request)
    created = int(time.time())

    async def send(delta: dict[str, Any] | None, finish: str | None = None, usage_: Any = None) -> None:
        chunk: dict[str, Any] = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": "fp_fake",
            "choices": [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        if usage_ is not None:
            chunk["usage"] = usage_
        await resp.write(f"data: {json.dumps(chunk)}\n\n".encode())

    async def content(piece: str) -> None:
        await send({"role": "assistant", "content": piece})

    try:
        await send({"role": "assistant", "content": ""})
        if not await fake.play(request, reply, content):
            return resp
        if reply.kind == "invalid_json":
            await resp.write(b"data: {this is not json\n\n")
        else:
            await send({"role": "assistant", "content": ""}, reply.finish)
            if include_usage:
                await send(None, usage_=usage(prompt, reply.text if reply.kind != "empty" else ""))
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
    except ConnectionResetError:  # the client gave up (e.g. its stall timeout fired)
        return resp
    fake.mark_finished()
    return resp


def usage(prompt: int, completion: str) -> dict[str, int]:
    completion_tokens = math.ceil(len(completion) / 4)
    return {"prompt_tokens": prompt, "completion_tokens": completion_tokens, "total_tokens": prompt + completion_tokens}
