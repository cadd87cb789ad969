"""Hostile model behaviour inside the pipeline (issue 13 review): what is narrated is never text the gate would
refuse or a note meant for readers. Real LLM client against the fake server, fake edge-tts for the narration."""

from __future__ import annotations

from bot.core.incident import load_incident
from bot.core.prompt import build_summary_prompt
from bot.core.sections import SectionId
from bot.core.speech import deterministic_summary
from tests.core.gate.reports import SUMMARY, as_markdown, good_sections
from tests.core.test_pipeline import SAMPLE, Recorder, pipeline_for
from tests.fakes.fake_edge_tts import FakeEdgeTTS
from tests.fakes.fake_llm import FakeLLM, cut, empty, text


async def test_a_summary_cut_at_the_token_limit_is_never_narrated_with_its_cut_note(llm: FakeLLM) -> None:
    """The model ran out of LLM_MAX_TOKENS inside the spoken summary: readers see the cut note, listeners must not
    hear "Cut here: the answer reached LLM_MAX_TOKENS" or a half sentence; the summary is asked for again."""
    report = as_markdown(good_sections())
    llm.script(cut(report[:-40]), empty(), text(SUMMARY))  # the answer, the repair call, the fallback summary
    async with FakeEdgeTTS() as edge:
        pipeline = pipeline_for(llm, tts_engine="edge")
        try:
            result = await pipeline.run(load_incident(SAMPLE), Recorder(llm))
        finally:
            await pipeline.aclose()
        spoken = " ".join(r.text for r in edge.requests)
    info = result.info
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
    assert "spoken summaries" not in (result.info.narrated_text or "")
