"""Through the real bot and the Slack emulator: a model that cannot help ends the run degraded (digest, rule-based
checklist, narrated digest, clear cause, ⚠️), a failing section is repaired in place, and a later trigger writes
the full postmortem without a second digest."""

from __future__ import annotations

import pytest

from bot.core.run import RunState
from bot.core.sections import SectionId
from tests.core.gate.reports import GOOD, as_markdown, good_sections, section
from tests.e2e.conftest import DIGEST_TITLE, Stack
from tests.e2e.test_slack_triggers import ALL_TITLES, incident_thread, mp3_in_thread
from tests.fakes.fake_llm import Reply, echo_prompt, empty, looping, stall, status, text, unused_base_url

LOOP = "The database connection pool was exhausted by the new release."


async def wait_reaction(stack: Stack, root: str, *names: str) -> str:
    return str(await stack.slack.wait_for(
        lambda s: next((n for n in names if n in s.reactions_on(stack.channel, root)), None), timeout=30))


def thread_texts(stack: Stack, root: str) -> list[str]:
    """What the bot wrote in the thread (markdown blocks, else text), in order."""
    texts = []
    bot = stack.slack.workspace.bot_user_id
    for msg in [m for m in stack.slack.thread(stack.channel, root)[1:] if m.get("user") == bot]:
        blocks = [b["text"] for b in msg.get("blocks", []) or [] if b.get("type") == "markdown"]
        texts.append("\n".join(blocks) or msg.get("text", ""))
    return texts


BAD: dict[str, tuple[Reply | None, str]] = {
    # behaviour: (the model's reply, a word of the cause the closing line must give)
    "unreachable": (None, "cannot reach"),
    "model-not-pulled": (status(404, "model 'llama3.1:8b' not found", times=3), "ollama pull"),
    "stalled": (stall("## Incident Timeline & Blast Radius\n\n- 08:52 deploy"), "stopped answering"),
    "empty": (empty(), "no text"),
    "template-tokens": (text("<|im_end|>" * 300), "no text"),
    "garbage": (text("asdf qwer zxcv " * 40), "quality check"),
    "echo": (echo_prompt(times=2), "quality check"),
    "looping": (looping(LOOP, 40, heading="## Root Cause Determination"), "quality check"),
}


@pytest.mark.parametrize("behaviour", list(BAD))
async def test_a_model_that_cannot_help_ends_degraded_with_digest_checklist_and_narration(stack_factory, behaviour: str) -> None:  # type: ignore[no-untyped-def]
    reply, cause = BAD[behaviour]
    stack: Stack = await stack_factory(llm_timeout_s=0.5, **({"llm_base_url": unused_base_url()} if reply is None else {}))
    if reply is not None:
        stack.llm.script(reply, reply)  # the answer, and the same again for the repair call
    root, _ = incident_thread(stack)
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    assert await wait_reaction(stack, root, "warning", "white_check_mark", "x") == "warning"
    assert "eyes" not in stack.slack.reactions_on(stack.channel, root)
    assert stack.replies_in(root)[0].startswith(DIGEST_TITLE) and stack.sections_in(root) == []
    texts = thread_texts(stack, root)
    assert "rule-based" in texts[0]  # the digest and its checklist say what they are
    closing = next(t for t in texts if t.startswith(":warning: No model analysis"))
    assert cause in closing and "fix:" in closing and "again" in closing
    # Nothing the gate refused is in the thread or the report file; the narration reads the digest.
    report = next(f["content"].decode() for f in stack.slack.uploaded_files if f["name"].endswith(".md"))
    assert "Rule-based digest only" in report and DIGEST_TITLE in report
    for shown in [*texts, report]:
        assert LOOP not in shown and "asdf qwer" not in shown and "<|im_end|>" not in shown
    mp3 = mp3_in_thread(stack, root)
    assert mp3[:3] == b"ID3" or mp3[:2] in (b"\xff\xfb", b"\xff\xf3")
    [run] = await stack.bot.store.recent(1)
    assert run.status is RunState.DEGRADED and run.facts is not None and run.mode == "degraded"
    assert run.facts.narrated_text and "Rollback" not in (run.cause or "")


async def test_a_failing_section_is_repaired_once_and_edited_in_place(stack: Stack) -> None:
    weak = "The pool, probably, or maybe the retries; hard to say which mattered more."
    stack.llm.script(text(as_markdown(good_sections(root_cause=weak))), text(as_markdown([section(SectionId.ROOT_CAUSE)])))
    root, _ = incident_thread(stack)
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    assert await wait_reaction(stack, root, "white_check_mark", "x", "warning") == "white_check_mark"
    assert stack.sections_in(root) == ALL_TITLES and len(stack.llm.chat_requests) == 2
    [cause_msg] = [m for m in stack.slack.thread(stack.channel, root)
                   if any(b.get("type") == "markdown" and b["text"].startswith("## Root Cause") for b in m.get("blocks", []) or [])]
    assert "edited" in cause_msg and GOOD[SectionId.ROOT_CAUSE] in cause_msg["blocks"][0]["text"]
    assert all(weak not in t for t in thread_texts(stack, root))


async def test_no_repair_call_when_everything_passes_and_again_after_a_degraded_run_skips_the_digest(stack: Stack) -> None:
    stack.llm.script(empty())
    root, _ = incident_thread(stack)
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    assert await wait_reaction(stack, root, "warning", "white_check_mark", "x") == "warning"
    requests = len(stack.llm.chat_requests)
    # The model is back: the same trigger again writes the full postmortem, without a second digest.
    stack.slack.reaction_added(stack.bob, stack.channel, root, "test_tube")
    assert await wait_reaction(stack, root, "white_check_mark", "x") == "white_check_mark"
    assert len(stack.llm.chat_requests) == requests + 1  # a passing answer: no repair call
    assert sum(t.startswith(DIGEST_TITLE) for t in stack.replies_in(root)) == 1 and stack.sections_in(root) == ALL_TITLES
    assert "warning" not in stack.slack.reactions_on(stack.channel, root)
