"""Runs one queued job: authorize, collect, analyse with the core pipeline, post, narrate, close."""

from __future__ import annotations

import logging
from datetime import datetime

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.incident import Incident
from bot.core.pipeline import Pipeline, PostmortemResult
from bot.errors import PostmortemError
from bot.settings import Settings
from bot.slack.access import AccessDenied, authorize
from bot.slack.collect import Collector
from bot.slack.jobs import Job
from bot.slack.poster import DONE, FAILED, WORKING, ThreadPoster

log = logging.getLogger(__name__)

# Slack errors a user can act on, in their words.
SLACK_ERRORS = {
    "not_in_channel": "I am not in that channel. Invite me with `/invite @postmortem-bot`, then try again.",
    "channel_not_found": "I cannot see that channel. If it is private, invite me with `/invite @postmortem-bot`.",
    "thread_not_found": "That thread no longer exists (was the message deleted?).",
    "message_not_found": "That message no longer exists (was it deleted?).",
}


class JobRunner:
    def __init__(self, client: AsyncWebClient, settings: Settings, pipeline: Pipeline, collector: Collector) -> None:
        self.client = client
        self.settings = settings
        self.pipeline = pipeline
        self.collector = collector

    async def __call__(self, job: Job) -> None:
        poster: ThreadPoster | None = None
        try:
            info = await authorize(self.client, self.settings, job.channel, job.user)
            job.channel_name = str(info.get("name") or job.channel)
            incident, poster = await self._collect(job)
            if poster is None:
                return
            result = await self.pipeline.run(incident, poster, narrate=self.settings.tts_engine != "none")
            await self._finish(poster, result)
        except AccessDenied as exc:
            await self.notify_user(job, str(exc))
        except SlackApiError as exc:
            error = str(exc.response.get("error"))
            log.warning("Slack error for %s: %s", job.key, error)
            await self._fail(job, poster, SLACK_ERRORS.get(error, f"Slack refused a call ({error}). Try again in a minute."))
        except PostmortemError as exc:
            await self._fail(job, poster, f"{exc.message}." + (f" Fix: {exc.fix}" if exc.fix else ""))
        except Exception as exc:
            log.exception("run for %s failed", job.key)
            await self._fail(job, poster, f"Unexpected error ({type(exc).__name__}). The bot's logs have the details.")

    async def _collect(self, job: Job) -> tuple[Incident, ThreadPoster | None]:
        model = self.settings.llm_model
        if job.root_ts is None:
            raw = await self.collector.channel_history(job.channel)
            incident = await self.collector.incident(raw, title=f"#{job.channel_name}", source="slack-channel")
            if not incident.messages:
                await self.notify_user(job, f"#{job.channel_name} has no messages in the last {self.settings.postmortem_lookback} to analyse.")
                return incident, None
            resp = await self.client.chat_postMessage(channel=job.channel, text=_root_line(incident, job.channel_name or job.channel))
            job.root_ts = str(resp["ts"])
            poster = ThreadPoster(self.client, job.channel, job.root_ts, model)
            await poster.status(f"Collected {len(incident.messages)} messages")
            return incident, poster
        poster = ThreadPoster(self.client, job.channel, job.root_ts, model)
        await poster.react(WORKING)
        await poster.status("Collecting the thread")
        job.status_ts = poster.status_ts
        raw = await self.collector.thread(job.channel, job.root_ts)
        incident = await self.collector.incident(raw, title=f"#{job.channel_name} thread", source="slack-thread")
        if not incident.messages:
            await poster.unreact(WORKING)
            await poster.status("Nothing to analyse: this thread has no messages other than mine.")
            return incident, None
        await poster.status(f"Collected {len(incident.messages)} messages")
        return incident, poster

    async def _finish(self, poster: ThreadPoster, result: PostmortemResult) -> None:
        await poster.status("Uploading")
        if result.audio is not None:
            await poster.upload_audio(result.audio)
        elif result.info.audio_error:
            await poster.say(f":mute: The audio summary could not be made: {result.info.audio_error}. The written postmortem above is complete.")
        await poster.finish_uploads()
        await poster.say(closing_line(result))
        await poster.status("Done")
        await poster.unreact(WORKING)
        await poster.react(DONE)

    async def _fail(self, job: Job, poster: ThreadPoster | None, text: str) -> None:
        if poster is None:
            await self.notify_user(job, f":x: {text}")
            return
        try:
            await poster.say(f":x: The postmortem failed: {text}")
            await poster.status("Failed")
            await poster.unreact(WORKING)
            await poster.react(FAILED)
        except SlackApiError:
            await self.notify_user(job, f":x: {text}")

    async def notify_user(self, job: Job, text: str) -> None:
        """Reach the invoker privately: response_url when the trigger had one, else an ephemeral, else a DM."""
        try:
            if job.response_url:
                async with aiohttp.ClientSession() as session:
                    async with session.post(job.response_url, json={"response_type": "ephemeral", "text": text}) as resp:
                        resp.raise_for_status()
                return
            await self.client.chat_postEphemeral(channel=job.channel, user=job.user, text=text)
        except (SlackApiError, aiohttp.ClientError):
            try:
                await self.client.chat_postMessage(channel=job.user, text=text)
            except SlackApiError:
                log.error("could not tell %s: %s", job.user, text)


def _root_line(incident: Incident, channel_name: str) -> str:
    span = ""
    if incident.first_ts and incident.last_ts:
        span = f", from {_fmt(incident.first_ts)} to {_fmt(incident.last_ts)}"
    return f":test_tube: Testing postmortem for #{channel_name}: {len(incident.messages)} messages{span}. Results follow in this thread."


def _fmt(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%d %H:%M UTC")


def closing_line(result: PostmortemResult) -> str:
    info = result.info
    timings = ", ".join(f"{k} {v:.1f} s" for k, v in info.timings.items())
    missing = f" Missing sections: {', '.join(info.missing_sections)}." if info.missing_sections else ""
    redacted = f" Redacted {sum(info.redactions.values())} secrets/personal data before analysis." if info.redactions else ""
    return (
        f":white_check_mark: Postmortem done: model `{info.model}`, prompt `{info.prompt_version}` ({timings}).{missing}{redacted}\n"
        "_AI-generated draft: verify before acting._"
    )

