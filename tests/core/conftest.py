"""Fixtures shared by the core tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.fake_llm import FakeLLM


@pytest.fixture
async def llm() -> AsyncIterator[FakeLLM]:
    """A fake Ollama serving llama3.1:8b; answers with a gate-passing report unless a test scripts otherwise."""
    async with FakeLLM(model="llama3.1:8b", ollama=True, context_length=8192) as fake:
        yield fake
