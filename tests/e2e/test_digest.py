"""The rule-based digest is the first reply, in the thread before the model's first token; the model sees its events."""

from __future__ import annotations

import asyncio

from bot.core.digest.render import NO_STRONG_CLASS
from tests.e2e.conftest import DIGEST_TITLE, Stack
from tests.e2e.test_slack_triggers import ALL_TITLES, incident_thread, wait_done
from tests.fakes.fake_llm import echo_guide, gate_passing_report, text
from tests.fakes.fake_llm.guided import candidates


async def test_digest_is_posted_first_before_the_model_writes_and_feeds_the_prompt(stack: Stack) -> None:
    root, _ = incident_thread(stack)
    gate = asyncio.Event()
    stack.llm.script(text(gate_passing_report(), gate=gate, gate_at=0))  # the model holds its first token
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await stack.llm.at_gate.wait()
    await stack.slack.wait_for(lambda s: stack.replies_in(root) != [])
    [first] = stack.replies_in(root)
    assert first.startswith(DIGEST_TITLE) and "rule-based" in first
    gate.set()
    await wait_done(stack, root)
    assert stack.replies_in(root)[0].startswith(DIGEST_TITLE) and stack.sections_in(root) == ALL_TITLES
    digest = next(b["text"] for m in stack.slack.thread(stack.channel, root) for b in m.get("blocks", []) or []
                  if b.get("type") == "markdown" and b["text"].startswith(f"## {DIGEST_TITLE}"))
    assert "Rollback" in digest or "rollback" in digest  # the thread's rollback is one of its events
    prompt = stack.llm.chat_requests[0]["messages"][1]["content"]
    assert "Pre-computed from the data by rules" in prompt  # the model gets the digest's events as context
    report = next(f["content"].decode() for f in stack.slack.uploaded_files if f["name"].endswith(".md"))
    assert DIGEST_TITLE in report


def prose_thread(stack: Stack) -> str:
    """An incident told in sentences, as engineers write in a thread: no log line names a class."""
    s = stack.slack
    root = s.post(stack.channel, stack.alice, "checkout is throwing handshake errors for everyone since about 02:10")
    s.post(stack.channel, stack.bob, "CPU looked fine on the gateways and DNS was not the cause, I checked both", thread_ts=root)
    s.post(stack.channel, stack.alice, "found it: the certificate for payments.example.com expired at 02:00", thread_ts=root)
    s.post(stack.channel, stack.bob, "so the expired certificate caused every TLS handshake to fail", thread_ts=root)
    s.post(stack.channel, stack.alice, "we should add a retry storm test some day, filed as a backlog item", thread_ts=root)
    s.post(stack.channel, stack.bob, "renewed the cert at 02:41, checkout is back to normal", thread_ts=root)
    return root


async def test_a_prose_thread_gets_an_evidence_ordered_checklist_and_the_model_only_strong_candidates(stack: Stack) -> None:
    root = prose_thread(stack)
    stack.llm.script(echo_guide())
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await wait_done(stack, root)
    digest = next(b["text"] for m in stack.slack.thread(stack.channel, root) for b in m.get("blocks", []) or []
                  if b.get("type") == "markdown" and b["text"].startswith(f"## {DIGEST_TITLE}"))
    checklist = digest.split("rule-based checklist)")[1]
    items = [line for line in checklist.splitlines() if line.startswith("- [ ] ")]
    # Only the class the thread states; the negated CPU/DNS mentions and the backlog item's retry storm stay out.
    assert len(items) == 1 and items[0].startswith("- [ ] **Certificate expiry**"), checklist
    assert "certificate for payments.example.com expired" in items[0] or "expired certificate caused" in items[0]
    prompt = stack.llm.chat_requests[0]["messages"][1]["content"]
    assert [title for title, _ in candidates(prompt)] == ["Certificate expiry"]
    assert "candidate, not a finding" in stack.llm.chat_requests[0]["messages"][0]["content"]  # the prompt says they may be rejected
    report = next(f["content"].decode() for f in stack.slack.uploaded_files if f["name"].endswith(".md"))
    assert "**Primary root cause:** Certificate expiry" in report  # the guide-trusting model took the one candidate


async def test_a_thread_with_only_symptoms_says_so_and_hands_the_model_no_candidate(stack: Stack) -> None:
    s = stack.slack
    root = s.post(stack.channel, stack.alice, "requests to checkout timed out for ten minutes")
    s.post(stack.channel, stack.bob, "timeouts stopped at 09:20, not sure why yet", thread_ts=root)
    stack.llm.script(echo_guide())
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await wait_done(stack, root)
    digest = next(b["text"] for m in stack.slack.thread(stack.channel, root) for b in m.get("blocks", []) or []
                  if b.get("type") == "markdown" and b["text"].startswith(f"## {DIGEST_TITLE}"))
    assert NO_STRONG_CLASS in digest and "- [ ] " not in digest
    prompt = stack.llm.chat_requests[0]["messages"][1]["content"]
    assert candidates(prompt) == []


async def test_people_and_bots_are_told_apart_by_slacks_flag_and_a_release_with_the_fix_ends_the_incident(stack: Stack) -> None:
    """A person whose name holds a tool's ("jane-github") is a person; a bot user with a person-like name is a bot
    (Slack's bot_id); "released v2.14.1 which fixes it" is the resolution."""
    s = stack.slack
    grafana = s.add_user("grafana", is_bot=True)
    helper = s.add_user("Kim's helper", is_bot=True)
    jane = s.add_user("jane-github")
    root = s.post(stack.channel, grafana, "[FIRING] checkout-api error rate > 5%")
    s.post(stack.channel, jane, "errors on checkout since the deploy, looking", thread_ts=root)
    s.post(stack.channel, helper, "runbook: check the connection pool settings", thread_ts=root)
    s.post(stack.channel, jane, "released v2.14.1 which fixes it", thread_ts=root)
    stack.llm.script(text(gate_passing_report()))
    s.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await wait_done(stack, root)
    digest = next(b["text"] for m in s.thread(stack.channel, root) for b in m.get("blocks", []) or []
                  if b.get("type") == "markdown" and b["text"].startswith(f"## {DIGEST_TITLE}"))
    assert "**Participants:** jane-github (2); bots: grafana (1), Kim's helper (1)" in digest
    assert "no resolution recognised" not in digest and "→ resolution" in digest
