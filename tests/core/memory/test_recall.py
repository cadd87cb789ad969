"""Memory never holds up or fails a run: a recall past its budget or a store that fails leaves the digest as it was
with the reason noted; and the recurrence question reaches the model only when memory found something."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.core.digest import build_digest, render_context
from bot.core.incident.model import Incident, Message
from bot.core.memory import Match, PastIncident, SeenBefore, Signals, recall_within
from bot.core.memory.render import GROUNDING_HEADING
from bot.core.prompt import RECURRENCE_QUESTION, build_user_prompt
from bot.errors import PostmortemError

INCIDENT = Incident([Message("alice", "ERROR pool: timeout acquiring connection")])
DIGEST = build_digest(INCIDENT)


class Slow:
    async def seen_before(self, *_: object) -> SeenBefore:
        await asyncio.Event().wait()
        raise AssertionError("never")


class Broken:
    async def seen_before(self, *_: object) -> SeenBefore:
        raise PostmortemError("cannot read the run store data/runs.db (disk I/O error)", "fix the disk")


class One:
    async def seen_before(self, *_: object) -> SeenBefore:
        past = PastIncident(1, "INC-1 pool", "link", "https://acme.slack.com/archives/C1/p1", datetime.now(UTC), "C1", "cause", Signals())
        return SeenBefore([Match(past, 4.0, (("class", "connection-pool-exhaustion"),))])


async def test_slow_or_broken_memory_leaves_the_digest_alone() -> None:
    slow = await recall_within(Slow(), DIGEST, INCIDENT, Signals(), budget_s=0.05)
    assert slow.markdown == "" and slow.grounding == "" and "did not answer within 0.05 s" in str(slow.seen.note)
    broken = await recall_within(Broken(), DIGEST, INCIDENT, Signals())
    assert broken.markdown == "" and "disk I/O error" in str(broken.seen.note)
    none = await recall_within(None, DIGEST, INCIDENT, Signals())
    assert none.markdown == "" and none.seen.note is None


async def test_the_recurrence_question_only_with_memory_first() -> None:
    found = await recall_within(One(), DIGEST, INCIDENT, Signals())
    assert found.grounding.startswith(GROUNDING_HEADING) and "INC-1 pool" in found.markdown
    assert RECURRENCE_QUESTION in build_user_prompt("data", title="t", context=f"{found.grounding}\n\n{render_context(DIGEST)}")
    forged = f"{render_context(DIGEST)}\n{GROUNDING_HEADING}"  # a thread quoting the heading
    assert RECURRENCE_QUESTION not in build_user_prompt("data", title="t", context=forged)
