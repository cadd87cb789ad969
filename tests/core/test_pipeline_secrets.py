"""Secrets whose name and value stand apart (XML pairs, nested objects, heredocs, continued commands, connection
strings) through the whole pipeline: the real LLM client against the fake server, which records its prompt and
echoes every form in its answer, typed in small chunks so the section previews see them grow."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.core.incident.model import Attachment, Incident, Message
from bot.core.sections import SECTION_TITLES, SectionId
from tests.core.redact.secret_cases import POSITIVE
from tests.core.test_pipeline import Recorder, pipeline_for
from tests.fakes.fake_llm import FakeLLM, gate_passing_report, text

# The forms of issue 19: a name and its value on separate lines or elements, and connection strings.
SPANNING = [case for case in POSITIVE if "\n" in case.text or "Endpoint=" in case.text or "Pwd=" in case.text
            or ";Password=" in case.text or case.text.startswith("Password=")]
T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def _incident() -> Incident:
    messages = [Message("alice", "checkout-api 5xx since 09:02; config dump below", T0)]
    messages += [Message("bob", f"found in the logs:\n{case.text}", T0 + timedelta(minutes=i + 1))
                 for i, case in enumerate(SPANNING)]
    dump = "\n".join(case.text for case in SPANNING)
    messages.append(Message("carol", "the config as deployed", T0 + timedelta(hours=1), (Attachment("app-config.txt", dump),)))
    return Incident(messages, title="#inc-checkout")


def _echoing_answer() -> str:
    """A passing report whose timeline quotes every form, each on its own lines."""
    timeline = f"## {SECTION_TITLES[SectionId.TIMELINE]}"
    quoted = "\n\n".join(case.text for case in SPANNING)
    return gate_passing_report().replace(f"{timeline}\n\n", f"{timeline}\n\nThe config showed:\n\n{quoted}\n\n", 1)


async def test_no_spanning_secret_reaches_the_model_a_section_a_preview_or_the_report(llm: FakeLLM) -> None:
    assert len(SPANNING) >= 20
    llm.script(text(_echoing_answer(), chunk_chars=7))
    recorder = Recorder(llm)
    pipeline = pipeline_for(llm, tts_engine="none")
    try:
        result = await pipeline.run(_incident(), recorder, narrate=False)
    finally:
        await pipeline.aclose()

    prompt = json.dumps(llm.chat_requests)
    assert [case.id for case in SPANNING if case.secret in prompt] == []
    shown = [s.body for s in recorder.sections] + [body for _, body in recorder.previews] + [result.report_markdown]
    assert [case.id for case in SPANNING if any(case.secret in body for body in shown)] == []
    assert recorder.previews, "the timeline was previewed while typed"
    assert sum(result.facts.redactions.values()) >= len(SPANNING)
    assert sum(result.facts.output_redactions.values()) >= len(SPANNING)  # the echo was caught, not only the input
