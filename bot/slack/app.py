"""The Slack app: Bolt AsyncApp over Socket Mode, the job queue, and the core pipeline wired together."""

from __future__ import annotations

import asyncio
import logging
import signal

import aiohttp
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

from bot.core.llm.pool import LLMPool, server_urls
from bot.core.pipeline import Pipeline
from bot.errors import PostmortemError
from bot.export import make_exporter
from bot.memory.open import open_memory
from bot.memory.recall import Memory
from bot.ops.health import HealthServer, serve_health
from bot.runs import RunStore, open_store
from bot.runs.queue import RunQueue, StoreCallSlots
from bot.settings import Settings, load_settings
from bot.slack.client import app_token, bolt_logger, make_web_client
from bot.slack.collect import Collector
from bot.slack.deps import SlackDeps
from bot.slack.inbound.feedback import FeedbackActions
from bot.slack.inbound.history import History
from bot.slack.inbound.home import HomeTab
from bot.slack.inbound.regenerate import RegenerateAction
from bot.slack.inbound.ticket_button import TicketActions
from bot.slack.inbound.triggers import Triggers
from bot.slack.outbound.reminder import Clock, Reminder
from bot.slack.privacy import ChannelPrivacy
from bot.slack.runner import RunOutputs, SlackRunner
from bot.tickets import make_backend

log = logging.getLogger(__name__)

# Slack retries an event for about an hour at most; a week of delivery ids is plenty, and the table stays small.
DELIVERIES_KEPT_S = 7 * 24 * 3600.0


class BotApp:
    """Everything the running bot holds. ``start``/``stop`` let tests and the CLI drive the same object."""

    def __init__(self, settings: Settings, pipeline: Pipeline | None = None, clock: Clock | None = None) -> None:
        self.settings = settings
        self.client = make_web_client(settings)
        self.app_token = app_token(settings)
        self.pipeline = pipeline or Pipeline(settings)
        self.app = AsyncApp(client=self.client, process_before_response=False, logger=bolt_logger())
        self.store: RunStore | None = None  # opened by start(): opening is I/O, and may wait on a remote database
        self.collector: Collector | None = None
        self.queue: RunQueue | None = None
        self.triggers: Triggers | None = None
        self.handler: AsyncSocketModeHandler | None = None
        self.health: HealthServer | None = None
        # The Create ticket button (issue 9); a bad TICKETS setting stops the bot here with its one-line error.
        self.ticket_backend = make_backend(settings)
        self.ticket_actions: TicketActions | None = None
        # The report on the team's wiki (issue 23); a bad EXPORT setting stops the bot here too.
        self.exporter = make_exporter(settings)
        self.memory: Memory | None = None  # opened by start(), with the store
        self.privacy = ChannelPrivacy(self.client)  # how channels are now, for what memory shows elsewhere
        self.clock = clock  # the weekly reminder's (tests step it); None: the system's
        self.reminder: Reminder | None = None  # the weekly follow-up reminder, when FOLLOWUP_REMINDER_CHANNEL is set
        self.reminder_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        # First: a store that cannot be opened stops the replica before it takes any trigger from Slack.
        self.store = store = await open_store(self.settings)
        # Memory across incidents (issue 22), in the same store; past tickets' states are read through the same backend.
        self.memory = memory = open_memory(self.settings, store, self.ticket_backend, self.privacy)
        # Then the health checks, so an orchestrator sees the process alive (and not ready) while it connects to Slack.
        self.health = await serve_health(self.settings, self.socket_connected, store)
        # One pooled session: without it slack_sdk opens a new connection (and TLS handshake) per call.
        self.client.session = aiohttp.ClientSession()
        auth = await self.client.auth_test()
        self.collector = Collector(self.client, self.settings, auth.get("user_id"), auth.get("bot_id"))
        slack = SlackDeps(self.client, self.settings, self.collector, auth.get("team_id"))
        runner = SlackRunner(slack, store, self.pipeline, RunOutputs(self.exporter, memory))
        # LLM_CONCURRENCY runs per LLM server, counted over every replica sharing the store.
        capacity = self.settings.llm_concurrency * len(server_urls(self.settings))
        self.queue = RunQueue(runner, store, self.pipeline.new_facts, capacity=capacity, lease_s=self.settings.run_lease_s)
        if isinstance(self.pipeline.llm, LLMPool):
            self.pipeline.llm.slots = StoreCallSlots(store, self.queue.owner, per_server=self.settings.llm_concurrency,
                                                     lease_s=self.settings.run_lease_s)
        history = History(self.client, memory)
        self.triggers = triggers = Triggers(slack, store, self.queue, history)
        triggers.register(self.app)
        self.ticket_actions = TicketActions(self.client, store, self.settings, self.ticket_backend)
        self.ticket_actions.register(self.app)
        FeedbackActions(self.client, store).register(self.app)
        RegenerateAction(self.client, store, triggers).register(self.app)
        HomeTab(self.client, store, memory, history).register(self.app)
        await store.adopt_orphans()
        await store.forget_deliveries(DELIVERIES_KEPT_S)
        await memory.prune()
        self.queue.start()
        if self.settings.followup_reminder_channel and not memory.enabled:
            log.warning("FOLLOWUP_REMINDER_CHANNEL is set but memory is off (MEMORY_RETENTION_DAYS=0): no weekly reminder")
        elif self.settings.followup_reminder_channel:
            self.reminder = Reminder(self.client, self.settings, memory, store, self.privacy, self.queue.owner, self.clock)
            self.reminder_task = asyncio.create_task(self.reminder.run(), name="followup-reminder")
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

    async def socket_connected(self) -> bool:
        socket_mode = self.handler.client if self.handler is not None else None  # a websocket client, not the Web API's
        return socket_mode is not None and await socket_mode.is_connected()

    async def stop(self) -> None:
        if self.health is not None:
            await self.health.stop()
        if self.handler is not None:
            await self.handler.close_async()  # type: ignore[no-untyped-call]  # slack_bolt leaves this method unannotated
        if self.reminder_task is not None:
            self.reminder_task.cancel()
            await asyncio.gather(self.reminder_task, return_exceptions=True)
        if self.triggers is not None:
            await self.triggers.drain()
        if self.queue is not None:
            await self.queue.stop()
        await self.pipeline.aclose()
        if self.ticket_backend is not None:
            await self.ticket_backend.aclose()
        if self.exporter is not None:
            await self.exporter.aclose()
        if self.client.session is not None:
            await self.client.session.close()
        if self.store is not None:
            await self.store.close()


async def run_app() -> int:
    bot = BotApp(load_settings())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await bot.start()
        await stop.wait()
    finally:
        await bot.stop()
    return 0
