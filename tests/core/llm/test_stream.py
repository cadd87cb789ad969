"""LLMClient.stream / complete through the real openai SDK against the fake server."""

from __future__ import annotations

import asyncio
import math

import pytest

from bot.core.llm import truncation_warning
from bot.errors import EmptyOutput, LLMBusy, LLMTimeout, LLMUnavailable, ModelNotFound
from tests.fakes.fake_llm import FakeLLM, empty, invalid_json, stall, status, text, unused_base_url
from tests.fakes.sample_reports import sample_report


async def test_text_arrives_in_deltas_with_usage(fake, client_for):
    fake.script(text("The gateway timeout was 500 ms.", chunk_chars=5))
    deltas: list[str] = []

    async def collect(delta: str) -> None:
        deltas.append(delta)

    result = await client_for(fake.base_url).stream("sys", "user prompt", on_text=collect)

    assert deltas == ["The g", "atewa", "y tim", "eout ", "was 5", "00 ms", "."]
    assert result.text == "The gateway timeout was 500 ms."
    assert result.prompt_tokens == math.ceil(len("sysuser prompt") / 4)
    assert result.completion_tokens == math.ceil(len(result.text) / 4)
    assert result.finish_reason == "stop"
    assert result.truncated_warning is None


async def test_temperature_and_max_tokens_always_sent(fake, client_for):
    client = client_for(fake.base_url)
    await client.stream("system text", "user text")
    assert await client.complete("s", "u", temperature=0.2, max_tokens=300) == sample_report()

    streamed, completed = fake.chat_requests
    assert streamed["temperature"] == 0.3 and streamed["max_tokens"] == 2048
    assert streamed["stream"] is True and streamed["stream_options"] == {"include_usage": True}
    assert streamed["model"] == "llama3.1:8b"
    assert streamed["messages"] == [
        {"role": "system", "content": "system text"},
        {"role": "user", "content": "user text"},
    ]
    assert completed["temperature"] == 0.2 and completed["max_tokens"] == 300


async def test_progressive_delivery_before_stream_ends(fake, client_for):
    gate = asyncio.Event()
    report = sample_report()
    fake.script(text(report, chunk_chars=16, gate=gate, gate_at="## Root Cause Determination"))
    seen: list[str] = []
    gaps_posted = asyncio.Event()

    async def collect(delta: str) -> None:
        seen.append(delta)
        if "## Testing Gap Analysis" in "".join(seen):
            gaps_posted.set()

    task = asyncio.create_task(client_for(fake.base_url).stream("s", "u", on_text=collect))
    async with asyncio.timeout(5):  # a safety net only: both events are set long before this
        await fake.at_gate.wait()
        await gaps_posted.wait()
    assert "Root Cause" not in "".join(seen)
    assert not fake.finished.is_set()

    gate.set()
    result = await task
    assert result.text == report
    assert fake.finished.is_set() and fake.finished_at is not None


async def test_truncation_warning_from_usage(fake, client_for):
    client = client_for(fake.base_url, llm_context_tokens=2048)
    await client.preflight()

    near_full = await client.stream("s", "x" * (2000 * 4))  # ≈ 2001 tokens of 2048: Ollama would have cut it
    assert near_full.truncated_warning and "2001 of 2048" in near_full.truncated_warning

    roomy = await client.stream("s", "x" * 4000)
    assert roomy.truncated_warning is None

    explicit = await client.stream("s", "x" * 3960, context_tokens=1000)
    assert explicit.truncated_warning and "991 of 1000" in explicit.truncated_warning


def test_truncation_warning_rule():
    assert truncation_warning(None, 4096) is None
    assert truncation_warning(3890, 4096) is None
    assert "probably cut" in (truncation_warning(3892, 4096) or "")
    assert "LLM_CONTEXT_TOKENS" in (truncation_warning(6000, 4096) or "")


async def test_unreachable_server(client_for):
    client = client_for(unused_base_url())
    with pytest.raises(LLMUnavailable) as info:
        await client.stream("s", "u")
    assert "ollama serve" in (info.value.fix or "")
    assert type(info.value) is LLMUnavailable


