"""Ollama's /api/chat: num_ctx sized per run, keep_alive, think, warm-up, and reuse of a loaded model."""

from __future__ import annotations

import pytest

from bot.core.llm.ollama import keep_alive_value, size_num_ctx
from tests.fakes.fake_llm import FakeLLM, text


async def test_generation_goes_to_api_chat_with_every_option(fake, client_for):
    await client_for(fake.base_url).stream("system text", "user text")
    [body] = fake.native_chats
    assert body["keep_alive"] == "30m" and body["stream"] is True
    assert body["options"] == {"num_ctx": 4096, "temperature": 0.3, "num_predict": 2048}
    assert "think" not in body  # not a thinking model: the field is not sent at all
    assert not [r for r in fake.requests if r.path == "/v1/chat/completions"]


async def test_num_ctx_grows_with_the_prompt_in_stable_classes(fake_of, client_for):
    llm = await fake_of("ollama", context_length=131072)
    client = client_for(llm.base_url)
    for chars in (1_000, 12_000, 30_000, 400_000):
        await client.stream("s", "x" * chars)
    sizes = [b["options"]["num_ctx"] for b in llm.native_chats]
    # 1k chars fits 4096; 12k chars ≈ 3.8k tokens + 2048 → 8192; then 16384 = LLM_MAX_CONTEXT_TOKENS caps the rest.
    assert sizes == [4096, 8192, 16384, 16384]
    assert llm.loads == 3  # each new class loads the model once; the capped runs reuse it


async def test_a_loaded_model_with_room_is_reused_not_reloaded(fake_of, client_for):
    llm = await fake_of("ollama", context_length=131072, loaded_context=16384)
    client = client_for(llm.base_url)
    await client.preflight()
    await client.stream("s", "short prompt")
    await client.complete("s", "u", temperature=0.2, max_tokens=512)
    assert [b["options"]["num_ctx"] for b in llm.native_chats] == [16384, 16384]
    assert llm.loads == 0


async def test_warm_up_loads_the_model_at_the_ceiling(fake_of, client_for):
    llm = await fake_of("ollama", context_length=131072)
    client = client_for(llm.base_url, llm_keep_alive="-1")
    await client.warm_up()
    [warm] = llm.warm_ups
    assert warm["messages"] == [] and warm["keep_alive"] == -1 and warm["options"] == {"num_ctx": 16384}
    assert llm.chat_requests == []  # a warm-up is not a generation
    await client.stream("s", "u")
    assert llm.native_chats[0]["options"]["num_ctx"] == 16384 and llm.loads == 1


async def test_warm_up_is_a_no_op_elsewhere(fake_of, client_for):
    llm = await fake_of("llama.cpp", model="m.gguf")
    await client_for(llm.base_url, llm_model="m.gguf").warm_up()
    assert [r.path for r in llm.requests if "chat" in r.path] == []


@pytest.mark.parametrize(("setting", "sent"), [(False, False), (True, True)])
async def test_thinking_models_get_think_and_the_trace_stays_out(client_for, setting, sent):
    async with FakeLLM(thinking=True, default=text("## Timeline\nAlert.")) as llm:
        result = await client_for(llm.base_url, llm_think=setting).stream("s", "u")
    assert llm.native_chats[0]["think"] is sent
    assert result.text == "## Timeline\nAlert."  # message.thinking never reaches the answer


@pytest.mark.parametrize(
    ("chars", "max_tokens", "ceiling", "loaded", "expected"),
    [
        (0, 2048, 16384, None, 4096),
        (7_000, 2048, 16384, None, 8192),  # ≈ 2.3k tokens with margin + 2048 > 4096
        (100_000, 2048, 16384, None, 16384),  # capped
        (1_000, 512, 2048, None, 2048),  # a model smaller than the smallest class
        (1_000, 2048, 16384, 8192, 8192),  # loaded and large enough: reused
        (40_000, 2048, 16384, 8192, 16384),  # loaded but too small: the next class
        (1_000, 2048, 8192, 32768, 32768),  # loaded larger by someone else: reused, it is in memory already
    ],
)
def test_size_num_ctx(chars, max_tokens, ceiling, loaded, expected):
    assert size_num_ctx(chars, max_tokens, ceiling, loaded) == expected


@pytest.mark.parametrize(("setting", "sent"), [("30m", "30m"), ("-1", -1), ("3600", 3600), ("1h30m", "1h30m")])
def test_keep_alive_value(setting, sent):
    assert keep_alive_value(setting) == sent
