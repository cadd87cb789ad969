"""Section messages never carry a live mention (the neutraliser itself: tests/core/test_mentions.py).

Outputs are judged by the emulator's own, independently written notion of a live mention."""

from __future__ import annotations

import pytest

from bot.core.sections import Section, SectionId
from bot.slack.blocks.sections import section_messages
from tests.fakes.slack_emulator.mentions import live_mentions

A = "@\u2060"  # the inert "@"


@pytest.mark.parametrize("limit", [11_000, 40])
def test_section_messages_never_carry_a_live_mention(limit: int) -> None:
    body = "\n\n".join(
        f"- <!here> step {i}: ask <@U0123ABC|alice> and <!subteam^S1|@dba>; &lt;!channel&gt; @everyone" for i in range(6)
    )
    section = Section(SectionId.PREVENTION, "Prevention <!channel>", body)
    messages = section_messages(section, limit=limit)
    assert (len(messages) == 1) == (limit > 1000)  # the small limit cuts lines, possibly inside a mention
    for message in messages:
        texts = [message.text] + [b["text"] for b in message.blocks]
        assert [m for t in texts for m in live_mentions(t)] == []
    assert f"{A}alice" in messages[0].blocks[0]["text"] and f"{A}dba" in messages[0].blocks[0]["text"]
