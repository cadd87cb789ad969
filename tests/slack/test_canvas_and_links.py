"""Evidence links and the canvas against the emulator, without a bot: every refusal Slack documents for the canvas
methods ends in a canvas or in one note for the closing line; a permalink Slack cannot give leaves a plain time;
`doctor` names a missing canvases:write."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.cli.doctor import REQUIRED_SCOPES, check_slack
from bot.core.citations import recorded_sources
from bot.core.plan import TestPlan, TestSpec
from bot.core.prompt import PROMPT_VERSION
from bot.core.run import Run, RunFacts
from bot.runs.sink import StoreSink
from bot.settings import load_settings
from bot.slack.outbound.canvas import LINK_ITEM, canvas_markdown
from bot.slack.outbound.delivery import DeliveryOptions, ThreadDelivery
from bot.slack.outbound.thread import SlackThread
from tests.fakes.slack_emulator import SlackEmulator

REPORT = "# Testing postmortem: #inc-db\n\n## Root Cause Determination\n\n**Primary root cause:** the pool.\n"


@pytest.fixture
async def slack() -> AsyncIterator[SlackEmulator]:
    async with SlackEmulator() as emulator:
        yield emulator


def delivery(slack: SlackEmulator, channel: str, root: str, info: RunFacts | None = None) -> ThreadDelivery:
    client = AsyncWebClient(base_url=slack.api_url, token=slack.bot_token)
    return ThreadDelivery(SlackThread(client, channel, root), Run(info or RunFacts(PROMPT_VERSION, "m")), StoreSink(), DeliveryOptions("m"))


def thread(slack: SlackEmulator) -> tuple[str, str]:
    alice = slack.add_user("alice")
    channel = slack.add_channel("inc-db", members=[alice])
    return channel, slack.post(channel, alice, "db-primary at max connections")


# (name, set up the workspace, the canvas kind made or None, words of the closing-line note or None)
CASES = [
    ("paid plan", lambda s, ch: None, "standalone", None),
    ("free plan", lambda s, ch: setattr(s.workspace, "plan", "free"), "channel", None),
    ("free plan, channel canvas taken", lambda s, ch: (setattr(s.workspace, "plan", "free"),
                                                       s.workspace.canvases.update(
                                                           {"F0": {"id": "F0", "kind": "channel", "channel": ch}})),
     None, "the channel already has one"),
    ("scope not granted", lambda s, ch: setattr(s.workspace, "scopes", REQUIRED_SCOPES - {"canvases:write"}),
     None, "lacks the canvases:write scope"),
    ("canvases turned off", lambda s, ch: s.fail_next("canvases.create", "canvas_disabled_user_team", times=2),
     None, "canvases are turned off"),
    ("free plan, tab refused", lambda s, ch: (setattr(s.workspace, "plan", "free"),
                                              s.fail_next("conversations.canvases.create", "team_tier_cannot_create_channel_canvases", times=2)),
     None, "plan cannot create canvases"),
    ("an undocumented refusal", lambda s, ch: s.fail_next("canvases.create", "canvas_creation_failed", times=2),
     None, "Slack said `canvas_creation_failed`"),
]


@pytest.mark.parametrize(("name", "setup", "kind", "note"), CASES, ids=[c[0] for c in CASES])
async def test_each_canvas_refusal_ends_in_a_canvas_or_one_note(slack: SlackEmulator, name: str, setup, kind, note) -> None:  # type: ignore[no-untyped-def]
    channel, root = thread(slack)
    setup(slack, channel)
    before = set(slack.workspace.canvases)
    d = delivery(slack, channel, root)
    for _ in range(2):  # a second publish (a resumed run) changes nothing
        await d._publish_canvas(REPORT)
    made = [c for cid, c in slack.workspace.canvases.items() if cid not in before]
    links = [m["text"] for m in slack.thread(channel, root) if "The full report is in" in m.get("text", "")]
    if kind is None:
        assert made == [] and links == [] and not d.run.was_posted(LINK_ITEM)
        assert len(d.upload_errors) == 2 and note in d.upload_errors[0] and "markdown file above" in d.upload_errors[0]
    else:
        (canvas,) = made
        assert canvas["kind"] == kind and canvas["channel"] == channel and canvas["markdown"] == REPORT
        assert len(links) == 1 and f"/docs/{slack.workspace.team['id']}/{canvas['id']}|Testing postmortem: #inc-db>" in links[0]
        assert d.upload_errors == []


async def test_citations_link_once_per_message_and_a_gone_message_keeps_its_time(slack: SlackEmulator) -> None:
    channel, root = thread(slack)
    reply = slack.post(channel, "alice", "rolled back", thread_ts=root)
    info = RunFacts(PROMPT_VERSION, "m", citations={"sources": {
        "m1": {"time": "2024-05-01T10:00:05Z", "ref": root},
        "m2": {"time": "2024-05-01T10:04:00Z", "ref": reply},
        "m3": {"time": "2024-05-01T10:09:00Z", "ref": "1600000000.000100"},  # deleted since
        "m4": {"time": None, "ref": None},
    }})
    d, sources = delivery(slack, channel, root, info), recorded_sources(info.citations)
    text = await d.citations.render("began [m1], rolled back [m2, m3], noted [m4], invented [m7]", sources)
    assert text == (f"began [10:00:05]({slack.permalink(channel, root)}), rolled back [10:04:00]({slack.permalink(channel, reply)})"
                    " [10:09:00], noted [message 4], invented [message 7]")
    assert await d.citations.render("again [m1][m2]", sources) == \
        f"again [10:00:05]({slack.permalink(channel, root)})[10:04:00]({slack.permalink(channel, reply)})"
    assert len(slack.calls_to("chat.getPermalink")) == 3  # root, reply and the deleted one: once each


async def test_doctor_names_a_missing_canvas_scope(slack: SlackEmulator, capsys: pytest.CaptureFixture[str]) -> None:
    settings = load_settings(slack_bot_token=slack.bot_token, slack_app_token=slack.app_token, slack_api_url=slack.api_url)
    slack.workspace.scopes = set(REQUIRED_SCOPES)
    assert await check_slack(settings)
    slack.workspace.scopes = REQUIRED_SCOPES - {"canvases:write"}
    assert not await check_slack(settings)
    out = capsys.readouterr().out
    assert "[ok] slack scopes: all granted" in out
    assert "[FAIL] slack scopes: missing canvases:write — fix: reinstall the app from manifest.yaml" in out


def test_the_canvas_carries_the_test_plan_as_a_checklist_and_pings_nobody() -> None:
    spec = TestSpec(name="Pool <!here> saturation", type="load", scope="db ![](@U123ABC)\nprimary", fault_injection="cap",
                    success_criteria="p99 < 300 ms", priority=1)
    markdown = canvas_markdown("# Testing postmortem: x\n\nbody <@U999> @channel", TestPlan(tests=[spec]))
    assert markdown.endswith("## Test plan (checklist)\n\n- [ ] **Pool @\u2060here saturation** (load, add first): "
                             "db @\u2060U123ABC primary; fault injection: cap; passes when: p99 < 300 ms\n")
    assert "<@U999>" not in markdown and "@channel" not in markdown and "](@" not in markdown
    assert canvas_markdown("# r", None) == canvas_markdown("# r", TestPlan()) == "# r\n"
