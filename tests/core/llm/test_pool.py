"""Several LLM servers in LLM_BASE_URL: least busy first, servers without the model skipped, a failing server benched
and the request sent elsewhere (unless text already reached the reader), each server reported by doctor.
Real FakeLLM servers on loopback; the bench clock is a counter the test moves."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from bot.cli.doctor import check_llm
from bot.core.llm.pool import LLMPool, make_llm
from bot.errors import LLMUnavailable
from tests.core.llm.conftest import BENCH_S, Clock, make_settings
from tests.fakes.fake_llm import FakeLLM, reset, stall, status, text, unused_base_url

StartFake = Callable[..., Awaitable[FakeLLM]]


async def ask(pool: LLMPool) -> str:
    return (await pool.stream("system", "user")).text


def test_one_server_stays_a_plain_client_and_several_make_a_pool() -> None:
    assert not isinstance(make_llm(make_settings("http://a:11434/v1")), LLMPool)
    pool = make_llm(make_settings("http://a:11434/v1, http://b:11434/v1"))
    assert isinstance(pool, LLMPool) and pool.shown_url == "http://a:11434/v1, http://b:11434/v1"


async def test_a_request_goes_to_the_least_busy_server(fake_of: StartFake, pool_of) -> None:  # type: ignore[no-untyped-def]
    a, b = await fake_of(), await fake_of()
    gate = asyncio.Event()
    a.script(text("## Root Cause\nfrom a", gate=gate, gate_at="from"))
    b.script(text("## Root Cause\nfrom b"))
    pool = pool_of(a.base_url, b.base_url)
    await pool.preflight()
    first = asyncio.create_task(ask(pool))
    await a.at_gate.wait()  # a is busy with the first request
    assert "from b" in await ask(pool)
    gate.set()
    assert "from a" in await first
    assert (len(a.chat_requests), len(b.chat_requests)) == (1, 1)


async def test_a_server_without_the_model_is_left_out(fake_of: StartFake, pool_of) -> None:  # type: ignore[no-untyped-def]
    other, right = await fake_of(model="qwen2.5:7b"), await fake_of()
    pool = pool_of(other.base_url, right.base_url)
    info = await pool.preflight()
    assert any(other.base_url in w and "left out" in w for w in info.warnings)
    await ask(pool)
    await ask(pool)
    assert (len(other.chat_requests), len(right.chat_requests)) == (0, 2)


async def test_the_smallest_context_is_planned_for(fake_of: StartFake, pool_of) -> None:  # type: ignore[no-untyped-def]
    big, small = await fake_of(context_length=32768), await fake_of(context_length=8192)
    info = await pool_of(big.base_url, small.base_url).preflight()
    assert info.context_tokens == 8192  # a prompt sized for it fits whichever server runs it


@pytest.mark.parametrize(("fault", "settings"), [
    (status(503, times=2), {}),  # busy through both of its attempts
    (stall(), {"llm_timeout_s": 0.3}),  # no first byte within LLM_TIMEOUT_S
    (status(404), {}),  # the model was removed from that server
], ids=["busy", "stalled", "model-gone"])
async def test_a_failing_server_is_benched_and_the_request_runs_elsewhere(fake_of: StartFake, pool_of, fault, settings) -> None:  # type: ignore[no-untyped-def]
    bad, good = await fake_of(), await fake_of()
    bad.script(fault)
    clock = Clock()
    pool = pool_of(bad.base_url, good.base_url, clock=clock, **settings)
    await pool.preflight()
    assert (await ask(pool)).startswith("## ")
    tried_bad = len(bad.chat_requests)
    assert tried_bad >= 1 and len(good.chat_requests) == 1
    await ask(pool)
    assert len(bad.chat_requests) == tried_bad  # benched: not asked again
    clock.now += BENCH_S + 1
    await pool.preflight()
    await ask(pool)
    assert len(bad.chat_requests) == tried_bad + 1  # back after the bench, and least busy again


async def test_a_refusing_server_is_benched_at_preflight(fake_of: StartFake, pool_of) -> None:  # type: ignore[no-untyped-def]
    good = await fake_of()
    down = unused_base_url()
    pool = pool_of(down, good.base_url)
    info = await pool.preflight()
    assert any(down in w and "left out" in w for w in info.warnings)
    assert (await ask(pool)).startswith("## ") and len(good.chat_requests) == 1


async def test_an_answer_cut_after_text_arrived_is_not_started_over_elsewhere(fake_of: StartFake, pool_of) -> None:  # type: ignore[no-untyped-def]
    first, second = await fake_of(), await fake_of()
    first.script(reset("## Incident Timeline\n10:02 deploy"))
    pool = pool_of(first.base_url, second.base_url)
    await pool.preflight()
    seen: list[str] = []

    async def on_text(delta: str) -> None:
        seen.append(delta)

    with pytest.raises(LLMUnavailable):
        await pool.stream("system", "user", on_text=on_text)
    assert seen and second.chat_requests == []  # the reader has part of an answer: another would repeat it


async def test_no_usable_server_names_each_one(fake_of: StartFake, pool_of) -> None:  # type: ignore[no-untyped-def]
    other = await fake_of(model="qwen2.5:7b")
    down = unused_base_url()
    with pytest.raises(LLMUnavailable) as err:
        await pool_of(down, other.base_url).preflight()
    assert down in err.value.message and other.base_url in err.value.message and "no LLM server can serve" in err.value.message


async def test_doctor_reports_each_server(fake_of: StartFake, capsys) -> None:  # type: ignore[no-untyped-def]
    up = await fake_of()
    down = unused_base_url()
    assert not await check_llm(make_settings(f"{up.base_url},{down}"))
    out = capsys.readouterr().out
    assert f"[ok] llm 1/2: ollama at {up.base_url}" in out and "[ok] context 1/2:" in out
    assert f"[FAIL] llm 2/2: {down}: left out of the pool: cannot reach" in out and "fix: " in out
