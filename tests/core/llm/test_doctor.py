"""`doctor`'s LLM lines: backend, the context figure and where it came from, never the password."""

from __future__ import annotations

import pytest

from bot.cli.doctor import check_llm
from tests.core.llm.conftest import make_settings
from tests.fakes.fake_llm import FakeLLM


@pytest.mark.parametrize(
    ("flavor", "model", "source"),
    [
        ("ollama", "llama3.1:8b", "12288 tokens, from model maximum from Ollama /api/show"),
        ("llama.cpp", "gemma.gguf", "12288 tokens, from llama.cpp /props n_ctx"),
        ("vllm", "Qwen/Qwen2.5-7B", "12288 tokens, from vLLM /v1/models max_model_len"),
        ("generic", "local-model", "4096 tokens, from assumed (the server does not report it)"),
    ],
)
async def test_doctor_prints_the_context_and_its_source(capsys, flavor, model, source):
    async with FakeLLM(flavor=flavor, model=model, context_length=12288, basic_auth=("bot", "hunter2")) as llm:
        url = llm.url.replace("http://", "http://bot:hunter2@") + "/v1"
        assert await check_llm(make_settings(url, llm_model=model))
    out = capsys.readouterr().out
    assert f"[ok] llm: {flavor} at http://bot@127.0.0.1" in out
    assert f"[ok] context: {source}" in out
    assert "hunter2" not in out


async def test_doctor_fails_with_the_backends_fix(capsys):
    async with FakeLLM(flavor="vllm", model="Qwen/Qwen2.5-7B") as llm:
        assert not await check_llm(make_settings(llm.base_url, llm_model="llama3.1:8b"))
    out = capsys.readouterr().out
    assert "[FAIL] llm: model llama3.1:8b is not served" in out and "vllm serve llama3.1:8b" in out
