"""Delivers one run into its thread: Slack's subscriber to the core's events. Decides what to post, posts it through
SlackThread, records each item in the run's posted ledger once posted, and skips what an earlier attempt (or the
live preview, bot/slack/outbound/live_previews.py) already delivered. Saving what the core produced is the Run's own, as
the first subscriber; delivery waits for the save (``run.flush``) before posting it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.core.events import DigestReady, Event, PlanReady, Progress, ReportReady, SectionDone, SectionRevised, Sources, StageStarted
from bot.core.plan import TestPlan
from bot.core.plan.skeletons import archive
from bot.core.run import Run
from bot.core.sections import Section
from bot.core.speech.types import Audio
from bot.export import ReportExporter
from bot.runs.sink import StoreSink
from bot.slack.blocks.checklist import ARCHIVE_NAME, checklist_message
from bot.slack.blocks.sections import OutboundMessage, section_messages
from bot.slack.blocks.wording import status_line
from bot.slack.errors import slack_error
from bot.slack.outbound.canvas import CanvasPublisher, canvas_markdown
from bot.slack.outbound.citations import SlackCitations
from bot.slack.outbound.native_status import NativeStatus
from bot.slack.outbound.thread import SlackThread, tag
from bot.slack.outbound.wiki import WikiPublisher

log = logging.getLogger(__name__)

# Status edits follow token counts (chat.update is Tier 3) and the pipeline's clock ticks (every STATUS_INTERVAL_S).
_TOKENS_PER_STATUS_EDIT = 250


@dataclass(frozen=True)
class DeliveryOptions:
    """How every run is delivered, fixed at start-up."""

    model: str = ""  # named in the status line while the model writes
    ticket_buttons: bool = False  # TICKETS is set: the checklist carries Create ticket buttons
    exporter: ReportExporter | None = None  # EXPORT: the finished report also goes to Confluence or Notion


class ThreadDelivery:
    def __init__(self, thread: SlackThread, run: Run, sink: StoreSink, options: DeliveryOptions | None = None) -> None:
        self.thread = thread
        self.run, self.sink = run, sink
        options = options or DeliveryOptions()
        self.model = options.model
        self.ticket_buttons = options.ticket_buttons
        self._last_tokens = 0
        self._seen: dict[str, int] = {}
        self._uploads: list[asyncio.Task[None]] = []
        # Uploads that failed: the postmortem stands without them, so they are reported, not fatal.
        self.upload_errors: list[str] = []
        # Slack's native "is thinking…" under the thread, beside the status line (issue 10).
        self.native = NativeStatus(thread.client, thread.channel, thread.thread_ts)
        # Evidence ids become links to the cited messages; the report also goes into a canvas.
        self.citations = SlackCitations(thread.client, thread.channel)
        self.canvas = CanvasPublisher(thread, run, self.say_once)
        self.wiki = WikiPublisher(options.exporter, thread, self.say_once) if options.exporter is not None else None
        self._plan: TestPlan | None = None  # the canvas carries it as a checklist

    def _tag(self, item: str) -> dict[str, Any] | None:
        return tag(self.run.id, item)

    async def reconcile(self) -> None:
        """After a crash, an item may be in the thread without being recorded (killed between the two)."""
        if self.run.id is not None:
            self.run.found_in_thread(await self.thread.tagged(self.run.id))
            self.sink.status_ts = self.sink.status_ts or self.run.ts_of("status")

    # -- the status line ----------------------------------------------------------------------------
    async def status(self, text: str) -> None:
        await self.native.show(text)
        line = status_line(text)
        if self.sink.status_ts is None:
            ts = await self._once("status", lambda: self.thread.say(line, self._tag("status")))
            self.sink.status_posted(ts)
        else:
            await self.thread.edit(self.sink.status_ts, line)

    async def __call__(self, event: Event) -> None:
        match event:
            case StageStarted(stage, detail):
                await self.status(f"{stage.value.capitalize()}: {detail}")
            case Progress():
                await self._progress(event)
            case DigestReady(markdown, sources):
                await self._digest(markdown, sources)
            case SectionDone(section, sources):
                await self._section(section, sources)
            case SectionRevised(section, sources):
                await self._revised(section, sources)
            case PlanReady(plan):
                await self.test_plan(plan)
            case ReportReady(report, _, sources):
                await self._report(report, sources)

    async def _progress(self, progress: Progress) -> None:
        if progress.tick or progress.tokens - self._last_tokens >= _TOKENS_PER_STATUS_EDIT:
            self._last_tokens = progress.tokens
            await self.status(f"Analysing with {self.model}: {progress.describe()}")

    # -- content ------------------------------------------------------------------------------------
    async def _digest(self, markdown: str, sources: Sources) -> None:
        """The rule-based digest: the first reply, once per run (a resumed run finds it in the thread)."""
        heading, _, body = (await self.citations.render(markdown, sources)).partition("\n")
        digest = Section(None, heading.lstrip("# ").strip(), body.strip())
        for part, message in enumerate(section_messages(digest)):
            item = f"digest/{part}"
            if not self.run.was_posted(item):
                self.run.mark_posted(item, await self._post(message, item))

    async def _section(self, section: Section, sources: Sources) -> None:
        item = next_section_item(self._seen, section)
        await self.run.flush()  # saved before posted: a restart re-posts it instead of asking the model again
        # Each part is its own item: a resumed run posts only the parts that did not make it (nor the live preview).
        for part, message in enumerate(await self.section_messages(section, sources)):
            part_item = f"{item}/{part}"
            if not self.run.was_posted(part_item):
                self.run.mark_posted(part_item, await self._post(message, part_item))

    async def section_messages(self, section: Section, sources: Sources) -> list[OutboundMessage]:
        """A section as posted: evidence ids as links, split into Slack-sized parts."""
        return section_messages(await self.citations.section(section, sources))

    async def _revised(self, section: Section, sources: Sources) -> None:
        """The repair improved a posted section: its messages are edited in place (chat.update). A longer
        rewrite posts its extra parts; parts the shorter rewrite no longer needs point at the revision."""
        key = section.id.value if section.id else "raw"
        item = f"section:{key}#{self._seen.get(key, 1)}"
        messages = await self.section_messages(section, sources)
        for part, message in enumerate(messages):
            part_item = f"{item}/{part}"
            if (ts := self.run.ts_of(part_item)) is None or not await self.replace(ts, message, part_item):
                self.run.mark_posted(part_item, await self._post(message, part_item))
        part = len(messages)
        while (ts := self.run.ts_of(f"{item}/{part}")) is not None:
            pointer = section_messages(Section(section.id, section.title, "_(Revised: see the part above.)_"))[0]
            await self.replace(ts, pointer, f"{item}/{part}")
            part += 1

    async def replace(self, ts: str, message: OutboundMessage, item: str) -> bool:
        """Edit in place; False when Slack refuses (the message was deleted, the edit is too big): the caller
        posts the revision anew, because one refused edit must not fail a postmortem that is otherwise written."""
        try:
            await self.thread.replace(ts, message, self._tag(item))
        except SlackApiError as exc:
            log.warning("editing %s in place failed (%s): posting the revision as a new message", item, slack_error(exc))
            return False
        return True

    async def _post(self, message: OutboundMessage, item: str) -> str:
        return await self._once(item, lambda: self.thread.post(message, self._tag(item)))

    async def _once(self, item: str, send: Callable[[], Awaitable[str]]) -> str:
        """Post once. A 5xx answer does not prove the post failed: look for it in the thread before posting again."""
        try:
            return await send()
        except SlackApiError as exc:
            if getattr(exc.response, "status_code", 200) < 500 or self.run.id is None:
                raise
            log.warning("posting %s got %s; checking the thread before posting again", item, slack_error(exc))
            found = (await self.thread.tagged(self.run.id)).get(item)
            return found if found else await send()

    async def _report(self, report_markdown: str, sources: Sources) -> None:
        await self.run.flush()  # saved before published: a restart posts it instead of asking the model again
        report_markdown = await self.citations.render(report_markdown, sources)
        self._uploads.append(asyncio.create_task(self._publish_canvas(report_markdown)))
        # Upload the full report while narration runs; awaited in finish_uploads().
        if not self.run.was_posted("report"):
            self._uploads.append(asyncio.create_task(self._upload(
                "report", "the report file", content=report_markdown,
                filename="postmortem-report.md", title="Testing postmortem (full report)")))

    async def _publish_canvas(self, report_markdown: str) -> None:
        title = report_markdown.partition("\n")[0].lstrip("# ").strip() or "Testing postmortem"
        markdown = canvas_markdown(report_markdown, self._plan)
        if self.wiki is not None:  # first, so the canvas can link the page
            markdown, note = await self.wiki.publish(title, markdown)
            self.upload_errors += [note] if note else []
        if (note := await self.canvas.publish(title, markdown)) is not None:
            self.upload_errors.append(note)

    async def test_plan(self, plan: TestPlan) -> None:
        """The checklist under the Recommended Test Suite and the skeletons as one zip, each once per run."""
        self._plan = plan
        if not self.run.was_posted("testplan"):
            await self.run.flush()  # the plan is in the store before its buttons can be clicked
            message = checklist_message(plan, self.run.id, ticket_buttons=self.ticket_buttons)
            try:
                self.run.mark_posted("testplan", await self._post(message, "testplan"))
            except SlackApiError as exc:  # the postmortem stands without it; a retry of the run posts it
                log.warning("posting the test plan failed: %s", slack_error(exc))
                self.upload_errors.append(f"the test plan checklist could not be posted (Slack said `{slack_error(exc)}`)")
        if plan.tests and not self.run.was_posted("tests-archive"):
            self._uploads.append(asyncio.create_task(self._upload(
                "tests-archive", "the test skeletons", file=archive(plan), filename=ARCHIVE_NAME,
                title="Test skeletons (k6, pytest, Playwright, Toxiproxy, Argo Rollouts)")))

    async def upload_audio(self, audio: Audio) -> None:
        comment = f":headphones: Narrated summary ({audio.engine}, voice {audio.voice}, {audio.duration_s:.0f} s)"
        if audio.fallback_reason:
            comment += f". Fallback voice used because {audio.fallback_reason}"
        await self._upload("audio", "the audio summary", file=audio.mp3, filename="postmortem-summary.mp3",
                           title="Postmortem summary (audio)", initial_comment=comment)

    async def _upload(self, item: str, what: str, **kwargs: Any) -> None:
        # An upload starts once what was produced before it (the report, when the pipeline hands it over at once)
        # is in the store: a restart mid-upload then posts the saved report instead of asking the model again.
        await self.run.flush()
        try:
            await self.thread.upload(**kwargs)
        except SlackApiError as exc:
            error = slack_error(exc)
            log.warning("upload of %s failed: %s", item, error)
            self.upload_errors.append(f"{what} could not be uploaded (Slack said `{error}`)")
            return
        self.run.mark_posted(item, None)

    async def finish_uploads(self) -> None:
        await asyncio.gather(*self._uploads)

    async def post_once(self, item: str, message: OutboundMessage) -> None:
        """A one-off message with blocks (the closing message): posted once per run even across restarts."""
        if not self.run.was_posted(item):
            self.run.mark_posted(item, await self._post(message, item))

    async def say_once(self, item: str, text: str) -> None:
        """A one-off line (audio note, closing line): posted once per run even across restarts."""
        if not self.run.was_posted(item):
            self.run.mark_posted(item, await self._once(item, lambda: self.thread.say(text, self._tag(item))))


def section_item(seen: dict[str, int], key: str) -> str:
    """The ledger item the next delivery of section ``key`` goes under; ``seen`` counts this run's deliveries of each."""
    return f"section:{key}#{seen.get(key, 0) + 1}"


def next_section_item(seen: dict[str, int], section: Section) -> str:
    """The item ``section`` is delivered under now, counted as delivered."""
    key = section.id.value if section.id else "raw"
    item = section_item(seen, key)
    seen[key] = seen.get(key, 0) + 1
    return item
