"""The app's Home tab: a search of past postmortems, the open follow-ups, and the recent postmortems the viewer may
see (a member of the run's channel), with status, model, quality verdict and a link to the thread. Rebuilt each time
the viewer opens the tab or searches."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.memory import PastIncident
from bot.core.mentions import neutralise_mentions
from bot.core.run import RunState
from bot.memory.followups import open_followups
from bot.memory.recall import Memory
from bot.runs import RunRecord, RunStore
from bot.runs.store import StoreError
from bot.slack.access import Membership
from bot.slack.blocks.home import QUERY_CHARS, SEARCH_ACTION, followup_blocks, followup_line, search_blocks
from bot.slack.errors import slack_error
from bot.slack.inbound.history import History, unreadable

log = logging.getLogger(__name__)

# Runs read from the store per view, and lines shown (a Home tab holds at most 100 blocks).
SCANNED, SHOWN = 200, 20
STATUS = {
    RunState.DONE: ":white_check_mark: done", RunState.DEGRADED: ":warning: degraded (digest only)",
    RunState.FAILED: ":x: failed", RunState.EMPTY: ":heavy_minus_sign: nothing to analyse",
    RunState.INTERRUPTED: ":double_vertical_bar: interrupted",
}
RUNNING = ":hourglass_flowing_sand: running"


def _quality(record: RunRecord) -> str:
    if record.facts is None or record.mode == "degraded":
        return "no model answer" if record.facts is not None else "quality not checked"
    passed = record.facts.quality.get("passed")
    if passed is None:
        return "quality not checked"
    return "quality checks passed" if passed else "quality checks failed"


def run_line(record: RunRecord, channel_name: str, link: str | None) -> str:
    when = datetime.fromtimestamp(record.created_at, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    thread = f"<{link}|thread>" if link else "thread"
    model = f"`{record.facts.model}`" if record.facts and record.facts.model else "no model"
    return (f"*#{channel_name}* · {thread} · {STATUS.get(record.status, RUNNING)}\n"
            f"{when} · model {model} · {_quality(record)}")


class HomeTab:
    def __init__(self, client: AsyncWebClient, store: RunStore, memory: Memory, history: History) -> None:
        self.client = client
        self.store = store
        self.memory = memory
        self.history = history

    def register(self, app: AsyncApp) -> None:
        app.event("app_home_opened")(self.on_open)
        app.action(SEARCH_ACTION)(self.on_search)

    async def on_open(self, event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        await self.publish(str(event["user"]), "")

    async def on_search(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Enter in the search box: the tab again, with the matches of what was typed (empty: the latest)."""
        await ack()
        await self.publish(str(body["user"]["id"]), " ".join(str(action.get("value") or "").split())[:QUERY_CHARS])

    async def publish(self, user: str, query: str) -> None:
        try:
            await self.client.views_publish(user_id=user, view={"type": "home", "blocks": await self.blocks(user, query)})
        except SlackApiError as exc:
            log.warning("could not publish the Home tab for %s: %s", user, slack_error(exc))

    async def blocks(self, user: str, query: str = "") -> list[dict[str, Any]]:
        member = Membership(self.client, user, "Home tab")
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": "Testing postmortems"}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": (
                "React with :test_tube: in an incident thread, use the *Testing postmortem* shortcut or "
                "`/postmortem <thread link>` to start one.")}]},
        ]
        if self.memory.enabled:
            blocks += search_blocks(query, await self._search(member, query) if query else None)
            blocks += followup_blocks(await self._followups(member))
        blocks += [{"type": "header", "text": {"type": "plain_text", "text": "Recent postmortems"}},
                   {"type": "context", "elements": [{"type": "mrkdwn", "text": "Runs in channels you are a member of."}]}]
        lines = await self._visible(member)
        if not lines:
            blocks.append({"type": "section", "block_id": "runs.none",
                           "text": {"type": "mrkdwn", "text": "_No postmortems you can see yet._"}})
        for n, line in enumerate(lines):
            blocks += [{"type": "divider"}, {"type": "section", "block_id": f"runs.{n}", "text": {"type": "mrkdwn", "text": line}}]
        return blocks

    async def _search(self, member: Membership, query: str) -> list[PastIncident] | str:
        try:
            return await self.history.matches(member, query.split())
        except StoreError as exc:
            return unreadable(exc)

    async def _followups(self, member: Membership) -> list[str] | str:
        """Lines for the open follow-ups of channels the viewer belongs to (and of CLI runs), oldest first."""
        try:
            found = await open_followups(self.memory)
        except StoreError as exc:
            return unreadable(exc)
        now = time.time()
        return [followup_line(f, now) for f in found if f.past.channel is None or await member.of(f.past.channel)]

    async def _visible(self, member: Membership) -> list[str]:
        """Lines for the latest run of each thread in a channel the viewer belongs to, newest first."""
        names: dict[str, str] = {}
        seen: set[tuple[str, str]] = set()
        lines: list[str] = []
        for record in await self.store.recent(SCANNED):  # one query, posted items included
            if record.thread_ts is None or (record.channel, record.thread_ts) in seen:
                continue
            seen.add((record.channel, record.thread_ts))
            if not await member.of(record.channel):
                continue
            if record.channel not in names:
                names[record.channel] = await self._name(record.channel)
            lines.append(neutralise_mentions(run_line(record, names[record.channel], await self._link(record))))
            if len(lines) == SHOWN:
                break
        return lines

    async def _name(self, channel: str) -> str:
        try:
            return str((await self.client.conversations_info(channel=channel))["channel"].get("name") or channel)
        except SlackApiError:
            return channel

    async def _link(self, record: RunRecord) -> str | None:
        try:
            resp = await self.client.chat_getPermalink(channel=record.channel, message_ts=record.thread_ts or "")
            return str(resp["permalink"])
        except SlackApiError as exc:  # a deleted root: the line stays, without its link
            log.info("Home tab: no permalink for %s/%s (%s)", record.channel, record.thread_ts, slack_error(exc))
            return None