async def test_404_model_not_found(fake, client_for):
    fake.script(status(404))
    with pytest.raises(ModelNotFound) as info:
        await client_for(fake.base_url).stream("s", "u")
    assert "ollama pull llama3.1:8b" in (info.value.fix or "")


async def test_unpulled_model_gets_ollama_404(fake, client_for):
    with pytest.raises(ModelNotFound) as info:
        await client_for(fake.base_url, llm_model="mistral").stream("s", "u")
    assert info.value.fix == "ollama pull mistral"


async def test_wrong_base_path_is_not_blamed_on_the_model(fake, client_for):
    with pytest.raises(LLMUnavailable) as info:
        await client_for(fake.url).stream("s", "u")  # missing /v1: the server's plain 404 page
    assert not isinstance(info.value, ModelNotFound)
    assert "LLM_BASE_URL" in (info.value.fix or "")


async def test_busy_twice_then_ok(fake, client_for):
    fake.script(status(503, times=2), text("recovered"))
    result = await client_for(fake.base_url, retry_attempts=3).stream("s", "u")
    assert result.text == "recovered"
    assert len(fake.chat_requests) == 3


async def test_busy_always_gives_up(client_for):
    async with FakeLLM(default=status(503)) as llm:
        with pytest.raises(LLMBusy) as info:
            await client_for(llm.base_url, retry_attempts=4).stream("s", "u")
        assert len(llm.chat_requests) == 4
    assert "4 attempts" in info.value.message


async def test_other_server_errors_are_not_retried(fake, client_for):
    fake.script(status(500, "llama runner process has terminated"))
    with pytest.raises(LLMUnavailable) as info:
        await client_for(fake.base_url).stream("s", "u")
    assert "llama runner process has terminated" in info.value.message
    assert len(fake.chat_requests) == 1


async def test_bad_api_key(fake, client_for):
    fake.script(status(401))
    with pytest.raises(LLMUnavailable) as info:
        await client_for(fake.base_url).stream("s", "u")
    assert "LLM_API_KEY" in (info.value.fix or "")


async def test_stall_times_out(fake, client_for):
    fake.script(stall("partial answer"))
    seen: list[str] = []

    async def collect(delta: str) -> None:
        seen.append(delta)

    with pytest.raises(LLMTimeout) as info:
        await client_for(fake.base_url, llm_timeout_s=0.3).stream("s", "u", on_text=collect)
    assert "".join(seen) == "partial answer"
    assert "0.3 s" in info.value.message and "LLM_TIMEOUT_S" in (info.value.fix or "")


async def test_slow_but_steady_model_is_not_killed(fake, client_for):
    # 16 chunks at 40/s take ~0.4 s in total, longer than the 0.25 s timeout, but no gap comes close to it.
    fake.script(text("a" * 64, chunk_chars=4, tokens_per_s=40))
    result = await client_for(fake.base_url, llm_timeout_s=0.25).stream("s", "u")
    assert result.text == "a" * 64


async def test_slow_on_text_does_not_count_as_a_stall(fake, client_for):
    fake.script(text("first second", chunk_chars=100))

    async def slow_consumer(_: str) -> None:
        await asyncio.sleep(0.3)  # stands in for a slow Slack post; longer than the model timeout

    result = await client_for(fake.base_url, llm_timeout_s=0.2).stream("s", "u", on_text=slow_consumer)
    assert result.text == "first second"


async def test_empty_output(fake, client_for):
    fake.script(empty())
    with pytest.raises(EmptyOutput):
        await client_for(fake.base_url).stream("s", "u")


async def test_whitespace_only_output_is_empty(fake, client_for):
    fake.script(text("  \n\n "))
    with pytest.raises(EmptyOutput):
        await client_for(fake.base_url).stream("s", "u")


async def test_invalid_json_in_stream(fake, client_for):
    fake.script(invalid_json("start of an answer"))
    with pytest.raises(LLMUnavailable) as info:
        await client_for(fake.base_url).stream("s", "u")
    assert "malformed" in info.value.message and "LLM_BASE_URL" in (info.value.fix or "")
