"""Reviewer-accepted answers through the real pipeline: the real OpenAI client against the OpenAI-compatible fake
streaming each answer, the real parser and gate. A reviewer would accept them as written, so the bot must not ask
the model for a single repair."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.core.gate.repair import REPAIR_SYSTEM
from bot.core.incident.load import load_incident
from bot.core.sections import SECTION_TITLES
from tests.core.gate.accepted import NOTES, Accepted, accepted
from tests.core.test_pipeline import Recorder, pipeline_for
from tests.fakes.fake_llm import FakeLLM, text


@pytest.fixture
async def openai_llm() -> AsyncIterator[FakeLLM]:
    async with FakeLLM(model="qwen2.5-7b-instruct", ollama=False, context_length=16384) as fake:
        yield fake


def repair_calls(llm: FakeLLM) -> int:
    return sum(1 for r in llm.chat_requests if r["messages"][0]["content"] == REPAIR_SYSTEM)


@pytest.mark.parametrize("case", accepted(), ids=lambda c: c.id)
async def test_an_accepted_answer_makes_zero_repair_calls(openai_llm: FakeLLM, case: Accepted) -> None:
    openai_llm.script(text(case.answer, chunk_chars=7))
    rec = Recorder(openai_llm)
    pipeline = pipeline_for(openai_llm, tts_engine="none", llm_model=openai_llm.model, llm_context_tokens=16384)
    try:
        result = await pipeline.run(load_incident(str(case.incident)), rec, narrate=False)
    finally:
        await pipeline.aclose()
    # The answer itself and no repair. (A test type outside the plan's seven, such as "property", may still cost the
    # test plan's one structured call: that is the plan filling a field, not the gate sending the answer back.)
    assert repair_calls(openai_llm) == 0
    assert len(openai_llm.chat_requests) - len(openai_llm.json_requests) == 1
    quality = result.facts.quality
    assert quality["passed"] and not quality["repaired"], quality["still_failing"]
    assert result.run.mode == "full" and [s.id for s in rec.sections] == list(SECTION_TITLES) and rec.revised == []
    # A note is recorded and written in the report's notes, never a warning in the closing line.
    assert quality["notes"] == NOTES.get(case.id, [])
    assert not [w for w in result.facts.warnings if w.startswith("Quality check") or "no test names" in w]
    assert all(f"- Quality note: {note}" in result.report_markdown for note in quality["notes"])
