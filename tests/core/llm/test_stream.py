"""LLMClient.stream / complete on both transports: Ollama's /api/chat (aiohttp) and /v1 through the openai SDK."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator

import pytest

from bot.core.llm import truncation_warning
from bot.errors import EmptyOutput, LLMBusy, LLMTimeout, LLMUnavailable, ModelNotFound
from tests.fakes.fake_llm import FakeLLM, cut, empty, gate_passing_report, invalid_json, stall, status, text
from tests.fakes.sample_reports import sample_report

FLAVORS = ["ollama", "llama.cpp"]


@pytest.fixture(params=FLAVORS)
async def served(request: pytest.FixtureRequest) -> AsyncIterator[FakeLLM]:
    async with FakeLLM(flavor=request.param, model="llama3.1:8b", context_length=8192) as llm:
        yield llm


async def test_text_arrives_in_deltas_with_usage(served, client_for):
    served.script(text("The gateway timeout was 500 ms.", chunk_chars=5))
    deltas: list[str] = []

    async def collect(delta: str) -> None:
        deltas.append(delta)

    result = await client_for(served.base_url).stream("sys", "user prompt", on_text=collect)

    assert deltas == ["The g", "atewa", "y tim", "eout ", "was 5", "00 ms", "."]
    assert result.text == "The gateway timeout was 500 ms."
    assert result.prompt_tokens == math.ceil(len("sysuser prompt") / 4)
    assert result.completion_tokens == math.ceil(len(result.text) / 4)
    assert (result.finish_reason, result.server_model) == ("stop", "llama3.1:8b")
    assert result.truncated_warning is None and result.warnings == [] and result.template_tokens == 0


async def test_temperature_and_max_tokens_always_sent(served, client_for):
    client = client_for(served.base_url)
    await client.stream("system text", "user text")
    assert await client.complete("s", "u", temperature=0.2, max_tokens=300) == gate_passing_report()

    streamed, completed = served.chat_requests
    assert streamed["temperature"] == 0.3 and streamed["max_tokens"] == 2048
    assert streamed["stream"] is True and streamed["model"] == "llama3.1:8b"
    assert streamed["messages"] == [
        {"role": "system", "content": "system text"},
        {"role": "user", "content": "user text"},
    ]
    assert completed["temperature"] == 0.2 and completed["max_tokens"] == 300


async def test_openai_path_asks_for_usage(fake_of, client_for):
    llm = await fake_of("vllm", model="llama3.1:8b")
    await client_for(llm.base_url).stream("s", "u")
    assert llm.chat_requests[0]["stream_options"] == {"include_usage": True}


async def test_progressive_delivery_before_stream_ends(served, client_for):
    gate = asyncio.Event()
    report = sample_report()
    served.script(text(report, chunk_chars=16, gate=gate, gate_at="## Root Cause Determination"))
    seen: list[str] = []
    gaps_posted = asyncio.Event()

    async def collect(delta: str) -> None:
        seen.append(delta)
        if "## Testing Gap Analysis" in "".join(seen):
            gaps_posted.set()

    task = asyncio.create_task(client_for(served.base_url).stream("s", "u", on_text=collect))
    async with asyncio.timeout(5):  # a safety net only: both events are set long before this
        await served.at_gate.wait()
        await gaps_posted.wait()
    assert "Root Cause" not in "".join(seen)
    assert not served.finished.is_set()

    gate.set()
    result = await task
    assert result.text == report
    assert served.finished.is_set() and served.finished_at is not None


async def test_ollama_silent_truncation_is_flagged_against_the_num_ctx_sent(fake, client_for):
    client = client_for(fake.base_url, llm_context_tokens=4096)
    cut_short = await client.stream("s", "x" * (8000 * 4))  # needs more than the 4096 ceiling: Ollama cuts it
    assert fake.native_chats[-1]["options"]["num_ctx"] == 4096
    assert cut_short.truncated_warning and "4096 of 4096" in cut_short.truncated_warning
    assert cut_short.truncated_warning in cut_short.warnings

    roomy = await client.stream("s", "x" * 4000)
    assert roomy.truncated_warning is None


async def test_openai_path_truncation_uses_the_callers_context(fake_of, client_for):
    llm = await fake_of("generic", model="llama3.1:8b")
    client = client_for(llm.base_url)
    explicit = await client.stream("s", "x" * 3960, context_tokens=1000)
    assert explicit.truncated_warning and "991 of 1000" in explicit.truncated_warning


def test_truncation_warning_rule():
    assert truncation_warning(None, 4096) is None
    assert truncation_warning(3890, 4096) is None
    assert "probably cut" in (truncation_warning(3892, 4096) or "")
    assert "LLM_CONTEXT_TOKENS" in (truncation_warning(6000, 4096) or "")


async def test_404_model_removed_after_preflight(served, client_for):
    client = client_for(served.base_url)
    await client.preflight()
    served.script(status(404))
    with pytest.raises(ModelNotFound) as info:
        await client.stream("s", "u")
    expected = "ollama pull llama3.1:8b" if served.flavor == "ollama" else "LLM_MODEL"
    assert expected in (info.value.fix or "")


async def test_wrong_base_path_is_not_blamed_on_the_model(fake_of, client_for):
    llm = await fake_of("generic", model="llama3.1:8b")
    with pytest.raises(LLMUnavailable) as info:
        await client_for(llm.url).stream("s", "u")  # missing /v1: the server's plain 404 page
    assert not isinstance(info.value, ModelNotFound)
    assert "LLM_BASE_URL" in (info.value.fix or "")


async def test_ollama_url_without_v1_still_works(fake, client_for):
    assert (await client_for(fake.url).stream("s", "u")).text == gate_passing_report()


async def test_busy_twice_then_ok(served, client_for):
    served.script(status(503, times=2), text("recovered"))
    result = await client_for(served.base_url, retry_attempts=3).stream("s", "u")
    assert result.text == "recovered"
    assert len(served.chat_requests) == 3


async def test_busy_always_gives_up(client_for):
    async with FakeLLM(default=status(503)) as llm:
        with pytest.raises(LLMBusy) as info:
            await client_for(llm.base_url, retry_attempts=4).stream("s", "u")
        assert len(llm.chat_requests) == 4
    assert "4 attempts" in info.value.message and "OLLAMA_NUM_PARALLEL" in (info.value.fix or "")


async def test_other_server_errors_are_not_retried(served, client_for):
    served.script(status(500, "llama runner process has terminated"))
    with pytest.raises(LLMUnavailable) as info:
        await client_for(served.base_url).stream("s", "u")
    assert "llama runner process has terminated" in info.value.message
    assert len(served.chat_requests) == 1


async def test_bad_api_key(served, client_for):
    client = client_for(served.base_url)
    await client.preflight()
    served.script(status(401))
    with pytest.raises(LLMUnavailable) as info:
        await client.stream("s", "u")
    assert "LLM_API_KEY" in (info.value.fix or "")


async def test_stall_times_out(served, client_for):
    served.script(stall("partial answer"))
    seen: list[str] = []

    async def collect(delta: str) -> None:
        seen.append(delta)

    with pytest.raises(LLMTimeout) as info:
        await client_for(served.base_url, llm_timeout_s=0.3).stream("s", "u", on_text=collect)
    assert "".join(seen) == "partial answer"
    assert "0.3 s" in info.value.message and "LLM_TIMEOUT_S" in (info.value.fix or "")


async def test_slow_but_steady_model_is_not_killed(served, client_for):
    # 16 chunks at 40/s take ~0.4 s in total, longer than the 0.25 s timeout, but no gap comes close to it.
    served.script(text("a" * 64, chunk_chars=4, tokens_per_s=40))
    result = await client_for(served.base_url, llm_timeout_s=0.25).stream("s", "u")
    assert result.text == "a" * 64


async def test_slow_on_text_does_not_count_as_a_stall(served, client_for):
    served.script(text("first second", chunk_chars=100))

    async def slow_consumer(_: str) -> None:
        await asyncio.sleep(0.3)  # stands in for a slow Slack post; longer than the model timeout

    result = await client_for(served.base_url, llm_timeout_s=0.2).stream("s", "u", on_text=slow_consumer)
    assert result.text == "first second"


@pytest.mark.parametrize("reply", [empty(), text("  \n\n ")], ids=["empty", "whitespace"])
async def test_empty_output(served, client_for, reply):
    served.script(reply)
    with pytest.raises(EmptyOutput) as info:
        await client_for(served.base_url).stream("s", "u")
    assert "ollama" not in (info.value.fix or "")


async def test_all_tokens_spent_without_text_names_the_token_limit(served, client_for):
    served.script(cut(""))
    with pytest.raises(EmptyOutput) as info:
        await client_for(served.base_url).stream("s", "u")
    assert "all 2048 answer tokens" in info.value.message and "LLM_MAX_TOKENS" in (info.value.fix or "")


async def test_invalid_json_in_stream(served, client_for):
    served.script(invalid_json("start of an answer"))
    with pytest.raises(LLMUnavailable) as info:
        await client_for(served.base_url).stream("s", "u")
    assert "malformed" in info.value.message and "LLM_BASE_URL" in (info.value.fix or "")
