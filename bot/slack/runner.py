"""Runs one claimed run: authorize, collect, analyse with the core pipeline, deliver, close. The run's state lives in
its Run (core), which moves only through its transition methods and saves itself to the store at every step, so a
restart or a re-trigger after a failure resumes instead of repeating."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass, replace

from slack_sdk.errors import SlackApiError

from bot.core.events import Emit, Subscribers
from bot.core.incident.model import Incident
from bot.core.memory import Recall
from bot.core.mentions import neutralise_mentions
from bot.core.pipeline import Pipeline, PostmortemResult
from bot.core.redact import redact_text
from bot.core.run import Run, RunState, Target
from bot.errors import PostmortemError
from bot.export import ReportExporter
from bot.memory.recall import Memory
from bot.ops.logs import bind_run
from bot.runs import Claimed, RunStore
from bot.runs.sink import StoreSink
from bot.runs.store import StoreError
from bot.slack.access import AccessDenied, authorize
from bot.slack.blocks.closing import closing_message
from bot.slack.blocks.wording import SLACK_ERRORS, UNREACHABLE, closing_line, root_line
from bot.slack.deps import SlackDeps
from bot.slack.errors import slack_error
from bot.slack.memory import remember_run, thread_source
from bot.slack.outbound.delivery import DeliveryOptions, ThreadDelivery
from bot.slack.outbound.live import Recipient
from bot.slack.outbound.live_previews import LivePreviews
from bot.slack.outbound.notify import notify_user
from bot.slack.outbound.thread import DEGRADED, DONE, FAILED, WORKING, SlackThread

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOutputs:
    """Where a finished run goes besides its thread: the team's wiki (EXPORT) and memory across incidents."""

    exporter: ReportExporter | None = None
    memory: Memory | None = None


