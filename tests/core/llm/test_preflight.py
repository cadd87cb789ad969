"""LLMClient.preflight: backend detection, pulled-model check, context size rule."""

from __future__ import annotations

import pytest

from bot.core.llm.ollama import ollama_name, server_root
from bot.errors import LLMUnavailable, ModelNotFound
from tests.fakes.fake_llm import FakeLLM, unused_base_url


async def test_ollama_context_is_capped_at_the_server_default(fake, client_for):
    info = await client_for(fake.base_url).preflight()
    assert (info.backend, info.model, info.context_tokens) == ("ollama", "llama3.1:8b", 4096)
    assert len(info.warnings) == 1 and "LLM_CONTEXT_TOKENS" in info.warnings[0] and "8192" in info.warnings[0]
    assert [(r.method, r.path) for r in fake.requests] == [("GET", "/api/tags"), ("POST", "/api/show")]
    assert fake.requests[1].json == {"model": "llama3.1:8b"}


async def test_ollama_model_with_small_context(client_for):
    async with FakeLLM(context_length=2048) as llm:
        info = await client_for(llm.base_url).preflight()
    assert info.context_tokens == 2048 and info.warnings == []


async def test_configured_context_wins_but_not_past_the_model_max(fake, client_for):
    info = await client_for(fake.base_url, llm_context_tokens=6000).preflight()
    assert info.context_tokens == 6000 and info.warnings == []

    info = await client_for(fake.base_url, llm_context_tokens=16384).preflight()
    assert info.context_tokens == 8192
    assert "LLM_CONTEXT_TOKENS=16384" in info.warnings[0]


async def test_model_not_pulled(fake, client_for):
    with pytest.raises(ModelNotFound) as info:
        await client_for(fake.base_url, llm_model="mistral").preflight()
    assert info.value.fix == "ollama pull mistral"


@pytest.mark.parametrize(
    ("pulled", "configured", "found"),
    [
        ("mistral", "mistral", True),
        ("mistral", "mistral:latest", True),
        ("mistral:latest", "mistral", True),
        ("llama3.1:8b", "llama3.1", False),  # a bare name means :latest, which is not the 8b tag
    ],
)
async def test_bare_names_mean_latest(client_for, pulled, configured, found):
    async with FakeLLM(model=pulled) as llm:
        client = client_for(llm.base_url, llm_model=configured)
        if found:
            assert (await client.preflight()).backend == "ollama"
        else:
            with pytest.raises(ModelNotFound):
                await client.preflight()


async def test_non_ollama_server(client_for):
    async with FakeLLM(ollama=False) as llm:
        guessed = await client_for(llm.base_url).preflight()
        configured = await client_for(llm.base_url, llm_context_tokens=16384).preflight()
        # Such servers accept any model name here; generation still works end to end.
        result = await client_for(llm.base_url, llm_model="anything").stream("s", "u")
    assert (guessed.backend, guessed.context_tokens) == ("openai-compatible", 4096)
    assert "LLM_CONTEXT_TOKENS" in guessed.warnings[0]
    assert (configured.context_tokens, configured.warnings) == (16384, [])
    assert result.text


async def test_unreachable_server(client_for):
    with pytest.raises(LLMUnavailable) as info:
        await client_for(unused_base_url()).preflight()
    assert "ollama serve" in (info.value.fix or "")


def test_name_helpers():
    assert server_root("http://localhost:11434/v1/") == "http://localhost:11434"
    assert server_root("http://gpu-box:8000") == "http://gpu-box:8000"
    assert ollama_name("registry.local:5000/team/model") == "registry.local:5000/team/model:latest"
    assert ollama_name("qwen2.5:7b") == "qwen2.5:7b"
