"""What llama-server, vLLM and a generic server report beside chat: /props, /v1/models, /tokenize, /health."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from aiohttp import web

from tests.fakes.fake_llm.replies import BODY, count_tokens

if TYPE_CHECKING:
    from tests.fakes.fake_llm.server import FakeLLM


def add_routes(app: web.Application, fake: FakeLLM) -> None:
    app.router.add_get("/v1/models", partial(_models, fake))
    if fake.flavor == "llama.cpp":
        app.router.add_get("/props", partial(_props, fake))
        app.router.add_get("/health", _health)
    if fake.flavor in ("llama.cpp", "vllm"):
        app.router.add_post("/tokenize", partial(_tokenize, fake))


async def _health(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _props(fake: FakeLLM, _: web.Request) -> web.Response:
    settings = {"n_ctx": fake.context_length, "params": {"n_predict": -1, "temperature": 0.8}}
    return web.json_response({"default_generation_settings": settings, "total_slots": 1, "model_path": f"/models/{fake.model}"})


async def _models(fake: FakeLLM, _: web.Request) -> web.Response:
    data = []
    for name in fake.models:
        entry: dict[str, object] = {"id": name, "object": "model", "created": 1_700_000_000}
        if fake.flavor == "llama.cpp":
            entry["owned_by"] = "llamacpp"
            entry["meta"] = {"n_ctx": fake.context_length, "n_ctx_train": 131072, "n_vocab": 262144}
        elif fake.flavor == "vllm":
            entry["owned_by"] = "vllm"
            entry["max_model_len"] = fake.context_length
        else:
            entry["owned_by"] = "organization_owner"
        data.append(entry)
    return web.json_response({"object": "list", "data": data})


async def _tokenize(fake: FakeLLM, request: web.Request) -> web.Response:
    raw = request[BODY]
    body: dict[str, object] = raw if isinstance(raw, dict) else {}
    if fake.flavor == "llama.cpp":
        n = count_tokens(str(body.get("content", "")), fake.chars_per_token)
        return web.json_response({"tokens": list(range(n))})
    n = count_tokens(str(body.get("prompt", "")), fake.chars_per_token)
    return web.json_response({"count": n, "max_model_len": fake.context_length, "tokens": list(range(n))})
