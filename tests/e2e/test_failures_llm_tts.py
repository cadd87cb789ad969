"""LLM and TTS faults end to end: the thread gets ❌ and a message naming the fix, or the run degrades gracefully
(raw section, fallback voice, no audio) and still ends ✅ with the written postmortem complete."""

from __future__ import annotations

import io
from pathlib import Path

import mutagen.mp3
import pytest

from bot.core.sections import SectionId
from tests.core.gate.reports import SUMMARY, as_markdown, section
from tests.e2e.conftest import Stack
from tests.e2e.test_failures_slack import bot_texts
from tests.e2e.test_slack_triggers import ALL_TITLES, incident_thread, mp3_in_thread, wait_done
from tests.fakes.fake_llm import Reply, empty, gate_passing_report, invalid_json, stall, status, text, unused_base_url
from tests.fakes.sample_reports import summary_prose

# A short spoken summary keeps piper's CPU synthesis quick; 120 words is the shortest the quality gate passes.
SHORT_REPORT = gate_passing_report(words_in_summary=120)


async def degraded_run(stack: Stack) -> str:
    """Trigger on a fresh thread, wait for ⚠️, return the closing line: the model could not help, so the digest,
    the report and the narrated digest stand in, with the cause and its fix."""
    root, _ = incident_thread(stack)
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await wait_done(stack, root)
    reactions = stack.slack.reactions_on(stack.channel, root)
    assert "warning" in reactions and not {"eyes", "x", "white_check_mark"} & reactions
    notes = [t for t in bot_texts(stack, stack.channel, root) if t.startswith(":warning: No model analysis")]
    assert len(notes) == 1, bot_texts(stack, stack.channel, root)
    assert sorted(f["name"] for f in stack.slack.uploaded_files if f["thread_ts"] == root) == [
        "postmortem-report.md", "postmortem-summary.mp3"]
    return notes[0]


# -- the LLM ------------------------------------------------------------------------------------------


async def test_unreachable_llm_names_ollama_serve(stack_factory) -> None:  # type: ignore[no-untyped-def]
    stack = await stack_factory(llm_base_url=unused_base_url())
    note = await degraded_run(stack)
    assert "cannot reach the LLM server" in note and "`ollama serve`" in note


async def test_model_not_pulled_names_ollama_pull(stack_factory) -> None:  # type: ignore[no-untyped-def]
    stack = await stack_factory(llm_model="qwen2.5:7b")
    note = await degraded_run(stack)
    assert "ollama pull qwen2.5:7b" in note
    assert stack.llm.chat_requests == []  # caught by the preflight, before any generation


async def test_model_removed_between_preflight_and_chat_names_ollama_pull(stack: Stack) -> None:
    stack.llm.script(status(404))
    note = await degraded_run(stack)
    assert "ollama pull llama3.1:8b" in note


async def test_llm_busy_is_retried_then_explained(stack: Stack) -> None:
    stack.llm.script(status(503, times=5))
    note = await degraded_run(stack)
    assert len(stack.llm.chat_requests) == 2  # the stack's LLMClient makes 2 attempts with backoff
    assert "busy" in note and "LLM_CONCURRENCY" in note


async def test_llm_busy_once_then_the_run_completes(stack: Stack) -> None:
    stack.llm.script(status(503))
    root, _ = incident_thread(stack)
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await wait_done(stack, root)
    assert stack.sections_in(root) == ALL_TITLES
    assert len(stack.llm.chat_requests) == 2


async def test_llm_stall_past_the_timeout(stack_factory) -> None:  # type: ignore[no-untyped-def]
    stack = await stack_factory(llm_timeout_s=0.5)
    stack.llm.script(stall("## Incident Timeline & Blast Radius\n\n- 08:52 deploy"))
    note = await degraded_run(stack)
    assert "stopped answering for 0.5 s" in note and "LLM_TIMEOUT_S" in note


@pytest.mark.parametrize(("reply", "words"), [
    (empty(), "answered with no text"),
    (invalid_json("## Incident Timeline & Blast Radius\n"), "malformed response"),
    (status(500, "llama runner process has terminated"), "llama runner process has terminated"),
])
async def test_bad_llm_answers_end_degraded_with_the_cause(stack: Stack, reply: Reply, words: str) -> None:
    stack.llm.script(reply)
    note = await degraded_run(stack)
    assert words in note and "fix:" in note


# Real prose, no headings: the parser keeps it as one unplaced section.
PROSE = SUMMARY


async def test_unstructured_output_is_posted_raw_then_the_repair_asks_for_the_analysis(stack: Stack) -> None:
    repaired = as_markdown([section(SectionId.ROOT_CAUSE), section(SectionId.TEST_SUITE)])
    # Then: the one repair call for the missing root cause and tests; the one fallback call for a spoken summary.
    stack.llm.script(text(PROSE), text(repaired), text(summary_prose(80)))
    root, _ = incident_thread(stack)
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await wait_done(stack, root)
    assert stack.sections_in(root) == ["Postmortem (unstructured model output)", "Root Cause Determination", "Recommended Test Suite"]
    assert "white_check_mark" in stack.slack.reactions_on(stack.channel, root)
    mp3_in_thread(stack, root)
    # The fallback summary was spoken: its batches may reach the speech server in any order, so look at them all.
    assert any(r.text.startswith("On Tuesday afternoon") for r in stack.edge.requests)
    closing = next(t for t in bot_texts(stack, stack.channel, root) if "Postmortem done" in t)
    assert "Missing sections" in closing


async def test_fallback_summary_call_failing_still_gives_audio(stack: Stack) -> None:
    repaired = as_markdown([section(SectionId.ROOT_CAUSE), section(SectionId.TEST_SUITE)])
    stack.llm.script(text(PROSE), text(repaired), status(500))
    root, _ = incident_thread(stack)
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await wait_done(stack, root)
    assert "white_check_mark" in stack.slack.reactions_on(stack.channel, root)
    mp3_in_thread(stack, root)  # narrated from a summary built out of the sections


# -- narration ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "reason"), [("stall", "no answer within 0.5 s"), ("no_audio", "sent no audio")])
async def test_edge_failure_falls_back_to_piper(stack_factory, mode: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    stack = await stack_factory(tts_timeout_s=0.5)
    stack.edge.mode = mode
    stack.llm.script(SHORT_REPORT)
    root, _ = incident_thread(stack)
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await wait_done(stack, root)
    assert stack.sections_in(root) == ALL_TITLES
    audio = mp3_in_thread(stack, root)
    assert mutagen.mp3.MP3(io.BytesIO(audio)).info.length > 5
    comment = next(f["initial_comment"] for f in stack.slack.uploaded_files if f["name"].endswith(".mp3"))
    assert "piper" in comment and "Fallback voice" in comment and reason in comment


async def test_no_engine_can_speak_the_text_still_completes(stack_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    stack = await stack_factory(piper_voice=tmp_path / "missing-voice.onnx")
    stack.edge.mode = "forbidden"
    root, _ = incident_thread(stack)
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await wait_done(stack, root)
    assert stack.sections_in(root) == ALL_TITLES
    reactions = stack.slack.reactions_on(stack.channel, root)
    assert "white_check_mark" in reactions and "x" not in reactions
    texts = bot_texts(stack, stack.channel, root)
    mute = next(t for t in texts if "audio summary could not be made" in t)
    assert "403" in mute and "missing-voice.onnx" in mute and "written postmortem above is complete" in mute
    names = [f["name"] for f in stack.slack.uploaded_files if f["thread_ts"] == root]
    assert sorted(names) == ["postmortem-report.md", "postmortem-tests.zip"]  # no MP3
