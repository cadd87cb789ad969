"""The pool recovers: a good probe or answer lifts a bench, a waiting request re-picks among healthy servers, a long
Retry-After sends the request to a free server. Real FakeLLM servers on loopback driven by the real clients; the
bench clock is a counter the test moves, and the retry waits are recorded instead of slept."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from bot.core.llm.pool import REPROBE_S, LLMPool
from bot.errors import LLMUnavailable
from tests.core.llm.conftest import BENCH_S, Clock
from tests.fakes.fake_llm import FakeLLM, stall, status, text

StartFake = Callable[..., Awaitable[FakeLLM]]


async def ask(pool: LLMPool) -> str:
    return (await pool.stream("system", "user")).text


class Waits:
    """The retry loop's sleep: records each wait and returns at once."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)


def tags_probes(fake: FakeLLM) -> int:
    return sum(1 for r in fake.requests if r.path == "/api/tags")


async def test_all_servers_down_then_back_the_next_request_uses_them(fake_of: StartFake, pool_of) -> None:  # type: ignore[no-untyped-def]
    a, b = await fake_of(), await fake_of()
    pool = pool_of(a.base_url, b.base_url)  # the clock never moves: no bench runs out on its own
    await pool.preflight()
    await a.go_down()
    await b.go_down()
    with pytest.raises(LLMUnavailable, match="no LLM server can serve"):
        await ask(pool)
    assert not any(state.ready for state in pool.server_states())
    await a.come_back()
    await b.come_back()
    assert (await ask(pool)).startswith("## ")  # the probe found them back: no wait for LLM_BENCH_S
    assert all(state.ready for state in pool.server_states())


async def test_a_benched_server_back_is_probed_again_and_used(fake_of: StartFake, pool_of) -> None:  # type: ignore[no-untyped-def]
    a, b = await fake_of(), await fake_of()
    clock = Clock()
    pool = pool_of(a.base_url, b.base_url, clock=clock)
    await a.go_down()
    info = await pool.preflight()
    assert any(a.base_url in w for w in info.warnings)
    await a.come_back()
    await ask(pool)
    assert len(a.chat_requests) == 0  # still benched: the background probe waits REPROBE_S
    clock.now += REPROBE_S
    await pool.preflight()  # b answers it; a is probed in the background
    await pool.probes_done()
    assert [state.ready for state in pool.server_states()] == [True, True]
    await ask(pool)
    assert len(a.chat_requests) == 1  # back in the pool long before LLM_BENCH_S


async def test_a_server_benched_for_stalling_is_not_cleared_by_a_probe(fake_of: StartFake, pool_of) -> None:  # type: ignore[no-untyped-def]
    slow, good = await fake_of(), await fake_of()
    slow.script(stall())
    clock = Clock()
    pool = pool_of(slow.base_url, good.base_url, clock=clock, llm_timeout_s=0.3)
    await pool.preflight()
    await ask(pool)
    probes = tags_probes(slow)
    clock.now += REPROBE_S
    await pool.preflight()
    await pool.probes_done()
    assert tags_probes(slow) == probes  # its probe would pass while its answers stall
    state = pool.server_states()[0]
    assert not state.ready and "stopped answering" in state.detail


async def test_a_good_answer_lifts_a_bench(fake_of: StartFake, pool_of) -> None:  # type: ignore[no-untyped-def]
    a, b = await fake_of(), await fake_of()
    gate = asyncio.Event()
    a.script(text("## Root Cause\nslow but fine", gate=gate, gate_at="slow"))
    pool = pool_of(a.base_url, b.base_url)
    await pool.preflight()
    answer = asyncio.create_task(ask(pool))
    await a.at_gate.wait()
    await a.go_down()  # a restart between two requests: its probe fails while the answer is still streaming
    await pool.preflight()
    assert not pool.server_states()[0].ready
    await a.come_back()
    gate.set()
    assert "slow but fine" in await answer
    assert pool.server_states()[0].ready  # the answer came: the bench its probe earned is lifted


async def test_a_waiting_request_re_picks_among_healthy_servers(fake_of: StartFake, pool_of) -> None:  # type: ignore[no-untyped-def]
    a, b = await fake_of(), await fake_of()
    fail_a, finish_b = asyncio.Event(), asyncio.Event()
    a.script(status(500, gate=fail_a))  # a's request fails only when the test says
    b.script(text("## Root Cause\nfrom b", gate=finish_b, gate_at="from"))
    pool = pool_of(a.base_url, b.base_url, llm_concurrency=1)
    await pool.preflight()
    first = asyncio.create_task(ask(pool))
    await a.at_gate.wait()
    second = asyncio.create_task(ask(pool))
    await b.at_gate.wait()
    third = asyncio.create_task(ask(pool))  # both servers full: it waits for a slot (it starts before a fails)
    fail_a.set()  # a fails its request and is benched while the third waits
    finish_b.set()
    results = await asyncio.gather(first, second, third)
    assert all(r.startswith("## ") for r in results)
    assert len(a.chat_requests) == 1  # nothing more was sent to the benched server
    assert len(b.chat_requests) == 3


async def test_a_long_retry_after_moves_the_request_to_a_free_server(fake_of: StartFake, pool_of) -> None:  # type: ignore[no-untyped-def]
    busy, free = await fake_of(), await fake_of()
    busy.script(status(429, retry_after="30"))
    waits = Waits()
    pool = pool_of(busy.base_url, free.base_url, sleep=waits, retry_attempts=5)
    await pool.preflight()
    assert (await ask(pool)).startswith("## ")
    assert (len(busy.chat_requests), len(free.chat_requests), waits.asked) == (1, 1, [])
    state = pool.server_states()[0]
    assert not state.ready and state.detail.startswith("for 30 s more") and "429" in state.detail


@pytest.mark.parametrize("code", [429, 503])
async def test_a_short_retry_after_is_waited_out_on_the_same_server(fake_of: StartFake, pool_of, code: int) -> None:  # type: ignore[no-untyped-def]
    blip, other = await fake_of(), await fake_of()
    blip.script(status(code, retry_after="2"))
    waits = Waits()
    pool = pool_of(blip.base_url, other.base_url, sleep=waits, retry_attempts=5)
    await pool.preflight()
    await ask(pool)
    assert (len(blip.chat_requests), len(other.chat_requests), waits.asked) == (2, 0, [2.0])


async def test_the_only_server_left_is_retried_after_its_wait(fake_of: StartFake, pool_of) -> None:  # type: ignore[no-untyped-def]
    busy, broken = await fake_of(), await fake_of()
    busy.script(status(503, retry_after="20", times=2))
    broken.script(status(500))
    waits = Waits()
    pool = pool_of(busy.base_url, broken.base_url, sleep=waits, retry_attempts=5)
    await pool.preflight()
    # busy asked for 20 s, broken failed: busy is the only one left, so the request goes back and waits there
    assert (await ask(pool)).startswith("## ")
    assert (len(busy.chat_requests), len(broken.chat_requests)) == (3, 1)
    assert waits.asked == [20.0]


async def test_no_bench_outlasts_llm_bench_s(fake_of: StartFake, pool_of) -> None:  # type: ignore[no-untyped-def]
    busy, free = await fake_of(), await fake_of()
    busy.script(status(429, retry_after="3600"))
    pool = pool_of(busy.base_url, free.base_url, retry_attempts=5)
    await pool.preflight()
    await ask(pool)
    assert pool.server_states()[0].detail.startswith(f"for {BENCH_S:.0f} s more")
