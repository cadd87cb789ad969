"""The spoken summary is narrated while the model is still writing it, and the MP3 still says all of it."""

from __future__ import annotations

import asyncio
import io

import mutagen.mp3

from tests.e2e.conftest import Stack
from tests.e2e.test_slack_triggers import incident_thread, mp3_in_thread, wait_done
from tests.fakes.fake_llm import text
from tests.fakes.sample_reports import sample_report


async def test_summary_is_narrated_while_the_model_still_writes_it(stack: Stack) -> None:
    root, _ = incident_thread(stack)
    report = sample_report(words_in_summary=200)
    gate = asyncio.Event()
    # The model pauses a few words before the end of the summary, its last section.
    stack.llm.script(text(report, gate=gate, gate_at=len(report) - 40))
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await stack.llm.at_gate.wait()
    async with asyncio.timeout(15):
        started = await stack.edge.wait_for_requests(1)  # narration began before the last token
    assert started and not stack.llm.finished.is_set()
    gate.set()
    await wait_done(stack, root)
    assert "white_check_mark" in stack.slack.reactions_on(stack.channel, root)
    spoken = " ".join(r.text for r in stack.edge.requests)
    assert len(spoken.split()) == 200  # every word, none twice, none lost at the batch seams
    assert mutagen.mp3.MP3(io.BytesIO(mp3_in_thread(stack, root))).info.length > 30
