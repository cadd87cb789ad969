"""Hostile model behaviour inside the pipeline (issue 13 review): what is narrated is never text the gate would
refuse or a note meant for readers. Real LLM client against the fake server, fake edge-tts for the narration."""

from __future__ import annotations

import json
from collections.abc import Coroutine
from typing import Any

import pytest

from bot.core.answer.model import Answer
from bot.core.answer.stream import AnswerStream
from bot.core.events import ignore
from bot.core.incident.load import load_incident
from bot.core.prompt import build_summary_prompt
from bot.core.run import RunFacts
from bot.core.sections import SECTION_TITLES, SectionId
from bot.core.speech.streaming import SpeechStream
from bot.core.speech.text import deterministic_summary
from bot.core.speech.types import Audio
from tests.core.gate.reports import GOOD, SUMMARY, as_markdown, good_sections, incident_text, prompt_text
from tests.core.test_pipeline import SAMPLE, Recorder, pipeline_for, run_narrated_by_edge
from tests.fakes.fake_edge_tts import FakeEdgeTTS
from tests.fakes.fake_llm import FakeLLM, cut, empty, status, text

ECHO_HINT = "One sub-heading per test with Type, Scope, Fault injection and Success criteria."


async def test_a_summary_cut_at_the_token_limit_is_never_narrated_with_its_cut_note(llm: FakeLLM) -> None:
    """The model ran out of LLM_MAX_TOKENS inside the spoken summary: readers see the cut note, listeners must not
    hear "Cut here: the answer reached LLM_MAX_TOKENS" or a half sentence; the summary is asked for again."""
    report = as_markdown(good_sections())
    llm.script(cut(report[:-40]), empty(), text(SUMMARY))  # the answer, the repair call, the fallback summary
    result, spoken = await run_narrated_by_edge(llm)
    info = result.facts
    assert "Cut here" not in (info.narrated_text or "") and "Cut here" not in spoken
    assert result.summary == SUMMARY and info.narrated_text and info.narrated_text.split() == SUMMARY.split()
    assert "audio_summary" in info.quality["repaired_sections"] and len(llm.chat_requests) == 3
    assert any(s.id is SectionId.AUDIO_SUMMARY and s.cut for s in result.sections)  # the written one says where it stops


async def test_a_fallback_summary_that_echoes_its_own_prompt_is_not_narrated(llm: FakeLLM) -> None:
    """No spoken summary in the answer: the one fallback call's text passes the same garbage checks, against the
    prompt that call sent too; an echo of it gives way to the summary built from the sections."""
    system, _ = build_summary_prompt("")
    no_summary = [s for s in good_sections() if s.id is not SectionId.AUDIO_SUMMARY]
    llm.script(text(as_markdown(no_summary)), text(f"{system}\n\n{system}"))
    async with FakeEdgeTTS():
        pipeline = pipeline_for(llm, tts_engine="edge")
        try:
            result = await pipeline.run(load_incident(SAMPLE), Recorder(llm))
        finally:
            await pipeline.aclose()
    assert len(llm.chat_requests) == 2 and result.summary == deterministic_summary(result.sections)
    assert "spoken summaries" not in (result.facts.narrated_text or "")



@pytest.mark.parametrize("garbage", [
    " ".join(["The database connection pool was exhausted by the new release."] * 20),
    "Write 150 to 200 words of plain spoken prose. " + ECHO_HINT + " " + SUMMARY,
])
async def test_a_garbage_summary_is_never_sent_to_the_narrator_while_it_streams(garbage: str) -> None:
    """The summary is narrated while it streams, before the section is complete and gated: the garbage checks
    run on what is written so far, so no batch of a loop or an echo reaches text-to-speech."""
    launched: list[str] = []

    def narrate(text_: str) -> Coroutine[Any, Any, Audio]:
        launched.append(text_)  # recorded when the batch is launched, before any request could be made

        async def audio() -> Audio:
            return Audio(b"", "edge", "test", 0.0)
        return audio()

    answer = Answer(prompt_text=prompt_text(), incident_text=incident_text())
    stream = AnswerStream(ignore, RunFacts(prompt_version="test", model="test"), answer, SpeechStream(narrate), lambda s: s.finish(), _nothing)
    for sid in SECTION_TITLES:
        body = garbage if sid is SectionId.AUDIO_SUMMARY else GOOD[sid]
        markdown = f"## {SECTION_TITLES[sid]}\n\n{body}\n\n"
        for i in range(0, len(markdown), 7):
            await stream.on_text(markdown[i : i + 7])
    await stream.close("stop")
    assert launched == [] and "audio_summary" in answer.held and stream.narration is None


async def _nothing(_: str) -> None:
    return None


async def test_a_secret_in_a_failing_repair_call_is_not_written_to_the_run_record(llm: FakeLLM) -> None:
    """A proxy that quotes the key it refused, on the repair call: the run goes on (the sections stand as
    written) and run.json / the run store notes why, without the key."""
    key = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
    weak = "The pool, probably, or maybe the retries; hard to say which mattered more."
    llm.script(text(as_markdown(good_sections(root_cause=weak))), status(401, f"Incorrect API key provided: {key}", times=5))
    pipeline = pipeline_for(llm, tts_engine="none")
    try:
        result = await pipeline.run(load_incident(SAMPLE), Recorder(llm), narrate=False)
    finally:
        await pipeline.aclose()
    record = json.dumps(result.run.to_dict())
    assert result.run.mode == "full" and "the repair call failed" in record and key not in record
