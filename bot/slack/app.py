"""The Slack app: Bolt AsyncApp over Socket Mode, the job queue, and the core pipeline wired together."""

from __future__ import annotations

import asyncio
import logging
import signal

import aiohttp
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

from bot.core.pipeline import Pipeline
from bot.core.run import RunState
from bot.errors import PostmortemError
from bot.runs import RunStore
from bot.settings import Settings, load_settings
from bot.slack.actions.tickets import TicketActions
from bot.slack.client import app_token, bolt_logger, make_web_client
from bot.slack.collect import Collector
from bot.slack.jobs import Job, JobQueue
from bot.slack.runner import JobRunner
from bot.slack.triggers import Triggers

log = logging.getLogger(__name__)


class BotApp:
    """Everything the running bot holds. ``start``/``stop`` let tests and the CLI drive the same object."""

    def __init__(self, settings: Settings, pipeline: Pipeline | None = None) -> None:
        self.settings = settings
        self.client = make_web_client(settings)
        self.app_token = app_token(settings)
        self.pipeline = pipeline or Pipeline(settings)
        self.app = AsyncApp(client=self.client, process_before_response=False, logger=bolt_logger())
        self.store = RunStore.in_dir(settings.data_dir)
        self.collector: Collector | None = None
        self.queue: JobQueue | None = None
        self.handler: AsyncSocketModeHandler | None = None
        # The Create ticket button (issue 9); a bad TICKETS setting stops the bot here with its one-line error.
        self.ticket_actions = TicketActions(self.client, self.store, settings)

    async def start(self) -> None:
        # One pooled session: without it slack_sdk opens a new connection (and TLS handshake) per call.
        self.client.session = aiohttp.ClientSession()
        auth = await self.client.auth_test()
        self.collector = Collector(self.client, self.settings, auth.get("user_id"), auth.get("bot_id"))
        runner = JobRunner(self.client, self.settings, self.pipeline, self.collector, self.store)
        self.queue = JobQueue(runner, self.settings.llm_concurrency)
        Triggers(self.queue, self.collector, self.client, self.store, self.settings).register(self.app)
        self.ticket_actions.register(self.app)
        self.queue.start()
        self.resume_unfinished()
        # Load the model now, so the first postmortem does not pay for it; a server that is down is reported
        # to each run with its fix, so here it is only a warning.
        try:
            await self.pipeline.llm.warm_up()
        except PostmortemError as exc:
            log.warning("could not warm up the model: %s", exc)
        self.handler = AsyncSocketModeHandler(self.app, self.app_token, web_client=self.client)
        await self.handler.connect_async()  # type: ignore[no-untyped-call]  # slack_bolt leaves this method unannotated
        log.info(
            "connected to Slack as %s; listening for %s, :%s:, the shortcut and mentions",
            auth.get("user"), "/postmortem", self.settings.postmortem_emoji,
        )

    def resume_unfinished(self) -> None:
        """Runs a restart interrupted go back on the queue, in their original order, under their own ids."""
        assert self.queue is not None
        for record in self.store.unfinished():
            info = record.info or self.pipeline.new_info()
            info.advance(RunState.INTERRUPTED)
            job = Job(trigger=record.trigger, channel=record.channel, invoker=record.invoker, thread_ts=record.thread_ts,
                      response_url=record.response_url, run_id=record.id, resumed=True)
            if not self.queue.submit(job):
                info.advance(RunState.FAILED, error="superseded by another run of the same thread")
            else:
                log.info("resuming run %d (%s in %s, was %s)", record.id, record.trigger, record.channel, record.status.value)
            self.store.update(record.id, info=info)

    async def stop(self) -> None:
        if self.handler is not None:
            await self.handler.close_async()  # type: ignore[no-untyped-call]  # slack_bolt leaves this method unannotated
        if self.queue is not None:
            await self.queue.stop()
        await self.pipeline.aclose()
        await self.ticket_actions.aclose()
        if self.client.session is not None:
            await self.client.session.close()
        self.store.close()


async def run_app() -> int:
    bot = BotApp(load_settings())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await bot.start()
    try:
        await stop.wait()
    finally:
        await bot.stop()
    return 0
