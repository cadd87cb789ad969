"""llama.cpp and vLLM specifics: the server's tokenizer, and its refusal of an over-long prompt."""

from __future__ import annotations

import math

import pytest

from bot.core.llm import ContextExceeded
from bot.core.llm.errors import context_exceeded
from tests.fakes.fake_llm import FakeLLM

MODEL = "gemma-3-4b"


@pytest.mark.parametrize("flavor", ["llama.cpp", "vllm"])
async def test_count_tokens_uses_the_servers_tokenizer(fake_of, client_for, flavor):
    llm = await fake_of(flavor, model=MODEL)
    client = client_for(llm.base_url, llm_model=MODEL)
    await client.preflight()
    assert await client.count_tokens("x" * 4001) == math.ceil(4001 / 4)
    assert [r.path for r in llm.requests][-1] == "/tokenize"


@pytest.mark.parametrize("flavor", ["ollama", "generic"])
async def test_count_tokens_is_none_without_a_tokenizer(fake_of, client_for, flavor):
    llm = await fake_of(flavor, model="llama3.1:8b")
    client = client_for(llm.base_url)
    assert await client.count_tokens("hello") is None  # before the preflight: the backend is unknown
    await client.preflight()
    assert await client.count_tokens("hello") is None


@pytest.mark.parametrize(
    ("flavor", "prompt_chars", "max_tokens", "prompt", "context"),
    [
        ("llama.cpp", 5000 * 4, 2048, 5000, 4096),  # llama-server counts the prompt alone against n_ctx
        ("vllm", 3000 * 4, 2048, 5048, 4096),  # vLLM counts prompt + max_tokens against max_model_len
    ],
)
async def test_over_context_prompt_raises_context_exceeded_with_the_servers_numbers(
    fake_of, client_for, flavor, prompt_chars, max_tokens, prompt, context
):
    llm = await fake_of(flavor, model=MODEL, context_length=4096)
    client = client_for(llm.base_url, llm_model=MODEL, llm_max_tokens=max_tokens)
    with pytest.raises(ContextExceeded) as info:
        await client.stream("s", "x" * (prompt_chars - 1))
    assert (info.value.prompt_tokens, info.value.context_tokens) == (prompt, context)
    assert str(context) in info.value.message
    assert ("-c 16384" if flavor == "llama.cpp" else "--max-model-len") in (info.value.fix or "")
    assert llm.chat_requests and llm.next_reply() is llm.default  # refused before any scripted reply was used


async def test_a_prompt_that_fits_is_answered(client_for):
    async with FakeLLM(flavor="llama.cpp", model=MODEL, context_length=4096) as llm:
        result = await client_for(llm.base_url, llm_model=MODEL).stream("s", "x" * 4000)
    assert result.text and result.server_model == MODEL


@pytest.mark.parametrize(
    ("detail", "numbers"),
    [
        ("request (5000 tokens) exceeds the available context size (4096 tokens), try increasing it", (5000, 4096)),
        ("This model's maximum context length is 8192 tokens. However, you requested 9000 tokens (8000 in the messages, "
         "1000 in the completion).", (9000, 8192)),
        ("the input is longer than the context length", (None, None)),
    ],
)
def test_context_exceeded_parses_what_it_can(detail, numbers):
    error = context_exceeded(detail, {"error": {"message": detail}}, "generic")
    assert error is not None and (error.prompt_tokens, error.context_tokens) == numbers


def test_other_400s_are_not_context_errors():
    assert context_exceeded("invalid value for temperature", None, "vllm") is None
