"""The core pipeline driven directly: real LLM client → fake server, real parser, fake edge-tts, piper for real."""

from __future__ import annotations

import asyncio

from bot.core.events import (
    DigestReady,
    Event,
    PlanReady,
    PreviewRetracted,
    Progress,
    ReportReady,
    SectionDone,
    SectionPreview,
    SectionRevised,
    Stage,
    StageStarted,
)
from bot.core.incident.load import load_incident
from bot.core.llm import LLMClient
from bot.core.pipeline import Pipeline, PostmortemResult
from bot.core.plan import TestPlan
from bot.core.sections import Section, SectionId
from bot.core.speech.text import word_count
from bot.settings import load_settings
from tests.core.gate.reports import SUMMARY
from tests.fakes.fake_edge_tts import FakeEdgeTTS
from tests.fakes.fake_llm import FakeLLM, gate_passing_report, status, text
from tests.fakes.sample_reports import sample_report, summary_prose

SAMPLE = "bot/samples/checkout-incident.json"


class Recorder:
    """Subscriber recording what the pipeline emitted, with the stream's state at each section."""

    def __init__(self, llm: FakeLLM) -> None:
        self.llm = llm
        self.stages: list[Stage] = []
        self.sections: list[Section] = []
        self.stream_done_at_section: list[bool] = []
        self.report: str | None = None
        self.progress: list[Progress] = []
        self.digest: str | None = None
        self.revised: list[Section] = []
        self.previews: list[tuple[SectionId, str]] = []
        self.retracted: list[SectionId] = []
        self.plans: list[TestPlan] = []
        self.report_after_plan: list[bool] = []

    async def __call__(self, event: Event) -> None:
        match event:
            case StageStarted(stage):
                self.stages.append(stage)
            case Progress():
                self.progress.append(event)
            case DigestReady(markdown):
                self.digest = markdown
            case SectionDone(section):
                self.sections.append(section)
                self.stream_done_at_section.append(self.llm.finished.is_set())
            case SectionPreview(section_id, body):
                self.previews.append((section_id, body))
            case PreviewRetracted(section_id):
                self.retracted.append(section_id)
            case SectionRevised(section):
                self.revised.append(section)
            case ReportReady(report):
                self.report = report
            case PlanReady(plan):
                self.plans.append(plan)
                self.report_after_plan.append(self.report is None)


async def run_narrated_by_edge(llm: FakeLLM) -> tuple[PostmortemResult, str]:
    """Run the bundled sample with the fake edge-tts narrating; the result and every word sent to it."""
    async with FakeEdgeTTS() as edge:
        pipeline = pipeline_for(llm, tts_engine="edge")
        try:
            result = await pipeline.run(load_incident(SAMPLE), Recorder(llm))
        finally:
            await pipeline.aclose()
        return result, " ".join(r.text for r in edge.requests)


def pipeline_for(llm: FakeLLM, **overrides: object) -> Pipeline:
    settings = load_settings(**{"llm_base_url": llm.base_url, "llm_model": "llama3.1:8b", "llm_timeout_s": 10, **overrides})
    return Pipeline(settings, llm=LLMClient(settings, retry_attempts=2, retry_base_delay_s=0.001))