class SlackRunner:
    """The Slack driver of a Run (the CLI's is bot/cli/analyze.py)."""

    def __init__(self, slack: SlackDeps, store: RunStore, pipeline: Pipeline, outputs: RunOutputs | None = None) -> None:
        self.client, self.settings, self.collector, self.team_id = slack.client, slack.settings, slack.collector, slack.team_id
        self.store = store
        self.pipeline = pipeline
        outputs = outputs or RunOutputs()
        self.memory = outputs.memory
        self.delivery_options = DeliveryOptions(self.settings.llm_model, self.settings.tickets != "none", outputs.exporter)

    def _recall(self, target: Target, private: bool) -> Recall | None:
        """This run's view of memory: public incidents, and its own channel's private ones."""
        if self.memory is None or target.thread_ts is None:
            return None
        return self.memory.for_run(thread_source(target.channel, target.thread_ts), target.channel, private=private)

    async def _digest_in(self, channel: str, thread_ts: str) -> bool:
        try:
            return await self.store.digest_posted(channel, thread_ts)
        except StoreError as exc:
            log.error("cannot read the run store: %s", exc)
            return False

    async def __call__(self, claim: Claimed[StoreSink]) -> None:
        """Drive the run the store handed out (``Claimed``): the worker has readied it, a fresh attempt or the saved
        run that carries on from its report."""
        run, target = claim.run, claim.run.target
        bind_run(run)  # every log line of this run (this task and those it starts) carries its id, channel and thread
        log.info("run %s started (%s by %s%s)", run.id, target.trigger, target.invoker, ", resumed" if claim.takeover else "")
        resumable = run.report is not None
        if run.status in (RunState.INTERRUPTED, RunState.FAILED):
            run.requeue()
        # One digest per thread: a run after a degraded or done one (`again`) posts the model's sections only.
        run.facts.skip_digest = run.facts.skip_digest or (target.thread_ts is not None and await self._digest_in(target.channel, target.thread_ts))
        # Known before anything else, so any failure (even a refusal after the 👀 was shown) closes the thread.
        delivery = self._delivery(claim, target.thread_ts) if target.thread_ts is not None else None
        try:
            channel = await authorize(self.client, self.settings, target.channel, target.invoker)
            private = bool(channel.get("is_private"))
            if delivery is not None and resumable:
                result = await self._resume(delivery)
            else:
                run.collecting()
                incident, delivery = await self._collect(claim, str(channel.get("name") or target.channel), delivery)
                if delivery is None:
                    # Not "done": a later trigger, once people have written in the thread, must run.
                    run.empty("nothing to analyse")
                    return
                emit = await self._subscribers(delivery, resumed=claim.takeover)
                result = await self.pipeline.run(incident, emit, run=run, recall=self._recall(run.target, private))
            await self._finish(delivery, result, private=private)
        except AccessDenied as exc:
            await self._fail(claim, delivery, str(exc), private=True)
        except SlackApiError as exc:
            error = slack_error(exc)
            log.warning("Slack error for run %s: %s", run.id, error)
            # The thread or channel is out of reach: a note posted there would go unseen, so tell the user.
            await self._fail(claim, delivery, SLACK_ERRORS.get(error, f"Slack refused a call ({error}). Try again in a minute."),
                             private=error in UNREACHABLE)
        except PostmortemError as exc:
            await self._fail(claim, delivery, f"{exc.message}." + (f" Fix: {exc.fix}" if exc.fix else ""))
        except Exception as exc:
            log.exception("run %s failed", run.id)
            await self._fail(claim, delivery, f"Unexpected error ({type(exc).__name__}). The bot's logs have the details.")
        finally:
            await run.flush()  # in the store before the worker gives the run back
            log.info("run %s ended %s", run.id, run.status.value)

    def _delivery(self, claim: Claimed[StoreSink], thread_ts: str) -> ThreadDelivery:
        return ThreadDelivery(SlackThread(self.client, claim.run.target.channel, thread_ts), claim.run, claim.sink,
                              self.delivery_options)

    async def _subscribers(self, delivery: ThreadDelivery, *, resumed: bool) -> Emit:
        """The run's events go to the store first (saved before posted), then, with SLACK_STREAM_SECTIONS, to the
        live preview of the section being typed, then into the thread."""
        live = None
        invoker = delivery.run.target.invoker
        if self.settings.slack_stream_sections:
            recipient = Recipient(invoker, self.team_id) if self.team_id and invoker else None
            live = await LivePreviews.open(delivery, recipient, resumed=resumed)
        return Subscribers(delivery.run, live, delivery)

    async def _collect(self, claim: Claimed[StoreSink], channel_name: str,
                       delivery: ThreadDelivery | None) -> tuple[Incident, ThreadDelivery | None]:
        """Read the thread, or for a bare `/postmortem` the channel (then post the root everything threads under)."""
        run, target = claim.run, claim.run.target
        if target.thread_ts is None:
            raw = await self.collector.channel_history(target.channel)
            incident = await self.collector.incident(raw, title=f"#{channel_name}", source="slack-channel")
            if not incident.messages:
                lookback = self.settings.postmortem_lookback
                await self.notify_user(target, f"#{channel_name} has no messages in the last {lookback} to analyse.")
                return incident, None
            root = neutralise_mentions(root_line(incident, channel_name))
            resp = await self.client.chat_postMessage(channel=target.channel, text=root)
            run.target = replace(target, thread_ts=str(resp["ts"]))
            claim.sink.thread_posted(str(resp["ts"]))
            delivery = self._delivery(claim, str(resp["ts"]))
            await delivery.status(f"Collected {len(incident.messages)} messages")
            return incident, delivery
        assert delivery is not None  # __call__ makes it for a known thread
        if claim.takeover:
            await delivery.reconcile()
        # An earlier attempt's ❌ (a retry) or ⚠️ (a degraded run, now written in full) no longer tells the truth.
        await delivery.thread.unreact(FAILED)
        await delivery.thread.unreact(DEGRADED)
        await delivery.thread.react(WORKING)
        await delivery.status("Resuming: collecting the thread again" if claim.takeover else "Collecting the thread")
        raw = await self.collector.thread(target.channel, target.thread_ts)
        incident = await self.collector.incident(raw, title=f"#{channel_name} thread", source="slack-thread")
        if not incident.messages:
            await delivery.thread.unreact(WORKING)
            await delivery.status("Nothing to analyse: this thread has no messages other than mine.")
            return incident, None
        await delivery.status(f"Collected {len(incident.messages)} messages")
        return incident, delivery

    async def _resume(self, delivery: ThreadDelivery) -> PostmortemResult:
        """The model's report survived a restart or a failure: deliver what is missing, never ask the model again."""
        await delivery.reconcile()
        await delivery.thread.unreact(FAILED)
        await delivery.thread.react(WORKING)
        await delivery.status("Resuming: posting the rest of the saved postmortem")
        emit = await self._subscribers(delivery, resumed=True)
        return await self.pipeline.resume(delivery.run, emit, narrate=not delivery.run.was_posted("audio"))

    async def _finish(self, delivery: ThreadDelivery, result: PostmortemResult, *, private: bool) -> None:
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
        # With the AI disclaimer, 👍/👎 and Regenerate (bot/slack/blocks/closing.py).
        await delivery.post_once("closing", closing_message(closing, run.id, run))
        await delivery.status("Done: rule-based digest only, the model could not help" if degraded else "Done")
        # Recorded and remembered before the last reaction: whoever sees ✅ or ⚠️ finds the run finished in the store
        # and in `/postmortem history`.
        run.finish()
        await run.flush()
        thread_ts = run.target.thread_ts
        if self.memory is not None and thread_ts is not None:
            await remember_run(self.memory, result, run_id=run.id, channel=run.target.channel, thread_ts=thread_ts,
                               private=private, link=await delivery.citations.permalink(thread_ts))
        await delivery.thread.unreact(WORKING)
        await delivery.thread.react(DEGRADED if degraded else DONE)

    async def _fail(self, claim: Claimed[StoreSink], delivery: ThreadDelivery | None, text: str, *, private: bool = False) -> None:
        """Record the failure, then make sure a person hears of it: in the thread when the thread is reachable and
        the cause is not private, else privately. The 👀 and status line never stay behind."""
        text = redact_text(text)  # causes quote servers' error bodies, which may echo a key or the thread
        run, sink = claim.run, claim.sink
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
            await self.notify_user(run.target, f":x: {text}")

    @staticmethod
    async def _quietly(call: Awaitable[object], run: Run) -> bool:
        try:
            await call
        except SlackApiError as exc:
            log.info("could not close the thread of run %s: %s", run.id, slack_error(exc))
            return False
        return True

    async def notify_user(self, target: Target, text: str) -> None:
        await notify_user(self.client, target, text)
