"""Transport faults: a connection dropped mid-answer, and busy servers asking us to come back later."""

from __future__ import annotations

import pytest

from bot.core.llm import LLMDropped
from bot.core.llm.retry import MAX_RETRY_AFTER_S, retry_after
from bot.errors import LLMBusy
from tests.fakes.fake_llm import reset, status, text

FLAVORS = ["ollama", "llama.cpp", "vllm", "generic"]


class RecordingSleep:
    """Stands in for asyncio.sleep: the test checks the delays asked for without waiting them out."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_reset_mid_stream_is_a_drop_not_unreachable(fake_of, client_for, flavor):
    llm = await fake_of(flavor, model="llama3.1:8b")
    llm.script(reset("## Timeline\n- 14:02 alert fires", chunk_chars=4))
    seen: list[str] = []

    async def collect(delta: str) -> None:
        seen.append(delta)

    with pytest.raises(LLMDropped) as info:
        await client_for(llm.base_url).stream("s", "u", on_text=collect)
    assert info.value.message == "the LLM server dropped the connection after 8 tokens" and info.value.tokens == 8
    assert "cannot reach" not in str(info.value)
    assert "".join(seen) == "## Timeline\n- 14:02 alert fires"
    assert len(llm.chat_requests) == 1  # text already went out: never retried behind the caller's back


@pytest.mark.parametrize("flavor", FLAVORS)
@pytest.mark.parametrize("code", [429, 503])
async def test_retry_after_is_honoured(fake_of, client_for, flavor, code):
    llm = await fake_of(flavor, model="llama3.1:8b")
    llm.script(status(code, retry_after="2"), status(code, retry_after="0"), text("recovered"))
    sleep = RecordingSleep()
    result = await client_for(llm.base_url, retry_attempts=3, sleep=sleep).stream("s", "u")
    assert result.text == "recovered" and sleep.delays == [2.0, 0.0]


async def test_retry_after_is_bounded_and_backoff_applies_without_it(fake, client_for):
    fake.script(status(503, retry_after="86400"), status(503), status(503))
    sleep = RecordingSleep()
    with pytest.raises(LLMBusy) as info:
        await client_for(fake.base_url, retry_attempts=3, sleep=sleep).stream("s", "u")
    assert sleep.delays == [MAX_RETRY_AFTER_S, 0.002]  # capped; then base 0.001 · 2¹
    assert "(503) after 3 attempts" in info.value.message


async def test_busy_fix_fits_the_backend(fake_of, client_for):
    llm = await fake_of("llama.cpp", model="llama3.1:8b", default=status(503))
    with pytest.raises(LLMBusy) as info:
        await client_for(llm.base_url, retry_attempts=2, sleep=RecordingSleep()).stream("s", "u")
    assert "-np" in (info.value.fix or "") and "OLLAMA" not in (info.value.fix or "")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "5"}, 5.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # a date in the past: no wait
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_header(headers, expected):
    assert retry_after(headers) == expected
