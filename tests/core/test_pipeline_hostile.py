"""Hostile model behaviour inside the pipeline (issue 13 review): what is narrated is never text the gate would
refuse or a note meant for readers. Real LLM client against the fake server, fake edge-tts for the narration."""

from __future__ import annotations

from bot.core.incident import load_incident
from bot.core.sections import SectionId
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
