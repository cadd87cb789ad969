"""Trigger listeners. Each acks at once and only records a queued run; a worker on any replica runs it (workers.py).

No ack waits on the run store or on Slack: events are acked by Bolt before their listener runs, shortcuts ack first,
and a slash command is acked as soon as its text is parsed; what the command did (queued, busy, refused, the store
down) reaches the invoker through its response_url a moment later. A store that is slow or stalled therefore delays
that answer, never the ack, and Slack never redelivers or shows "operation timed out"."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError

from bot.core.run import RunState, Target
from bot.runs import RunStore, StoreError, ThreadBusy
from bot.runs.queue import RunQueue
from bot.slack.access import AccessDenied, authorize
from bot.slack.blocks.wording import LINK_NOT_FOUND, RATE_LIMITED, SLACK_ERRORS, status_line
from bot.slack.collect import SlackRateLimited
from bot.slack.deps import SlackDeps
from bot.slack.errors import slack_error
from bot.slack.inbound.history import History
from bot.slack.inbound.permalink import USAGE, PermalinkError, ThreadRef, parse_permalink
from bot.slack.outbound.notify import notify_user
from bot.slack.outbound.thread import WORKING, SlackThread, tag

log = logging.getLogger(__name__)

COMMAND = "/postmortem"
SHORTCUT_CALLBACK_ID = "testing_postmortem"
BUSY = ":hourglass_flowing_sand: A postmortem of this thread is already queued or running; its progress is in the thread."
MENTION_HELP = (
    "Mention me *inside an incident thread* and I will write a testing postmortem of it. "
    "Elsewhere: react to any message of the thread with :{emoji}:, use the message shortcut "
    "*Testing postmortem*, or run `/postmortem <thread link>`."
)
_MISSING = frozenset({"thread_not_found", "message_not_found"})
DRAIN_S = 10.0


def read_error_text(exc: AccessDenied | SlackRateLimited | SlackApiError) -> str:
    """Why a thread could not be read, for the person who asked."""
    if isinstance(exc, AccessDenied):
        return str(exc)
    if isinstance(exc, SlackRateLimited):
        return RATE_LIMITED
    error = slack_error(exc)
    return LINK_NOT_FOUND if error in _MISSING else SLACK_ERRORS.get(error, f"I cannot read that thread ({error}).")


def store_down_text(exc: StoreError) -> str:
    return f":x: I cannot record runs right now, so nothing was started: {exc.message}. Tell the bot's admin: {exc.fix}."


class Triggers:
    def __init__(self, slack: SlackDeps, store: RunStore, queue: RunQueue, history: History | None = None) -> None:
        self.client, self.settings, self.collector = slack.client, slack.settings, slack.collector
        self.model = self.settings.llm_model
        self.emoji = self.settings.postmortem_emoji
        self.queue = queue
        self.store = store
        self.history = history
        self._background: set[asyncio.Task[None]] = set()

    def register(self, app: AsyncApp) -> None:
        app.command(COMMAND)(self._guard(self.on_command))
        app.event("reaction_added")(self._guard(self.on_reaction))
        app.event("app_mention")(self._guard(self.on_mention))
        app.shortcut(SHORTCUT_CALLBACK_ID)(self._guard(self.on_shortcut))

    def _guard(self, handler: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        """A run store that cannot be written refuses the trigger out loud, to the person who asked."""
        async def guarded(context: AsyncBoltContext, **kwargs: Any) -> None:
            try:
                await handler(**kwargs)
            except StoreError as exc:
                log.error("trigger refused: %s", exc)
                await self._store_down(context, exc)

        # Bolt passes a listener the arguments its signature names (slack_bolt.util.utils.get_arg_names_of_callable):
        # the handler's own, plus the context the refusal is addressed from.
        params = list(inspect.signature(handler).parameters.values())
        guarded.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [*params, inspect.Parameter("context", inspect.Parameter.POSITIONAL_OR_KEYWORD)])
        guarded.__name__ = guarded.__qualname__ = handler.__name__
        return guarded

    async def _store_down(self, context: AsyncBoltContext, exc: StoreError) -> None:
        # Bolt fills user_id and channel_id for all four triggers (slack_bolt.request.internals): a command's
        # user_id/channel_id, a shortcut's user.id/channel.id, an app_mention's event.user/event.channel and a
        # reaction's event.user/event.item.channel. No fallback: a payload without them has no one to tell.
        if context.user_id and context.channel_id:
            await self._ephemeral(context.channel_id, context.user_id, store_down_text(exc))

    async def on_command(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        words = str(command.get("text") or "").split()
        if words and words[0].lower() == "history" and self.history is not None:
            await ack()  # memberships are checked before answering, through the response_url, privately
            asked = Target("history", command["channel_id"], None, command["user_id"], command.get("response_url"))
            self._spawn(self._answer_history(asked, words[1:]))
            return
        regenerate = bool(words) and words[-1].lower() == "again"
        if regenerate:
            words = words[:-1]
        if len(words) > 1 or (words and words[0].lower() == "help"):
            await ack(text=USAGE, response_type="ephemeral")
            return
        invoker, response_url = command["user_id"], command.get("response_url")
        ref: ThreadRef | None = None
        if not words:
            target = Target("command", command["channel_id"], None, invoker, response_url)
        else:
            try:
                ref = parse_permalink(words[0], command.get("team_domain"))
            except PermalinkError as exc:
                await ack(text=str(exc), response_type="ephemeral")
                return
            target = Target("command-link", ref.channel, ref.thread_ts, invoker, response_url)
        await ack()
        self._spawn(self._answer_command(target, ref, f"command:{command.get('trigger_id')}", regenerate=regenerate))

    async def _answer_command(self, target: Target, ref: ThreadRef | None, delivery: str, *, regenerate: bool) -> None:
        """Everything a command does after its ack; the outcome reaches the invoker privately, whatever it is."""
        try:
            if not await self.store.claim_delivery(delivery):
                return  # a Socket Mode re-delivery of a command already handled
            if ref is not None and target.thread_ts is None:
                # A link without thread_ts may point at a reply: its thread's root is looked up, so the run does not
                # post into a new thread under the reply.
                target = replace(target, thread_ts=await self._link_root(target, ref))
            queued = await self._submit(target, regenerate=regenerate)
            if isinstance(queued, str) and target.trigger == "command-link":
                # Whether a linked thread is busy or done is only told to someone allowed to read it.
                await self._tell_member(target, queued)
                return
            text = queued if isinstance(queued, str) else await self._accepted_text(queued, target)
        except StoreError as exc:
            log.error("trigger refused: %s", exc)
            text = store_down_text(exc)
        except (AccessDenied, SlackRateLimited, SlackApiError) as exc:
            log.info("link to %s: cannot use it (%s)", target.channel, exc)
            text = read_error_text(exc)
        except Exception:  # the user must hear back whatever broke; the log has the details
            log.exception("command for %s failed", target.channel)
            text = "I could not start that postmortem (unexpected error). Try again in a minute."
        await notify_user(self.client, target, text)

    async def _link_root(self, target: Target, ref: ThreadRef) -> str:
        # Membership first: someone outside the channel learns nothing about the linked message, not even that it exists.
        await authorize(self.client, self.settings, ref.channel, target.invoker)
        return await self.collector.thread_root(ref.channel, ref.ts)

    async def drain(self) -> None:
        """At shutdown, before the store closes: triggers in flight finish recording and handing over their runs
        (each store call is bounded; a Slack call that hangs is not waited for past DRAIN_S)."""
        if self._background:
            await asyncio.wait(set(self._background), timeout=DRAIN_S)

    async def _answer_history(self, asked: Target, words: list[str]) -> None:
        assert self.history is not None
        await notify_user(self.client, asked, await self.history.answer(asked.invoker, words))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _tell_member(self, target: Target, text: str) -> None:
        try:
            await authorize(self.client, self.settings, target.channel, target.invoker)
        except (AccessDenied, SlackApiError) as exc:
            text = read_error_text(exc)
        await notify_user(self.client, target, text)

    async def on_reaction(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        item = event.get("item", {})
        if event.get("reaction") != self.emoji or item.get("type") != "message":
            return
        if not await self.store.claim_delivery(f"event:{body.get('event_id')}"):
            return
        # Events are acked by Bolt before this runs, so one lookup here costs the user nothing.
        try:
            root = await self.collector.thread_root(item["channel"], item["ts"])
        except (SlackRateLimited, SlackApiError) as exc:
            log.info("reaction on %s/%s: cannot read the thread (%s)", item.get("channel"), item.get("ts"), exc)
            await self._ephemeral(item["channel"], event["user"], read_error_text(exc))
            return
        await self._submit_and_tell(Target("reaction", item["channel"], root, event["user"]))

    async def on_mention(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        if not await self.store.claim_delivery(f"event:{body.get('event_id')}"):
            return
        thread_ts = event.get("thread_ts")
        if not thread_ts:
            await self._ephemeral(event["channel"], event["user"], MENTION_HELP.format(emoji=self.emoji))
            return
        await self._submit_and_tell(Target("mention", event["channel"], thread_ts, event["user"]))

    async def on_shortcut(self, ack: AsyncAck, shortcut: dict[str, Any]) -> None:
        await ack()
        if not await self.store.claim_delivery(f"shortcut:{shortcut.get('trigger_id')}"):
            return
        message = shortcut.get("message", {})
        channel = shortcut.get("channel", {})
        await self._submit_and_tell(Target("shortcut", channel["id"], message.get("thread_ts") or message["ts"],
                                           shortcut["user"]["id"], shortcut.get("response_url")))

    async def submit(self, target: Target, *, regenerate: bool = False) -> str:
        """Queue a run started elsewhere (the Regenerate button); returns what to tell the person who asked."""
        queued = await self._submit(target, regenerate=regenerate)
        return queued if isinstance(queued, str) else await self._accepted_text(queued, target)

    async def _submit(self, target: Target, *, regenerate: bool = False) -> int | str:
        """Record the run as queued: its id, or why it was not queued. One unfinished run per thread holds across
        replicas: the store's unique index refuses a second one (ThreadBusy). ``regenerate``: a new run even after
        a done one."""
        owner, lease = self.queue.owner, self.queue.lease_s
        if target.thread_ts and not regenerate:
            last = await self.store.latest_for_thread(target.channel, target.thread_ts)
            if last is not None and last.status is RunState.DONE:
                return (":white_check_mark: This thread already has a testing postmortem. To write a new one, run "
                        "`/postmortem <link to the thread> again`.")
            if last is not None and last.status is RunState.FAILED and last.facts is not None:
                # Try the failed run again under its own id: nothing it already posted is posted twice, and a
                # report it saved is delivered without asking the model again. Saved only if still failed.
                run = last.run()
                run.requeue()
                if not await self.store.requeue_failed(run, owner=owner, lease_s=lease):
                    return BUSY  # another trigger (maybe on another replica) queued it first
                self._spawn(self._announce_and_release(last.id, target))
                return last.id
        try:
            # Held by this replica until it has announced the run, so no worker posts a status line alongside.
            run_id = await self.store.create(trigger=target.trigger, channel=target.channel, thread_ts=target.thread_ts,
                                             invoker=target.invoker, response_url=target.response_url, owner=owner, lease_s=lease)
        except ThreadBusy:
            return BUSY
        self._spawn(self._announce_and_release(run_id, target))
        return run_id

    async def _announce_and_release(self, run_id: int, target: Target) -> None:
        """👀 and a status line at once, even when the run waits behind others; then any replica's worker may take it."""
        try:
            if target.thread_ts:
                await self._announce(run_id, target.channel, target.thread_ts, target.invoker)
        finally:
            try:
                await self.store.release(run_id, self.queue.owner)
            except StoreError as exc:
                log.error("run %s: cannot hand it to the workers (it waits for its hold to expire): %s", run_id, exc)
            self.queue.poke()

    async def _announce(self, run_id: int, channel: str, thread_ts: str, invoker: str) -> None:
        thread = SlackThread(self.client, channel, thread_ts)
        try:
            ahead = await self.store.ahead(run_id)
            # Nothing is written into a thread the invoker may not use; the runner explains refusals.
            await authorize(self.client, self.settings, channel, invoker)
            await thread.react(WORKING)
            text = f"Queued behind {ahead} other postmortem{'s' if ahead > 1 else ''}" if ahead else "Queued"
            ts = await thread.say(status_line(text), tag(run_id, "status"))
            await self.store.update(run_id, status_ts=ts)
        except AccessDenied:
            return
        except StoreError as exc:
            # The status line is tagged in the thread, so the runner's reconcile still finds it.
            log.error("run %s: %s", run_id, exc)
        except SlackApiError as exc:
            # The runner meets the same error and explains it to the user; nothing to add here.
            log.info("could not announce run %s: %s", run_id, slack_error(exc))

    async def _accepted_text(self, run_id: int, target: Target) -> str:
        ahead = await self.store.ahead(run_id)  # unfinished runs accepted before this one, on every replica
        where = "this channel's recent history" if target.thread_ts is None else "that thread"
        queue = f" ({ahead} ahead of it in the queue)" if ahead else ""
        return f":test_tube: On it: a testing postmortem of {where}{queue}. Sections will appear in the thread as they are written."

    async def _submit_and_tell(self, target: Target) -> None:
        queued = await self._submit(target)
        if isinstance(queued, str):
            await self._ephemeral(target.channel, target.invoker, queued)

    async def _ephemeral(self, channel: str, user: str, text: str) -> None:
        try:
            await self.client.chat_postEphemeral(channel=channel, user=user, text=text)
        except SlackApiError as exc:
            log.info("could not post an ephemeral to %s in %s: %s", user, channel, slack_error(exc))
