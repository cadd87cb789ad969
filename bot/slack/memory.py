"""Slack's side of memory: a finished thread is remembered with its permalink and whether its channel is private."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.pipeline import PostmortemResult
from bot.memory.entry import entry_for_run
from bot.memory.recall import Memory
from bot.slack.errors import slack_error

log = logging.getLogger(__name__)


def thread_source(channel: str, thread_ts: str) -> str:
    """A thread's one name in memory: a later run of the same thread replaces it, `forget <link>` finds it."""
    return f"slack:{channel}/{thread_ts}"


async def thread_link(client: AsyncWebClient, channel: str, thread_ts: str) -> str | None:
    try:
        return str((await client.chat_getPermalink(channel=channel, message_ts=thread_ts))["permalink"])
    except SlackApiError as exc:  # remembered without its link; "Seen before" then names it by title and date
        log.info("no permalink for %s/%s (%s)", channel, thread_ts, slack_error(exc))
        return None


async def remember_run(client: AsyncWebClient, memory: Memory, result: PostmortemResult, *, run_id: int | None, channel: str,
                       thread_ts: str, private: bool) -> None:
    """Called once the run is finished, before ✅ or ⚠️ is shown (whoever sees it finds the run in `/postmortem
    history`): nothing here may turn it into a failure, so any error is logged."""
    if not memory.enabled:
        return
    try:
        entry = entry_for_run(result.run, result.sections, result.report_markdown, source=thread_source(channel, thread_ts),
                              run_id=run_id, channel=channel, thread_ts=thread_ts, private=private,
                              link=await thread_link(client, channel, thread_ts))
    except Exception:
        log.exception("could not remember the postmortem of %s/%s", channel, thread_ts)
        return
    await memory.remember(entry)
