"""LLMClient.preflight: backend detection, model check and the context each server reports."""

from __future__ import annotations

import base64
import logging

import pytest

from bot.core.llm.endpoint import parse_endpoint, server_root
from bot.core.llm.ollama import ollama_name
from bot.errors import ConfigError, LLMUnavailable, ModelNotFound
from tests.fakes.fake_llm import FakeLLM, unused_base_url


async def test_ollama_context_is_the_model_max_within_the_memory_knob(fake, client_for):
    info = await client_for(fake.base_url).preflight()
    assert (info.backend, info.model, info.context_tokens) == ("ollama", "llama3.1:8b", 8192)
    assert info.context_source == "model maximum from Ollama /api/show" and info.warnings == []
    assert [(r.method, r.path) for r in fake.requests] == [("GET", "/api/tags"), ("POST", "/api/show"), ("GET", "/api/ps")]
    assert fake.requests[1].json == {"model": "llama3.1:8b"}


async def test_default_ceiling_gives_a_large_incident_budget(fake_of, client_for):
    llm = await fake_of("ollama", context_length=131072)
    info = await client_for(llm.base_url).preflight()
    assert info.context_tokens == 16384 and info.context_tokens - 2048 >= 12000
    assert info.context_source.startswith("LLM_MAX_CONTEXT_TOKENS")
    smaller = await client_for(llm.base_url, llm_max_context_tokens=8192).preflight()
    assert smaller.context_tokens == 8192


async def test_ollama_model_with_small_context(client_for):
    async with FakeLLM(context_length=2048) as llm:
        info = await client_for(llm.base_url).preflight()
    assert info.context_tokens == 2048 and info.warnings == []


async def test_configured_context_wins_but_not_past_the_model_max(fake, client_for):
    info = await client_for(fake.base_url, llm_context_tokens=6000).preflight()
    assert (info.context_tokens, info.context_source, info.warnings) == (6000, "LLM_CONTEXT_TOKENS", [])

    info = await client_for(fake.base_url, llm_context_tokens=16384).preflight()
    assert info.context_tokens == 8192
    assert "LLM_CONTEXT_TOKENS=16384" in info.warnings[0]


async def test_loaded_model_and_thinking_capability_are_read(fake_of, client_for):
    llm = await fake_of("ollama", loaded_context=8192, thinking=True)
    info = await client_for(llm.base_url).preflight()
    assert (info.loaded_context, info.thinking) == (8192, True)


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


@pytest.mark.parametrize(
    ("flavor", "backend", "source"),
    [
        ("llama.cpp", "llama.cpp", "llama.cpp /props n_ctx"),
        ("vllm", "vllm", "vLLM /v1/models max_model_len"),
    ],
)
async def test_context_is_learnt_from_the_server(fake_of, client_for, flavor, backend, source):
    llm = await fake_of(flavor, model="gemma-3-4b", context_length=12288)
    info = await client_for(llm.base_url, llm_model="gemma-3-4b").preflight()
    assert (info.backend, info.context_tokens, info.context_source) == (backend, 12288, source)
    assert info.server_model == "gemma-3-4b" and info.warnings == []


async def test_configured_context_overrides_the_servers_figure(fake_of, client_for):
    llm = await fake_of("llama.cpp", model="gemma-3-4b", context_length=8192)
    info = await client_for(llm.base_url, llm_model="gemma-3-4b", llm_context_tokens=4096).preflight()
    assert (info.context_tokens, info.context_source) == (4096, "LLM_CONTEXT_TOKENS")


async def test_llama_server_with_another_model_name_is_a_note_not_a_refusal(fake_of, client_for):
    llm = await fake_of("llama.cpp", model="gemma-3-4b-it-Q4_K_M.gguf", context_length=8192)
    info = await client_for(llm.base_url, llm_model="llama3.1:8b").preflight()
    assert info.server_model == "gemma-3-4b-it-Q4_K_M.gguf"
    assert "LLM_MODEL=gemma-3-4b-it-Q4_K_M.gguf" in info.warnings[0]