async def test_sections_are_emitted_while_the_model_is_still_writing(llm: FakeLLM) -> None:
    gate = asyncio.Event()
    llm.script(text(sample_report(), gate=gate, gate_at="## Recommended Test Suite"))
    rec = Recorder(llm)
    pipeline = pipeline_for(llm, tts_engine="none")
    run = asyncio.create_task(pipeline.run(load_incident(SAMPLE), rec, narrate=False))
    gated = asyncio.create_task(llm.at_gate.wait())
    await asyncio.wait({run, gated}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    assert gated.done(), run.exception() if run.done() else "the model was never asked"
    assert rec.digest is not None and "(rule-based)" in rec.digest  # the digest came before the model's text
    # The stream is paused before the test suite: earlier sections must already be out.
    await asyncio.wait_for(_until(lambda: len(rec.sections) >= 3), 10)
    assert [s.id for s in rec.sections[:3]] == [SectionId.TIMELINE, SectionId.GAPS, SectionId.ROOT_CAUSE]
    gate.set()
    result = await run
    await pipeline.aclose()
    assert [s.id for s in result.sections] == list(SectionId)
    assert rec.stream_done_at_section[:3] == [False] * 3
    assert rec.report is not None and "## Audio Summary" in rec.report
    assert Stage.ANALYSING in rec.stages
    # The test plan: once, after the last section and before the report, recorded in the run's info.
    assert rec.report_after_plan == [True] and len(rec.plans[0].tests) == 3
    assert result.facts.tests == [t.model_dump() for t in rec.plans[0].tests]


async def test_redaction_and_fencing_reach_the_model(llm: FakeLLM) -> None:
    pipeline = pipeline_for(llm, tts_engine="none")
    result = await pipeline.run(load_incident(SAMPLE), narrate=False)
    await pipeline.aclose()
    request = llm.chat_requests[0]
    sent = "\n".join(m["content"] for m in request["messages"])
    assert "hunter2" not in sent and "support@example.com" not in sent
    assert "<<<INCIDENT_DATA_BEGIN>>>" in sent and "untrusted" in sent
    assert request["temperature"] == 0.3 and request["max_tokens"] == 2048
    assert sum(result.facts.redactions.values()) >= 2


async def test_edge_tts_narrates_the_models_summary(llm: FakeLLM) -> None:
    async with FakeEdgeTTS() as edge:
        pipeline = pipeline_for(llm, tts_engine="auto")
        result = await pipeline.run(load_incident(SAMPLE))
        await pipeline.aclose()
        # Narrated in batches of sentences while the summary streamed; together they are the whole summary.
        spoken = " ".join(r.text for r in edge.requests)
    assert result.audio is not None and result.audio.engine == "edge-tts"
    assert "#" not in spoken and 150 <= word_count(spoken) <= 230
    assert sorted(spoken.split()) == sorted((result.facts.narrated_text or "").split())
    assert result.facts.tts_engine == "edge-tts" and result.facts.fallbacks == []


async def test_edge_failure_falls_back_to_piper_and_says_why(llm: FakeLLM) -> None:
    # A summary just above the fallback threshold: piper's CPU time grows with the words, and this test is about the
    # engine switch, not the summary's length (test_edge_tts_narrates_the_models_summary covers the full one).
    llm.script(text(gate_passing_report(words_in_summary=120)))
    async with FakeEdgeTTS(mode="forbidden"):
        pipeline = pipeline_for(llm, tts_engine="auto")
        result = await pipeline.run(load_incident(SAMPLE))
        await pipeline.aclose()
    assert result.audio is not None and result.audio.engine == "piper"
    assert any("403" in f for f in result.facts.fallbacks)


async def test_missing_summary_triggers_one_fallback_call_at_low_temperature(llm: FakeLLM) -> None:
    no_summary = gate_passing_report().split("## Audio Summary")[0]
    fallback = summary_prose(120)
    llm.script(text(no_summary), text(fallback))
    # The fake edge-tts rather than piper: the pipeline is the same for both engines, and the fake records the text.
    async with FakeEdgeTTS() as edge:
        pipeline = pipeline_for(llm, tts_engine="edge")
        result = await pipeline.run(load_incident(SAMPLE))
        await pipeline.aclose()
    assert len(llm.chat_requests) == 2 and llm.chat_requests[1]["temperature"] == 0.2
    assert result.facts.missing_sections == ["audio_summary"]
    assert result.audio is not None and any("audio summary missing" in f for f in result.facts.fallbacks)
    assert sorted(" ".join(r.text for r in edge.requests).split()) == sorted(fallback.split())  # the fallback was spoken


async def test_failed_fallback_call_still_gives_audio_from_the_sections(llm: FakeLLM) -> None:
    no_summary = gate_passing_report().split("## Audio Summary")[0]
    llm.script(text(no_summary), status(500, "boom"))
    async with FakeEdgeTTS():  # as above: the engine does not matter here, and piper's CPU time would
        pipeline = pipeline_for(llm, tts_engine="edge")
        result = await pipeline.run(load_incident(SAMPLE))
        await pipeline.aclose()
    assert result.audio is not None and result.audio.duration_s > 20
    assert any("built one from the sections" in f for f in result.facts.fallbacks)


async def test_an_answer_without_a_test_suite_makes_no_plan_and_no_json_call(llm: FakeLLM) -> None:
    # The repair call asks for the missing suite; the model still writes none.
    llm.script(text(gate_passing_report().split("## Recommended Test Suite")[0]), text("I cannot write tests for this."))
    rec = Recorder(llm)
    pipeline = pipeline_for(llm, tts_engine="none")
    result = await pipeline.run(load_incident(SAMPLE), rec, narrate=False)
    await pipeline.aclose()
    assert rec.plans == [] and result.facts.tests == [] and llm.json_requests == []


async def test_unstructured_output_is_kept_as_one_section_and_the_repair_asks_for_the_analysis(llm: FakeLLM) -> None:
    # Real prose without headings, then a repair answer that still has none: shown as written, sections missing,
    # and the run degraded: without a root cause or a test the digest has to stand in (issue 13 review).
    llm.script(text(SUMMARY), text(summary_prose(80)))
    pipeline = pipeline_for(llm, tts_engine="none")
    result = await pipeline.run(load_incident(SAMPLE), narrate=False)
    await pipeline.aclose()
    assert len(result.sections) == 1 and result.sections[0].id is None and "replica count" in result.sections[0].body
    repair = llm.chat_requests[1]["messages"][1]["content"]
    assert "## Root Cause Determination" in repair and "## Recommended Test Suite" in repair
    assert result.run.mode == "degraded" and len(result.facts.missing_sections) == 6
    assert "did not write" in (result.run.cause or "") and "replica count" in result.report_markdown


async def _until(predicate) -> None:  # type: ignore[no-untyped-def]
    """Yield to the loop until predicate holds; bounded by the caller's wait_for."""
    while not predicate():
        await asyncio.sleep(0)
