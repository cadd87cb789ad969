"""One section streamed into the thread while the model writes it: `chat.startStream` / `appendStream` /
`stopStream` through slack_sdk's ``chat_stream`` helper (issue 10).

What is streamed is the core's preview (bot/core/answer/preview.py), which only ever grows. The model writes faster than
Slack should be called (appendStream is Tier 4), so the newest preview wins: one sender task appends whatever is
new, then waits APPEND_INTERVAL_S. When the section is complete, delivery.py stops the stream and replaces the
message with the finished section (the same blocks and metadata as a posted one), or takes it back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_chat_stream import AsyncChatStream
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.mentions import neutralise_mentions
from bot.slack.errors import slack_error

log = logging.getLogger(__name__)

# appendStream is Tier 4 (100+ a minute, per workspace): one append a second per stream leaves room for a few runs.
APPEND_INTERVAL_S = 1.0
_FAILURES = (SlackApiError, SlackRequestError, aiohttp.ClientError, TimeoutError)
# Errors that say nothing about whether this workspace can stream: this section is posted whole, the next one tries.
_PASSING = ("ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout")


@dataclass(frozen=True)
class Recipient:
    """Slack streams to one person in channels: the one who asked for the postmortem."""

    user_id: str
    team_id: str


def stream_heading(title: str) -> str:
    """How a streamed section's text begins: also how a stream the bot lost track of is found in the thread."""
    return f"## {neutralise_mentions(title)}\n\n"


def _error(exc: Exception) -> str:
    return slack_error(exc) if isinstance(exc, SlackApiError) else type(exc).__name__


def _passing(exc: Exception) -> bool:
    """A fault of the moment (rate limit, Slack's 5xx, the network) rather than a refusal to stream."""
    if not isinstance(exc, SlackApiError):
        return not isinstance(exc, SlackRequestError)
    error = slack_error(exc)
    return error in _PASSING or error.startswith("HTTP 5")


def _status(exc: SlackApiError) -> int:
    status = getattr(exc.response, "status_code", 200)
    return status if isinstance(status, int) else 200


class LiveSection:
    def __init__(self, client: AsyncWebClient, channel: str, thread_ts: str, recipient: Recipient, heading: str,
                 on_start: Callable[[str], None]) -> None:
        self._client, self._channel = client, channel
        self._open = client.chat_stream(channel=channel, thread_ts=thread_ts, buffer_size=1,
                                        recipient_user_id=recipient.user_id, recipient_team_id=recipient.team_id)
        self.heading = stream_heading(heading)
        self._on_start = on_start
        self._stream: AsyncChatStream | None = None
        self._target = ""
        self._sent = ""
        self._wake = asyncio.Event()
        self._closing = asyncio.Event()
        self.refused: str | None = None  # Slack will not stream here: post the run's sections whole instead
        self.failed: str | None = None  # the stream did not start this time, or broke after it started
        # The start failed with a 5xx or on the network: Slack may have started it all the same (without a ts for us).
        self.maybe_started = False
        self._task = asyncio.create_task(self._send())

    @property
    def ts(self) -> str | None:
        return self._stream.ts if self._stream is not None else None

    def show(self, body: str) -> None:
        """The newest preview of the section; text that would not extend what was sent stops the stream growing."""
        target = self.heading + neutralise_mentions(body)
        if target.startswith(self._target):
            self._target = target
            self._wake.set()

    async def _send(self) -> None:
        try:
            self._stream = await self._open
        except _FAILURES as exc:
            self._fail(exc)
            return
        while not self._closing.is_set():
            await self._wake.wait()
            self._wake.clear()
            new = self._target[len(self._sent):]
            if new:
                started = self.ts is not None
                try:
                    await self._stream.append(markdown_text=new)
                except _FAILURES as exc:
                    self._fail(exc, started)
                    return
                self._sent += new
                if not started and self.ts is not None:
                    self._on_start(self.ts)
            # Pace the appends; closing ends the wait at once. asyncio.timeout, not wait_for (see workers.py).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(APPEND_INTERVAL_S):
                    await self._closing.wait()

    def cancel(self) -> None:
        """The run is cancelled (the bot stops): the sender goes with it; a restart takes the message back."""
        self._task.cancel()

    def _fail(self, exc: Exception, started: bool = False) -> None:
        if not started:
            self.maybe_started = not isinstance(exc, SlackApiError) or _status(exc) >= 500
        if started or _passing(exc):
            self.failed = _error(exc)
        else:
            self.refused = _error(exc)

    async def stop(self, *, end: bool = True) -> str | None:
        """Stop sending and (``end``) end the stream; the message's ts, None when it never started. A section that
        completes before its first append is posted whole: nothing was streamed, nothing needs replacing."""
        self._closing.set()
        self._wake.set()
        if self.ts is not None:
            # An append held up (a rate limit's Retry-After) must not hold up the finished section, which replaces
            # the streamed text anyway. A start in flight is waited for: its message must be known to be replaced.
            self._task.cancel()
        done, = await asyncio.gather(self._task, return_exceptions=True)
        if isinstance(done, Exception):  # a preview is decoration: its bug must not fail the postmortem
            log.error("streaming a section failed", exc_info=done)
            self.failed = type(done).__name__
        if self._stream is None or self.ts is None:
            return None
        if end:
            try:  # not the helper's stop(): it would resend an append that failed, still in its buffer
                await self._client.chat_stopStream(channel=self._channel, ts=self.ts)
            except _FAILURES as exc:  # Slack already ended it: the message stays and is replaced all the same
                log.info("stopping the stream %s: %s", self.ts, _error(exc))
        return self.ts
