"""The app's Home tab: the recent postmortems the viewer may see (a member of the run's channel), with status,
model, quality verdict and a link to the thread. Rebuilt each time the viewer opens the tab."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.run import RunState
from bot.runs import RunRecord, RunStore
from bot.slack.access import is_member
from bot.slack.errors import slack_error
from bot.slack.mentions import neutralise_mentions

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
    if record.info is None or record.info.mode == "degraded":
        return "no model answer" if record.info is not None else "quality not checked"
    passed = record.info.quality.get("passed")
    if passed is None:
        return "quality not checked"
    return "quality checks passed" if passed else "quality checks failed"


def run_line(record: RunRecord, channel_name: str, link: str | None) -> str:
    when = datetime.fromtimestamp(record.created_at, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    thread = f"<{link}|thread>" if link else "thread"
    model = f"`{record.info.model}`" if record.info and record.info.model else "no model"
    return (f"*#{channel_name}* · {thread} · {STATUS.get(record.status, RUNNING)}\n"
            f"{when} · model {model} · {_quality(record)}")


class HomeTab:
    def __init__(self, client: AsyncWebClient, store: RunStore) -> None:
        self.client = client
        self.store = store

    def register(self, app: AsyncApp) -> None:
        app.event("app_home_opened")(self.on_open)

    async def on_open(self, event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        user = str(event["user"])
        try:
            await self.client.views_publish(user_id=user, view={"type": "home", "blocks": await self.blocks(user)})
        except SlackApiError as exc:
            log.warning("could not publish the Home tab for %s: %s", user, slack_error(exc))

    async def blocks(self, user: str) -> list[dict[str, Any]]:
        lines = await self._visible(user)
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": "Recent testing postmortems"}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": (
                "Runs in channels you are a member of. React with :test_tube: in an incident thread, use the "
                "*Testing postmortem* shortcut or `/postmortem <thread link>` to start one.")}]},
        ]
        if not lines:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "_No postmortems you can see yet._"}})
        for line in lines:
            blocks += [{"type": "divider"}, {"type": "section", "text": {"type": "mrkdwn", "text": line}}]
        return blocks

    async def _visible(self, user: str) -> list[str]:
        """Lines for the latest run of each thread in a channel the viewer belongs to, newest first."""
        member: dict[str, bool] = {}
        names: dict[str, str] = {}
        seen: set[tuple[str, str]] = set()
        lines: list[str] = []
        for record in await self.store.recent(SCANNED):  # one query, posted items included
            if record.thread_ts is None or (record.channel, record.thread_ts) in seen:
                continue
            seen.add((record.channel, record.thread_ts))
            if record.channel not in member:
                member[record.channel] = await self._member(record.channel, user)
            if not member[record.channel]:
                continue
            if record.channel not in names:
                names[record.channel] = await self._name(record.channel)
            lines.append(neutralise_mentions(run_line(record, names[record.channel], await self._link(record))))
            if len(lines) == SHOWN:
                break
        return lines

    async def _member(self, channel: str, user: str) -> bool:
        try:
            return await is_member(self.client, channel, user)
        except SlackApiError as exc:  # the bot left the channel, or it is gone: nobody is shown its runs
            log.info("Home tab: cannot check membership of %s (%s); its runs are not shown", channel, slack_error(exc))
            return False

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
