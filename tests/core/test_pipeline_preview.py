"""Previews inside the pipeline: each section is previewed while the model still writes it, the preview is taken back
when the gate holds the section or the model stops mid-section. Real LLM client against the fake server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.core.incident.load import load_incident
from bot.core.sections import SectionId
from tests.core.gate.reports import LOOP_LINES, as_markdown, good_sections
from tests.core.test_pipeline import SAMPLE, Recorder, pipeline_for
from tests.fakes.fake_llm import FakeLLM, stall, text

TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


async def wait_until(condition: Callable[[], bool]) -> None:
    """The pipeline runs in this loop: yield to it until ``condition`` holds (it moves on every chunk)."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


async def run(llm: FakeLLM, rec: Recorder, **settings: object) -> None:
    pipeline = pipeline_for(llm, tts_engine="none", **settings)
    try:
        await pipeline.run(load_incident(SAMPLE), rec, narrate=False)
    finally:
        await pipeline.aclose()


async def test_sections_are_previewed_while_typed_and_each_preview_begins_its_final_text(llm: FakeLLM) -> None:
    gate = asyncio.Event()
    llm.script(text(as_markdown(good_sections()), gate=gate, gate_at="2. The pool size"))
    rec = Recorder(llm)
    run_task = asyncio.create_task(run(llm, rec))
    await llm.at_gate.wait()
    # The model is in the middle of the root cause: its lines so far are shown, the section is not complete.
    await wait_until(lambda: any(sid is SectionId.ROOT_CAUSE for sid, _ in rec.previews))
    assert [s.id for s in rec.sections] == [SectionId.TIMELINE, SectionId.GAPS]
    assert "Secondary causes" in rec.previews[-1][1] and "1. The new retry policy" not in rec.previews[-1][1]
    gate.set()
    await run_task
    final = {s.id: s.body for s in rec.sections}
    assert {sid for sid, _ in rec.previews} == set(final)
    for sid, body in rec.previews:
        assert final[sid].startswith(body)
    assert rec.retracted == []


async def test_a_section_the_gate_holds_back_has_its_preview_retracted(llm: FakeLLM) -> None:
    llm.script(text(as_markdown(good_sections(test_suite=LOOP_LINES))), text(as_markdown(good_sections())))
    rec = Recorder(llm)
    await run(llm, rec)
    suite = [body for sid, body in rec.previews if sid is SectionId.TEST_SUITE]
    assert suite and rec.retracted == [SectionId.TEST_SUITE]
    first_line = LOOP_LINES.split("\n")[0]
    assert all(body.count(first_line) < 3 for body in suite), "a loop is taken back by its third round"


async def test_a_secret_the_model_writes_is_never_previewed(llm: FakeLLM) -> None:
    gaps = f"The deploy used token {TOKEN} from the runbook.\nNo test checked the pool under load.\nNor the alert.\n"
    llm.script(text(as_markdown(good_sections(gaps=gaps))))
    rec = Recorder(llm)
    await run(llm, rec)
    assert any(sid is SectionId.GAPS for sid, _ in rec.previews)
    assert not [body for _, body in rec.previews if TOKEN in body]


async def test_a_model_that_stalls_mid_section_has_that_preview_retracted(llm: FakeLLM) -> None:
    llm.script(stall("## Incident Timeline & Blast Radius\n\n- 08:52 deploy finishes on every node\n- 08:53 pool "
                     "timeouts start\n- 08:55 alert fires for p99\n"))
    rec = Recorder(llm)
    await run(llm, rec, llm_timeout_s=0.5)  # degraded: the digest stands in
    assert [sid for sid, _ in rec.previews] and rec.retracted == [SectionId.TIMELINE]
