"""Through the real bot and the Slack emulator (issue 21, part 6): a model that answers in the original tool's own
headings ("Incident Summary", "Investigation Discussion", "Root Cause", "Prevention Plan", numbered and bold, as
small models write them) gets its six sections posted under our titles, each with its own text, and no repair call:
the discussion is the Testing Gap Analysis, the root cause stays the root cause."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bot.core.gate.repair import REPAIR_SYSTEM
from bot.core.sections import SECTION_TITLES, SectionId
from tests.e2e.conftest import Stack
from tests.e2e.test_degraded import thread_texts, wait_reaction
from tests.e2e.test_slack_triggers import ALL_TITLES
from tests.fakes.fake_llm import Reply, gate_passing_report, text

# The thread, one message per step, as the team wrote it (our own account of dfds/postmortems PM2022-007).
THREAD = (
    ("sara", "I removed my old personal user from Confluent Cloud this morning, offboarding cleanup"),
    ("anders", "exporter logs say authentication failed. Its API key belonged to Sara's personal account"),
    ("anders", "new API key on a service account deployed, kafka-exporter restarted, it is up again"),
    ("mette", "some topics still have no consumer lag metrics in Prometheus"),
    ("anders", "attached the missing ACLs to the new key, every metric is back on the endpoint"),
)

# The answer, in the original tool's headings (bold and numbered, as small models write them). {removed} and the
# like are filled with the time of the message that says it, as the model would read them from the thread.
ANSWER = (Path(__file__).parents[1] / "fixtures" / "original_headings" / "answer.md").read_text(encoding="utf-8")

# Where each section's text must land: words only its own body has.
EXPECTED = {
    SectionId.TIMELINE: "Blast radius: Kafka observability only.",
    SectionId.GAPS: "Senior Engineer B: Because the exporter authenticated",
    SectionId.ROOT_CAUSE: "**Primary root cause:** the kafka-exporter authenticated",
    SectionId.PREVENTION: "A scheduled check that fails when a production workload",
    SectionId.TEST_SUITE: "### Minimum ACL contract",
    SectionId.AUDIO_SUMMARY: "This morning our Kafka metrics went dark.",
}
KEYS = {"alert": "[FIRING]", "removed": "personal user", "cause": "authentication failed", "newkey": "new API key",
        "missing": "still have no", "acls": "missing ACLs"}


_MESSAGE = re.compile(r"\[m\d+\] \[\d{4}-\d\d-\d\dT(\d\d:\d\d)")  # a message line, not the digest's guide


def _render(body: Any) -> str:
    """The answer with each step's time read from the prompt's message lines ("[m3] [2026-…T09:10:05Z] anders: …")."""
    prompt = "\n".join(str(m.get("content", "")) for m in body["messages"] if m.get("role") == "user")
    times = {}
    for name, key in KEYS.items():
        times[name] = next(m.group(1) for line in prompt.splitlines() if key in line and (m := _MESSAGE.match(line)))
    return ANSWER.format(**times)


async def test_the_original_tools_headings_become_the_six_sections_with_no_repair(stack: Stack) -> None:
    s = stack.slack
    grafana = s.add_user("grafana", is_bot=True)
    root = s.post(stack.channel, grafana, "[FIRING] KafkaExporterDown: kafka-exporter up == 0")
    users = {"sara": s.add_user("sara"), "anders": s.add_user("anders"), "mette": s.add_user("mette")}
    for who, said in THREAD:
        s.post(stack.channel, users[who], said, thread_ts=root)
    stack.llm.script(Reply("text", render=_render))
    s.reaction_added(stack.alice, stack.channel, root, "test_tube")
    assert await wait_reaction(stack, root, "white_check_mark", "warning", "x") == "white_check_mark"

    assert stack.sections_in(root) == ALL_TITLES  # all six, under our titles, once each
    posted = {t.splitlines()[0][3:]: t for t in thread_texts(stack, root) if t.startswith("## ")}
    for sid, own in EXPECTED.items():
        body = posted[SECTION_TITLES[sid]]
        assert own in body, (sid, body)
        assert not [other for o, other in EXPECTED.items() if o is not sid and other in body], (sid, body)
    assert sum(1 for r in stack.llm.chat_requests if r["messages"][0]["content"] == REPAIR_SYSTEM) == 0
    assert len(stack.llm.chat_requests) - len(stack.llm.json_requests) == 1


async def test_one_word_synonyms_inside_the_test_suite_stay_in_it(stack: Stack) -> None:
    """A bare "Summary" and a "### Investigation" under the Test Suite of a ``##`` answer are its text, not the
    audio summary and the gap analysis over again (which would cut the answer at a "repeated" section)."""
    inside = ("Summary\nEvery test above runs nightly in the staging pipeline.\n\n"
              "### Investigation\nReplay the captured pool trace before merging.\n")
    answer = gate_passing_report().replace("\n\n## Audio Summary", f"\n\n{inside}\n## Audio Summary")
    s = stack.slack
    root = s.post(stack.channel, stack.alice, "checkout-api p99 > 2s, payments failing")
    s.post(stack.channel, stack.bob, "gateway timeouts since the deploy", thread_ts=root)
    stack.llm.script(text(answer))
    s.reaction_added(stack.alice, stack.channel, root, "test_tube")
    assert await wait_reaction(stack, root, "white_check_mark", "warning", "x") == "white_check_mark"

    assert stack.sections_in(root) == ALL_TITLES
    posted = {t.splitlines()[0][3:]: t for t in thread_texts(stack, root) if t.startswith("## ")}
    suite = posted[SECTION_TITLES[SectionId.TEST_SUITE]]
    assert "runs nightly in the staging pipeline" in suite and "Replay the captured pool trace" in suite
    assert "Replay the captured" not in posted[SECTION_TITLES[SectionId.GAPS]]
    assert "Every test above" not in posted[SECTION_TITLES[SectionId.AUDIO_SUMMARY]]
