"""Runs one queued job: authorize, collect, analyse with the core pipeline, post, narrate, close.
Every step is recorded in the run store, so a restart resumes instead of repeating."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.incident import Incident
from bot.core.pipeline import Pipeline, PostmortemResult
from bot.core.report import RunInfo
from bot.errors import PostmortemError
from bot.runs import RunRecord, RunStore
from bot.settings import Settings
from bot.slack.access import AccessDenied, authorize
from bot.slack.collect import Collector
from bot.slack.jobs import Job
from bot.slack.notify import notify_user
from bot.slack.messages import SLACK_ERRORS, UNREACHABLE, closing_line, root_line
from bot.slack.poster import DONE, FAILED, WORKING, ThreadPoster
from bot.slack.record import Recorder

log = logging.getLogger(__name__)


class JobRunner:
    def __init__(self, client: AsyncWebClient, settings: Settings, pipeline: Pipeline, collector: Collector, store: RunStore) -> None:
        self.client = client
        self.settings = settings
        self.pipeline = pipeline
        self.collector = collector
        self.store = store

    async def __call__(self, job: Job) -> None:
        if job.announced is not None:
            await job.announced
        record = self.store.get(job.run_id) if job.run_id else None
        recorder = Recorder(self.store, job.run_id, record.posted if record else None, record.status_ts if record else None)
        poster: ThreadPoster | None = None
        try:
            info = await authorize(self.client, self.settings, job.channel, job.user)
            job.channel_name = str(info.get("name") or job.channel)
            if job.root_ts is not None:
                # Known before collecting, so a failure while collecting still closes the thread with ❌.
                poster = self._poster(job.channel, job.root_ts, recorder)
                if record is not None and record.report:
                    # The model's report survived the restart: post what is missing, never ask the model again.
                    await self._repost(poster, record)
                    return
            incident, poster = await self._collect(job, recorder, poster)
            if poster is None:
                # Not "done": a later trigger, once people have written in the thread, must run.
                recorder.status("empty", error="nothing to analyse")
                return
            recorder.status("analysing", message_count=len(incident.messages), model=self.settings.llm_model)
            result = await self.pipeline.run(incident, poster)
            recorder.status("posting", input_hash=result.info.input_hash, prompt_version=result.info.prompt_version,
                            tts_engine=result.info.tts_engine, timings=result.info.timings)
            await self._finish(poster, result)
            recorder.status("done", timings=result.info.timings)
        except AccessDenied as exc:
            recorder.status("failed", error=str(exc))
            await self.notify_user(job, str(exc))
        except SlackApiError as exc:
            error = str(exc.response.get("error"))
            log.warning("Slack error for %s: %s", job.key, error)
            # The thread or channel is out of reach: a note posted there would go unseen, so tell the user.
            if error in UNREACHABLE:
                poster = None
            await self._fail(job, poster, recorder, SLACK_ERRORS.get(error, f"Slack refused a call ({error}). Try again in a minute."))
        except PostmortemError as exc:
            await self._fail(job, poster, recorder, f"{exc.message}." + (f" Fix: {exc.fix}" if exc.fix else ""))
        except Exception as exc:
            log.exception("run for %s failed", job.key)
            await self._fail(job, poster, recorder, f"Unexpected error ({type(exc).__name__}). The bot's logs have the details.")

    def _poster(self, channel: str, root_ts: str, recorder: Recorder) -> ThreadPoster:
        return ThreadPoster(self.client, channel, root_ts, self.settings.llm_model, recorder)

    async def _collect(self, job: Job, recorder: Recorder, poster: ThreadPoster | None) -> tuple[Incident, ThreadPoster | None]:
        """Read the thread, or for a bare `/postmortem` the channel (then post the root everything threads under)."""
        recorder.status("collecting")
        if job.root_ts is None:
            raw = await self.collector.channel_history(job.channel)
            incident = await self.collector.incident(raw, title=f"#{job.channel_name}", source="slack-channel")
            if not incident.messages:
                await self.notify_user(job, f"#{job.channel_name} has no messages in the last {self.settings.postmortem_lookback} to analyse.")
                return incident, None
            resp = await self.client.chat_postMessage(channel=job.channel, text=root_line(incident, job.channel_name or job.channel))
            job.root_ts = str(resp["ts"])
            recorder.status("collecting", thread_ts=job.root_ts)
            poster = self._poster(job.channel, job.root_ts, recorder)
            await poster.status(f"Collected {len(incident.messages)} messages")
            return incident, poster
        assert poster is not None and job.root_ts is not None  # __call__ makes the poster for a known thread
        if job.resumed:
            await poster.reconcile()
        await poster.react(WORKING)
        await poster.status("Resuming after a restart: collecting the thread again" if job.resumed else "Collecting the thread")
        raw = await self.collector.thread(job.channel, job.root_ts)
        incident = await self.collector.incident(raw, title=f"#{job.channel_name} thread", source="slack-thread")
        if not incident.messages:
            await poster.unreact(WORKING)
            await poster.status("Nothing to analyse: this thread has no messages other than mine.")
            return incident, None
        await poster.status(f"Collected {len(incident.messages)} messages")
        return incident, poster

    async def _repost(self, poster: ThreadPoster, record: RunRecord) -> None:
        await poster.reconcile()
        await poster.react(WORKING)
        await poster.status("Resuming after a restart: posting the rest of the saved postmortem")
        for section in record.sections or []:
            await poster.on_section(section)
        await poster.on_report(record.report or "", record.summary)
        info = RunInfo(prompt_version=record.prompt_version or "", model=record.model or self.settings.llm_model, timings=record.timings)
        audio = None
        if record.summary and not poster.record.was_posted("audio"):
            audio = await self.pipeline.narrate(record.summary, info)
        result = PostmortemResult(record.sections or [], record.report or "", audio, info, record.summary)
        await self._finish(poster, result)
        poster.record.status("done")

    async def _finish(self, poster: ThreadPoster, result: PostmortemResult) -> None:
        await poster.status("Uploading")
        if result.audio is not None:
            await poster.upload_audio(result.audio)
        elif result.info.audio_error and not poster.record.was_posted("audio"):
            await poster.say(f":mute: The audio summary could not be made: {result.info.audio_error}. The written postmortem above is complete.")
            poster.record.posted("audio", None)
        await poster.finish_uploads()
        if not poster.record.was_posted("closing"):
            poster.record.posted("closing", await poster.say(closing_line(result)))
        await poster.status("Done")
        await poster.unreact(WORKING)
        await poster.react(DONE)

    async def _fail(self, job: Job, poster: ThreadPoster | None, recorder: Recorder, text: str) -> None:
        recorder.status("failed", error=text)
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
        await notify_user(self.client, job, text)
