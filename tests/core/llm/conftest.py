from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import pytest

from bot.core.llm import LLMClient
from bot.core.llm.pool import LLMPool
from bot.core.llm.retry import Sleep
from bot.settings import Settings, load_settings
from tests.fakes.fake_llm import FakeLLM


@pytest.fixture
async def fake() -> AsyncIterator[FakeLLM]:
    async with FakeLLM(model="llama3.1:8b", ollama=True, context_length=8192) as llm:
        yield llm


@pytest.fixture
async def fake_of() -> AsyncIterator[Callable[..., Awaitable[FakeLLM]]]:
    """Start a FakeLLM of any flavour; all are stopped at teardown."""
    async with AsyncExitStack() as stack:

        async def start(flavor: str = "ollama", **kw: Any) -> FakeLLM:
            return await stack.enter_async_context(FakeLLM(flavor=flavor, **kw))  # type: ignore[arg-type]

        yield start


def make_settings(base_url: str, **overrides: object) -> Settings:
    # Explicit values so a developer's LLM_* environment cannot change what the tests check.
    values: dict[str, object] = {
        "llm_base_url": base_url,
        "llm_model": "llama3.1:8b",
        "llm_context_tokens": None,
        "llm_max_context_tokens": 16384,
        "llm_keep_alive": "30m",
        "llm_think": False,
        "llm_timeout_s": 5.0,
        "llm_temperature": 0.3,
        "llm_max_tokens": 2048,
    }
    return load_settings(**{**values, **overrides})


@pytest.fixture
async def client_for() -> AsyncIterator[Callable[..., LLMClient]]:
    """Build clients with a tiny retry delay; all are closed at teardown."""
    clients: list[LLMClient] = []

    def build(base_url: str, *, retry_attempts: int = 3, sleep: Any = None, **overrides: object) -> LLMClient:
        settings = make_settings(base_url, **overrides)
        extra = {"sleep": sleep} if sleep is not None else {}
        client = LLMClient(settings, retry_attempts=retry_attempts, retry_base_delay_s=0.001, **extra)
        clients.append(client)
        return client

    yield build
    for client in clients:
        await client.aclose()


BENCH_S = 60.0


class Clock:
    """The pool's bench clock: a number the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def pool_of() -> AsyncIterator[Callable[..., LLMPool]]:
    """Build LLM pools over real servers; all are closed at teardown."""
    pools: list[LLMPool] = []

    def build(*urls: str, clock: Clock | None = None, sleep: Sleep | None = None, retry_attempts: int = 2,
              **overrides: object) -> LLMPool:
        settings = make_settings(",".join(urls), llm_bench_s=BENCH_S, **overrides)
        pool = LLMPool(settings, retry_attempts=retry_attempts, retry_base_delay_s=0.001, clock=clock or Clock(),
                       **({"sleep": sleep} if sleep else {}))
        pools.append(pool)
        return pool

    yield build
    for pool in pools:
        await pool.aclose()
