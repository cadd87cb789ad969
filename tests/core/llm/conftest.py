from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from bot.core.llm import LLMClient
from bot.settings import Settings, load_settings
from tests.fakes.fake_llm import FakeLLM


@pytest.fixture
async def fake() -> AsyncIterator[FakeLLM]:
    async with FakeLLM(model="llama3.1:8b", ollama=True, context_length=8192) as llm:
        yield llm


def make_settings(base_url: str, **overrides: object) -> Settings:
    # Explicit values so a developer's LLM_* environment cannot change what the tests check.
    values: dict[str, object] = {
        "llm_base_url": base_url,
        "llm_model": "llama3.1:8b",
        "llm_context_tokens": None,
        "llm_timeout_s": 5.0,
        "llm_temperature": 0.3,
        "llm_max_tokens": 2048,
    }
    return load_settings(**{**values, **overrides})


@pytest.fixture
async def client_for() -> AsyncIterator[Callable[..., LLMClient]]:
    """Build clients with a tiny retry delay; all are closed at teardown."""
    clients: list[LLMClient] = []

    def build(base_url: str, *, retry_attempts: int = 3, **overrides: object) -> LLMClient:
        settings = make_settings(base_url, **overrides)
        client = LLMClient(settings, retry_attempts=retry_attempts, retry_base_delay_s=0.001)
        clients.append(client)
        return client

    yield build
    for client in clients:
        await client.aclose()