@pytest.mark.parametrize("flavor", ["vllm", "generic"])
async def test_model_not_served_is_named_with_what_is(fake_of, client_for, flavor):
    llm = await fake_of(flavor, model="Qwen/Qwen2.5-7B-Instruct")
    with pytest.raises(ModelNotFound) as info:
        await client_for(llm.base_url, llm_model="qwen9:70b").preflight()
    assert "Qwen/Qwen2.5-7B-Instruct" in info.value.message
    assert "ollama" not in str(info.value)


async def test_generic_server_without_a_context_figure(client_for):
    async with FakeLLM(ollama=False) as llm:
        guessed = await client_for(llm.base_url).preflight()
        configured = await client_for(llm.base_url, llm_context_tokens=16384).preflight()
        result = await client_for(llm.base_url).stream("s", "u")
    assert (guessed.backend, guessed.context_tokens) == ("generic", 4096)
    assert guessed.context_source.startswith("assumed") and "LLM_CONTEXT_TOKENS" in guessed.warnings[0]
    assert (configured.context_tokens, configured.warnings) == (16384, [])
    assert result.text


@pytest.mark.parametrize(
    ("port", "expected", "absent"),
    [
        (11434, "`ollama serve`", "llama-server"),
        (8080, "llama-server -m", "ollama"),
        (8000, "vllm serve", "ollama"),
    ],
)
def test_unreachable_hint_fits_the_default_port(port, expected, absent):
    from bot.core.llm.errors import unreachable

    endpoint = parse_endpoint(f"http://127.0.0.1:{port}/v1")
    fix = unreachable(endpoint.shown, endpoint.guessed_backend).fix or ""
    assert expected in fix and absent not in fix


async def test_unreachable_server_on_an_unknown_port_lists_the_servers(client_for):
    with pytest.raises(LLMUnavailable) as info:
        await client_for(unused_base_url()).preflight()
    assert "ollama serve" in (info.value.fix or "") and "llama-server" in (info.value.fix or "")


async def test_basic_auth_in_the_url_reaches_the_server_and_is_never_shown(fake_of, client_for):
    llm = await fake_of("ollama", basic_auth=("bot", "s3cret:pw"))
    authed = llm.url.replace("http://", "http://bot:s3cret%3Apw@") + "/v1"
    client = client_for(authed)
    assert (await client.preflight()).backend == "ollama"
    assert (await client.stream("s", "u")).text  # /api/chat through the same credentials
    with pytest.raises(LLMUnavailable) as info:
        await client_for(llm.base_url).preflight()  # the proxy refuses a request without them
    assert "s3cret" not in str(info.value)


async def test_basic_auth_reaches_an_openai_compatible_server(fake_of, client_for, caplog):
    caplog.set_level(logging.DEBUG)
    llm = await fake_of("llama.cpp", model="m.gguf", basic_auth=("bot", "pw-hunter2"))
    client = client_for(llm.url.replace("http://", "http://bot:pw-hunter2@") + "/v1", llm_model="m.gguf")
    assert (await client.preflight()).context_source == "llama.cpp /props n_ctx"
    assert (await client.stream("s", "u")).text  # the openai SDK sends the same credentials
    logged = "\n".join(f"{r.getMessage()} {r.args}" for r in caplog.records)
    assert caplog.records and "pw-hunter2" not in logged
    assert base64.b64encode(b"bot:pw-hunter2").decode() not in logged


async def test_password_is_not_in_unreachable_errors(client_for):
    url = unused_base_url().replace("http://", "http://bot:hunter2@")
    with pytest.raises(LLMUnavailable) as info:
        await client_for(url).preflight()
    assert "hunter2" not in str(info.value) and "bot@127.0.0.1" in info.value.message


@pytest.mark.parametrize("url", ["localhost:11434/v1", "ftp://host/v1", "http:///v1"])
def test_base_url_that_is_not_http_is_a_config_error(url):
    with pytest.raises(ConfigError) as info:
        parse_endpoint(url)
    assert "LLM_BASE_URL" in info.value.message


def test_name_helpers():
    assert server_root("http://localhost:11434/v1/") == "http://localhost:11434"
    assert server_root("http://gpu-box:8000") == "http://gpu-box:8000"
    assert ollama_name("registry.local:5000/team/model") == "registry.local:5000/team/model:latest"
    assert ollama_name("qwen2.5:7b") == "qwen2.5:7b"
