"""Slack's native "is thinking…" indicator under the thread (`assistant.threads.setStatus`), next to the status line.

Since 2026-03-05 the method takes `chat:write` and works in channel threads, not only in the assistant split view.
The status line stays: it is the run's lasting record (Done, Failed, resume), while the native status is a live
hint that Slack clears by itself after two minutes or when the bot replies. So it is refreshed with the status line,
at most every REFRESH_S (or at once when the stage changes), and a refusal (an older workspace, a plan without AI
features) turns it off for the rest of the run: the status line alone then shows progress, as before.
"""

from __future__ import annotations

import logging
import time

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.errors import slack_error

log = logging.getLogger(__name__)

REFRESH_S = 20.0
THINKING = "is writing the postmortem…"
# Status lines after which nothing is in progress any more: the indicator is cleared.
_FINAL = ("Done", "Failed", "Not run", "Nothing to analyse")


class NativeStatus:
    def __init__(self, client: AsyncWebClient, channel: str, thread_ts: str) -> None:
        self.client = client
        self.channel = channel
        self.thread_ts = thread_ts
        self.enabled = True
        self._stage: str | None = None
        self._at = 0.0

    async def show(self, text: str) -> None:
        """Mirror one status line: a loading message while working, cleared once the run is over."""
        if not self.enabled:
            return
        final = text.startswith(_FINAL)
        stage = text.partition(":")[0]
        now = time.monotonic()
        if not final and stage == self._stage and now - self._at < REFRESH_S:
            return
        self._stage, self._at = stage, now
        try:
            await self.client.assistant_threads_setStatus(
                channel_id=self.channel, thread_ts=self.thread_ts, status="" if final else THINKING,
                loading_messages=None if final else [text[:200]])
        except SlackApiError as exc:
            self.enabled = False
            log.info("native thread status refused in %s (%s); the status line alone shows progress",
                     self.channel, slack_error(exc))
