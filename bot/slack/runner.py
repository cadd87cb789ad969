"""Runs one queued job: authorize, collect, analyse with the core pipeline, deliver, close. The run's state lives in
its Run (core), which moves only through its transition methods and saves itself to the store at every step, so a
restart or a re-trigger after a failure resumes instead of repeating."""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.events import Emit, Subscribers
from bot.core.incident import Incident
from bot.core.memory import Recall
from bot.core.mentions import neutralise_mentions
from bot.core.pipeline import Pipeline, PostmortemResult
from bot.core.prepare.redact import redact_text
from bot.core.run import Run, RunState, Target
from bot.errors import PostmortemError
from bot.export import ReportExporter
from bot.memory.recall import Memory
from bot.ops.logs import bind_run
from bot.runs import RunRecord, RunStore
from bot.runs.store import StoreError
from bot.settings import Settings
from bot.slack.access import AccessDenied, authorize
from bot.slack.actions.closing_blocks import closing_message
from bot.slack.collect import Collector
from bot.slack.delivery import ThreadDelivery
from bot.slack.errors import slack_error
from bot.slack.jobs import Job
from bot.slack.live import Recipient
from bot.slack.live_previews import LivePreviews
from bot.slack.memory import remember_run, thread_source
from bot.slack.messages import SLACK_ERRORS, UNREACHABLE, closing_line, root_line
from bot.slack.notify import notify_user
from bot.slack.record import StoreSink
from bot.slack.thread import DEGRADED, DONE, FAILED, WORKING, SlackThread

log = logging.getLogger(__name__)


