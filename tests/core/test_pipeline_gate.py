"""The gate inside the pipeline: one targeted repair, garbage never shown, and degraded runs when the model
cannot help. Real LLM client against the fake server; the rule-based digest stands in when the model fails."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.core.digest import build_digest, speech_text
from bot.core.incident.load import load_incident
from bot.core.incident.model import cleaned
from bot.core.pipeline import Pipeline
from bot.core.run import Run
from bot.core.sections import SECTION_TITLES, SectionId
from tests.core.gate.reports import GOOD, as_markdown, good_sections, section
from tests.core.test_pipeline import SAMPLE, Recorder, pipeline_for, run_narrated_by_edge
from tests.fakes.fake_llm import FakeLLM, Reply, echo_prompt, empty, looping, stall, status, text, unused_base_url

DIGEST = "## What the thread shows"
WEAK_CAUSE = "The pool, probably, or maybe the retries; hard to say which mattered more."
LOOP = "The database connection pool was exhausted by the new release."


async def run(pipeline: Pipeline, rec: Recorder):  # type: ignore[no-untyped-def]
    try:
        return await pipeline.run(load_incident(SAMPLE), rec, narrate=False)
    finally:
        await pipeline.aclose()


async def test_a_passing_answer_makes_no_repair_call(llm: FakeLLM) -> None:
    rec = Recorder(llm)
    result = await run(pipeline_for(llm, tts_engine="none"), rec)
    assert len(llm.chat_requests) == 1 and rec.revised == []
    assert result.run.mode == "full" and result.facts.quality["passed"] and not result.facts.quality["repaired"]
    assert result.facts.timings["repair"] < 1.0


async def test_one_repair_call_rewrites_only_the_failing_section_and_revises_it_in_place(llm: FakeLLM) -> None:
    first = as_markdown(good_sections(root_cause=WEAK_CAUSE))
    llm.script(text(first), text(as_markdown([section(SectionId.ROOT_CAUSE)])))
    rec = Recorder(llm)
    result = await run(pipeline_for(llm, tts_engine="none"), rec)
    assert len(llm.chat_requests) == 2
    repair_prompt = llm.chat_requests[1]["messages"][1]["content"]
    assert "## Root Cause Determination" in repair_prompt and "## Recommended Test Suite" not in repair_prompt
    assert [s.id for s in rec.revised] == [SectionId.ROOT_CAUSE] and rec.revised[0].body == GOOD[SectionId.ROOT_CAUSE]
    assert [s.id for s in rec.sections] == list(SECTION_TITLES)  # posted once each; the fix is an edit
    quality = result.facts.quality
    assert quality["repaired"] and quality["repaired_sections"] == ["root_cause"] and quality["passed"]
    assert quality["checks"]["one_primary_root_cause"] == {"title": quality["checks"]["one_primary_root_cause"]["title"],
                                                           "before": False, "after": True}
    assert WEAK_CAUSE not in result.report_markdown and GOOD[SectionId.ROOT_CAUSE] in result.report_markdown


async def test_a_held_back_section_is_posted_only_once_the_repair_fixes_it(llm: FakeLLM) -> None:
    looping_tests = " ".join([LOOP] * 12)
    llm.script(text(as_markdown(good_sections(test_suite=looping_tests))), text(as_markdown([section(SectionId.TEST_SUITE)])))
    rec = Recorder(llm)
    result = await run(pipeline_for(llm, tts_engine="none"), rec)
    ids = [s.id for s in rec.sections]
    assert ids[-1] is SectionId.TEST_SUITE and ids.count(SectionId.TEST_SUITE) == 1  # never the looping text
    assert all(LOOP not in s.body for s in rec.sections) and LOOP not in result.report_markdown
    assert result.run.mode == "full" and result.facts.withheld == {}


async def test_a_repair_that_still_fails_leaves_the_problem_in_the_closing_warnings(llm: FakeLLM) -> None:
    llm.script(text(as_markdown(good_sections(root_cause=WEAK_CAUSE))), text(as_markdown([section(SectionId.ROOT_CAUSE, WEAK_CAUSE)])))
    rec = Recorder(llm)
    result = await run(pipeline_for(llm, tts_engine="none"), rec)
    assert len(llm.chat_requests) == 2 and rec.revised == []  # no better: nothing edited
    assert result.run.mode == "full" and not result.facts.quality["passed"]
    assert any("Primary root cause" in w for w in result.facts.warnings)


BAD: dict[str, Callable[[FakeLLM], Reply | None]] = {
    "unreachable": lambda llm: None,
    "model-not-pulled": lambda llm: status(404, "model 'llama3.1:8b' not found", times=3),
    "stalled": lambda llm: stall("## Incident Timeline & Blast Radius\n\n- 08:52 deploy"),
    "empty": lambda llm: empty(),
    "template-tokens-only": lambda llm: text("<|im_end|>" * 300),
    "echo": lambda llm: echo_prompt(times=2),
    "looping": lambda llm: looping(LOOP, 40, heading="## Root Cause Determination"),
    "busy": lambda llm: status(503, times=10),
}


@pytest.mark.parametrize("behaviour", list(BAD))
async def test_the_digest_stands_in_when_the_model_cannot_help(llm: FakeLLM, behaviour: str) -> None:
    reply = BAD[behaviour](llm)
    if reply is not None:
        llm.script(reply, reply) if behaviour == "looping" else llm.script(reply)
    base = {"llm_base_url": unused_base_url()} if reply is None else {}
    rec = Recorder(llm)
    result = await run(pipeline_for(llm, tts_engine="none", llm_timeout_s=0.5, **base), rec)
    info = result.facts
    assert result.run.mode == "degraded" and result.run.cause and "fix:" in result.run.cause, result.run.cause
    assert rec.digest is not None and rec.digest.startswith(DIGEST) and "rule-based" in rec.digest
    report = result.report_markdown
    assert report.startswith("# Testing postmortem") and "Rule-based digest only" in report and DIGEST in report
    assert f"No model analysis: {result.run.cause}" in report
    # Nothing that failed the gate is emitted or reaches the report; it is kept for run.json only.
    assert LOOP not in report and all(LOOP not in s.body for s in rec.sections)
    if behaviour in ("echo", "looping"):
        assert info.withheld and "not_hollow" in info.quality["checks"]


async def test_the_degraded_run_narrates_the_digest(llm: FakeLLM) -> None:
    llm.script(empty())
    result, spoken = await run_narrated_by_edge(llm)
    assert result.run.mode == "degraded" and result.audio is not None and result.audio.mp3
    assert result.summary == speech_text(build_digest(cleaned(load_incident(SAMPLE))))
    assert sorted(spoken.split()) == sorted(result.summary.split())


async def test_skip_digest_keeps_it_out_of_the_thread_but_in_the_report(llm: FakeLLM) -> None:
    rec = Recorder(llm)
    pipeline = pipeline_for(llm, tts_engine="none")
    run = Run(pipeline.new_facts())
    run.facts.skip_digest = True
    try:
        result = await pipeline.run(load_incident(SAMPLE), rec, narrate=False, run=run)
    finally:
        await pipeline.aclose()
    assert rec.digest is None and DIGEST in result.report_markdown
