"""Nothing the bot posts may ping: every form of mention Slack (or a client) could act on is made inert.

Outputs are judged by the emulator's own, independently written notion of a live mention."""

from __future__ import annotations

import pytest

from bot.core.sections import Section, SectionId
from bot.slack.render import neutralise_mentions, section_messages
from tests.fakes.slack_emulator.mentions import live_mentions

A = "@\u2060"  # the inert "@"

# (what the model or the thread wrote, what the bot posts)
NEUTRALISED = [
    ("<!channel>", f"{A}channel"),
    ("<!here>", f"{A}here"),
    ("<!everyone>", f"{A}everyone"),
    ("<!here|here>", f"{A}here"),
    ("<!channel|@channel>", f"{A}channel"),
    ("<!CHANNEL>", f"{A}CHANNEL"),
    ("<!Here|@Here>", f"{A}Here"),
    ("<!subteam^S0123ABC|@oncall>", f"{A}oncall"),
    ("<!subteam^S0123ABC>", f"{A}S0123ABC"),
    ("<@U0123ABC>", f"{A}U0123ABC"),
    ("<@U0123ABC|alice>", f"{A}alice"),
    ("<@W0123ABC>", f"{A}W0123ABC"),
    ("&lt;!channel&gt;", f"{A}channel"),
    ("&lt;!subteam^S1|@db-team&gt;", f"{A}db-team"),
    ("&lt;@U0123&gt;", f"{A}U0123"),
    ("`<!here>` in a code span", f"`{A}here` in a code span"),
    ("```\n@channel deploy now\n```", f"```\n{A}channel deploy now\n```"),
    ("<https://status.example.com|<!here>>", f"<https://status.example.com|{A}here>"),
    ("[status](https://status.example.com) <!here>", f"[status](https://status.example.com) {A}here"),
    ("@channel", f"{A}channel"),
    ("@here", f"{A}here"),
    ("@everyone", f"{A}everyone"),
    ("@Here", f"{A}Here"),
    ("@EVERYONE", f"{A}EVERYONE"),
    ("(@here)", f"({A}here)"),
    ("@here: rollback now", f"{A}here: rollback now"),
    ("**@channel** heads up", f"**{A}channel** heads up"),
    ("- @here's the plan", f"- {A}here's the plan"),
    ("done.@channel next-@here", f"done.{A}channel next-{A}here"),
    ('"@everyone" ~@here~ _@channel_', f'"{A}everyone" ~{A}here~ _{A}channel_'),
    ("<!\u200bchannel>", f"{A}channel"),
    ("<\u200b!here>", f"{A}here"),
    ("@\u200bhere", f"{A}here"),
    ("@\ufeffeveryone", f"{A}everyone"),
    ("<@\u200bU0123>", f"{A}U0123"),
    (
        "ping <!here>, <@U1|bob>, <!subteam^S9|@sre> and @everyone",
        f"ping {A}here, {A}bob, {A}sre and {A}everyone",
    ),
]

# Texts that notify nobody and must come out unchanged.
KEPT = [
    "<#C0123ABC|incidents>",  # a channel link pings nobody and stays clickable
    "<#C0123ABC>",
    "<!date^1700000000^{date_short}|Nov 14>",
    "mail ops@here.com or oncall@everyone.example",
    "@channels and @hereafter and @everyoneelse",
    "@pytest.fixture\ndef pool(): ...",
    "see https://example.com/@here",
    "<https://example.com|status page>",
    "a < b and c > d",
]


@pytest.mark.parametrize(("raw", "posted"), NEUTRALISED)
def test_mentions_become_inert_text(raw: str, posted: str) -> None:
    out = neutralise_mentions(raw)
    assert out == posted
    assert live_mentions(out) == []
    assert neutralise_mentions(out) == out  # applying it twice (render, then the lead's wrapper) changes nothing


@pytest.mark.parametrize("raw", [raw for raw, _ in NEUTRALISED if not any(c in raw for c in "\u200b\ufeff")])
def test_the_judge_sees_each_raw_form_as_live(raw: str) -> None:
    """Guards the table: each input really is a ping, so the neutraliser is what makes it pass."""
    assert live_mentions(raw)


@pytest.mark.parametrize("text", KEPT)
def test_harmless_text_is_unchanged(text: str) -> None:
    assert neutralise_mentions(text) == text


def test_known_user_ids_become_their_names() -> None:
    names = {"U0123ABC": "Alice", "W0999": "Bob"}
    assert neutralise_mentions("<@U0123ABC> and <@w0999|bobby> and <@U0404>", names) == f"{A}Alice and {A}Bob and {A}U0404"


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


@pytest.mark.parametrize("nested", ["<!subteam^S0123|<!channel>>", "<@U0999|<@U0123>>", "<!subteam^S1|<@U2|<!here>>>"])
def test_mentions_nested_in_labels_are_made_inert_in_one_call(nested: str) -> None:
    once = neutralise_mentions(nested)
    assert not any(live in once for live in ("<!channel>", "<!here>", "<!subteam^", "<@U"))
    assert neutralise_mentions(once) == once  # nothing left for a second pass