class JobRunner:
    def __init__(self, client: AsyncWebClient, settings: Settings, pipeline: Pipeline, collector: Collector, store: RunStore,
                 team_id: str | None = None, exporter: ReportExporter | None = None, memory: Memory | None = None) -> None:
        self.client = client
        self.exporter = exporter  # EXPORT: the finished report also goes to Confluence or Notion
        self.team_id = team_id  # the workspace's, from auth.test: streaming in channels names the recipient's team
        self.settings = settings
        self.pipeline = pipeline
        self.collector = collector
        self.store = store
        self.memory = memory

    def _recall(self, job: Job, private: bool) -> Recall | None:
        """This run's view of memory: public incidents, and its own channel's private ones."""
        if self.memory is None or job.thread_ts is None:
            return None
        return self.memory.for_run(thread_source(job.channel, job.thread_ts), job.channel, private=private)

    async def _saved(self, job: Job) -> RunRecord | None:
        try:
            return await self.store.get(job.run_id) if job.run_id else None
        except StoreError as exc:
            log.error("cannot read run %s: %s", job.run_id, exc)
            return None

    async def _digest_in(self, channel: str, thread_ts: str) -> bool:
        try:
            return await self.store.digest_posted(channel, thread_ts)
        except StoreError as exc:
            log.error("cannot read the run store: %s", exc)
            return False

    async def __call__(self, job: Job) -> None:
        bind_run(job)  # every log line of this run (this task and those it starts) carries its id, channel and thread
        log.info("run %s started (%s by %s%s)", job.run_id, job.trigger, job.invoker, ", resumed" if job.resumed else "")
        saved = await self._saved(job)
        sink = StoreSink(self.store, job.run_id, saved.status_ts if saved else None)
        resumable = saved is not None and saved.report is not None and saved.facts is not None
        # Without a saved report the run is analysed afresh (a new attempt under the same id, so what the
        # earlier attempt posted is still skipped); with one, the saved run carries on.
        if saved is None:
            run = Run(self.pipeline.new_facts(), sink=sink, id=job.run_id,
                      target=Target(job.trigger, job.channel, job.thread_ts, job.invoker, job.response_url))
        else:
            run = saved.run(sink, facts=None if resumable else self.pipeline.new_facts())
        if run.status in (RunState.INTERRUPTED, RunState.FAILED):
            run.requeue()
        # One digest per thread: a run after a degraded or done one (`again`) posts the model's sections only.
        run.facts.skip_digest = run.facts.skip_digest or (job.thread_ts is not None and await self._digest_in(job.channel, job.thread_ts))
        # Known before anything else, so any failure (even a refusal after the 👀 was shown) closes the thread.
        delivery = self._delivery(job, job.thread_ts, run, sink) if job.thread_ts is not None else None
        try:
            channel = await authorize(self.client, self.settings, job.channel, job.invoker)
            job.channel_name = str(channel.get("name") or job.channel)
            private = bool(channel.get("is_private"))
            if delivery is not None and resumable:
                result = await self._resume(job, delivery)
            else:
                run.collecting()
                incident, delivery = await self._collect(job, run, sink, delivery)
                if delivery is None:
                    # Not "done": a later trigger, once people have written in the thread, must run.
                    run.empty("nothing to analyse")
                    return
                emit = await self._subscribers(job, delivery, resumed=job.resumed)
                result = await self.pipeline.run(incident, emit, run=run, recall=self._recall(job, private))
            await self._finish(job, delivery, result, private=private)
        except AccessDenied as exc:
            await self._fail(job, delivery, run, sink, str(exc), private=True)
        except SlackApiError as exc:
            error = slack_error(exc)
            log.warning("Slack error for %s: %s", job.key, error)
            # The thread or channel is out of reach: a note posted there would go unseen, so tell the user.
            await self._fail(job, delivery, run, sink, SLACK_ERRORS.get(error, f"Slack refused a call ({error}). Try again in a minute."),
                             private=error in UNREACHABLE)
        except PostmortemError as exc:
            await self._fail(job, delivery, run, sink, f"{exc.message}." + (f" Fix: {exc.fix}" if exc.fix else ""))
        except Exception as exc:
            log.exception("run for %s failed", job.key)
            await self._fail(job, delivery, run, sink, f"Unexpected error ({type(exc).__name__}). The bot's logs have the details.")
        finally:
            await run.flush()  # in the store before the worker gives the run back
            log.info("run %s ended %s", job.run_id, run.status.value)

    def _delivery(self, job: Job, thread_ts: str, run: Run, sink: StoreSink) -> ThreadDelivery:
        return ThreadDelivery(SlackThread(self.client, job.channel, thread_ts), run, sink, self.settings.llm_model,
                              ticket_buttons=self.settings.tickets != "none", exporter=self.exporter)

    async def _subscribers(self, job: Job, delivery: ThreadDelivery, *, resumed: bool) -> Emit:
        """The run's events go to the store first (saved before posted), then, with SLACK_STREAM_SECTIONS, to the
        live preview of the section being typed, then into the thread."""
        live = None
        if self.settings.slack_stream_sections:
            recipient = Recipient(job.invoker, self.team_id) if self.team_id and job.invoker else None
            live = await LivePreviews.open(delivery, recipient, resumed=resumed)
        return Subscribers(delivery.run, live, delivery)

    async def _collect(self, job: Job, run: Run, sink: StoreSink, delivery: ThreadDelivery | None) -> tuple[Incident, ThreadDelivery | None]:
        """Read the thread, or for a bare `/postmortem` the channel (then post the root everything threads under)."""
        if job.thread_ts is None:
            raw = await self.collector.channel_history(job.channel)
            incident = await self.collector.incident(raw, title=f"#{job.channel_name}", source="slack-channel")
            if not incident.messages:
                lookback = self.settings.postmortem_lookback
                await self.notify_user(job, f"#{job.channel_name} has no messages in the last {lookback} to analyse.")
                return incident, None
            root = neutralise_mentions(root_line(incident, job.channel_name or job.channel))
            resp = await self.client.chat_postMessage(channel=job.channel, text=root)
            job.thread_ts = str(resp["ts"])
            sink.thread_posted(job.thread_ts)
            delivery = self._delivery(job, job.thread_ts, run, sink)
            await delivery.status(f"Collected {len(incident.messages)} messages")
            return incident, delivery
        assert delivery is not None  # __call__ makes it for a known thread
        if job.resumed:
            await delivery.reconcile()
        # An earlier attempt's ❌ (a retry) or ⚠️ (a degraded run, now written in full) no longer tells the truth.
        await delivery.thread.unreact(FAILED)
        await delivery.thread.unreact(DEGRADED)
        await delivery.thread.react(WORKING)
        await delivery.status("Resuming: collecting the thread again" if job.resumed else "Collecting the thread")
        raw = await self.collector.thread(job.channel, job.thread_ts)
        incident = await self.collector.incident(raw, title=f"#{job.channel_name} thread", source="slack-thread")
        if not incident.messages:
            await delivery.thread.unreact(WORKING)
            await delivery.status("Nothing to analyse: this thread has no messages other than mine.")
            return incident, None
        await delivery.status(f"Collected {len(incident.messages)} messages")
        return incident, delivery

    async def _resume(self, job: Job, delivery: ThreadDelivery) -> PostmortemResult:
        """The model's report survived a restart or a failure: deliver what is missing, never ask the model again."""
        await delivery.reconcile()
        await delivery.thread.unreact(FAILED)
        await delivery.thread.react(WORKING)
        await delivery.status("Resuming: posting the rest of the saved postmortem")
        emit = await self._subscribers(job, delivery, resumed=True)
        return await self.pipeline.resume(delivery.run, emit, narrate=not delivery.run.was_posted("audio"))

    async def _finish(self, job: Job, delivery: ThreadDelivery, result: PostmortemResult, *, private: bool) -> None:
        run = result.run
        await delivery.status("Uploading")
        if result.audio is not None and not run.was_posted("audio"):
            await delivery.upload_audio(result.audio)
        elif result.facts.audio_error:
            why = result.facts.audio_error
            await delivery.say_once("audio", f":mute: The audio summary could not be made: {why}. The written postmortem above is complete.")
        await delivery.finish_uploads()
        await run.flush()  # a write the store refused is a warning the closing line must carry
        degraded = run.mode == "degraded"
        closing = closing_line(result, delivery.upload_errors, emoji=self.settings.postmortem_emoji)
        # With the AI disclaimer, 👍/👎 and Regenerate (bot/slack/actions/closing_blocks.py).
        await delivery.post_once("closing", closing_message(closing, run.id, run))
        await delivery.status("Done: rule-based digest only, the model could not help" if degraded else "Done")
        # Recorded and remembered before the last reaction: whoever sees ✅ or ⚠️ finds the run finished in the store
        # and in `/postmortem history`.
        run.finish()
        await run.flush()
        if self.memory is not None and job.thread_ts is not None:
            await remember_run(self.memory, result, run_id=job.run_id, channel=job.channel, thread_ts=job.thread_ts,
                               private=private, link=await delivery.citations.permalink(job.thread_ts))
        await delivery.thread.unreact(WORKING)
        await delivery.thread.react(DEGRADED if degraded else DONE)

    async def _fail(self, job: Job, delivery: ThreadDelivery | None, run: Run, sink: StoreSink, text: str, *,
                    private: bool = False) -> None:
        """Record the failure, then make sure a person hears of it: in the thread when the thread is reachable and
        the cause is not private, else privately. The 👀 and status line never stay behind."""
        text = redact_text(text)  # causes quote servers' error bodies, which may echo a key or the thread
        run.fail(text)
        told = False
        # A refusal only touches a thread the bot already announced itself in; it never posts anything new there.
        if delivery is not None and (not private or sink.status_ts is not None):
            # Each step on its own: one failing call must not leave the others (and the 👀) undone.
            if not private:
                retry = f" React with :{self.settings.postmortem_emoji}: again to retry; nothing already posted will be repeated."
                told = await self._quietly(delivery.thread.say(f":x: The postmortem failed: {text}{retry}"), run)
            if sink.status_ts is not None:
                await self._quietly(delivery.status("Failed" if not private else "Not run: the person who asked was told why"), run)
            await delivery.thread.unreact(WORKING)
            await delivery.thread.react(FAILED)
        if not told:
            await self.notify_user(job, f":x: {text}")

    @staticmethod
    async def _quietly(call: Awaitable[object], run: Run) -> bool:
        try:
            await call
        except SlackApiError as exc:
            log.info("could not close the thread of run %s: %s", run.id, slack_error(exc))
            return False
        return True

    async def notify_user(self, job: Job, text: str) -> None:
        await notify_user(self.client, job, text)
