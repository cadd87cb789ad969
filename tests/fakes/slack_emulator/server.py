"""SlackEmulator: an aiohttp server on 127.0.0.1 speaking Slack's Web API,
files_upload_v2 upload URLs, response_url webhooks and Socket Mode.

    async with SlackEmulator() as slack:
        client = AsyncWebClient(base_url=slack.api_url, token=slack.bot_token)
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from . import (  # noqa: F401  (importing ai_apps, canvases and streaming registers their Web API methods)
    ai_apps,
    canvases,
    files,
    payloads,
    streaming,
    web_api,
)
from .errors import SlackError
from .mentions import live_mentions
from .socket_mode import Ack, SocketModeHub
from .waiting import ChangeSignal
from .workspace import Stream, Workspace

APP_TOKEN_METHODS = {"apps.connections.open"}
# Methods through which the bot puts text in front of people.
_WRITES = {"chat.postMessage", "chat.update", "chat.postEphemeral", "files.completeUploadExternal",
           "chat.startStream", "chat.appendStream", "chat.stopStream"}


def _chunks(args: dict[str, Any]) -> Any:
    """A stream call's chunks as sent (each markdown_text chunk's text is under "text"), even when malformed."""
    try:
        return web_api.json_arg(args, "chunks", "invalid_chunks") or []
    except SlackError:
        return [args.get("chunks")]


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    time: float  # time.monotonic() at arrival
    response: dict[str, Any] = field(default_factory=dict)
    status: int = 200


@dataclass
class Fault:
    error: str
    status: int
    retry_after: int | None
    html: bool = False  # answer with an HTML page, as Slack's edge does during outages, not Slack's JSON
    applied: bool = False  # carry the call out, then answer with the fault (the client cannot know it worked)
    when: Callable[[dict[str, Any]], bool] | None = None  # only a call whose arguments this accepts (None: the next)


class SlackEmulator:
    def __init__(self, *, team_name: str = "Acme", team_domain: str = "acme",
                 bot_name: str = "postmortem-bot", page_cap: int | None = None, round_robin: bool = False) -> None:
        """page_cap caps history/replies pages whatever `limit` asks, like the
        15-message pages Slack now serves commercially distributed apps. round_robin
        spreads envelopes over every live Socket Mode connection (several replicas)."""
        self._signal = ChangeSignal()
        self.workspace = Workspace(team_name=team_name, team_domain=team_domain,
                                   bot_name=bot_name, on_change=self._signal.notify)
        self.workspace.page_cap = page_cap
        self.socket = SocketModeHub(self.workspace.app_id, self._signal.notify, round_robin=round_robin)
        self.bot_token = f"xoxb-{secrets.randbelow(10**12)}-{secrets.token_hex(12)}"
        self.app_token = f"xapp-1-{self.workspace.app_id}-{secrets.token_hex(12)}"
        self.calls: list[Call] = []
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._response_urls: dict[str, dict[str, Any]] = {}
        self._holds: dict[str, asyncio.Event] = {}
        self._download_faults: dict[str, files.DownloadFault] = {}
        self._closing = asyncio.Event()
        self.held: list[Call] = []
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # ---- lifecycle ----------------------------------------------------------
    async def __aenter__(self) -> SlackEmulator:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{key}", self._respond)
        app.router.add_get("/socket/link/", self.socket.handle)
        files.add_file_routes(app, self.workspace, self.bot_token, self._download_faults, self._closing)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = self.workspace.base_url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing.set()  # releases stalled downloads so shutdown does not wait on them
        await self.socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    # ---- Web API --------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        name = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json" and request.can_read_body:
            args.update(await request.json())
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            args.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else args.pop("token", None)
        call = Call(name, args, time.monotonic())
        self.calls.append(call)
        hold = self._holds.pop(name, None)
        if hold is not None:
            # Park this call (e.g. to kill the bot mid-upload); it answers once the test releases it.
            self.held.append(call)
            self._signal.notify()
            await hold.wait()
        headers: dict[str, str] = {}
        if self.workspace.scopes is not None:
            headers["x-oauth-scopes"] = ",".join(sorted(self.workspace.scopes))
        fault = self._take_fault(name, args)
        if fault is None or fault.applied:
            try:
                call.response = self._dispatch(name, token)(self.workspace, args)
            except SlackError as e:
                call.response = e.body()
        if fault is not None:
            call.status, call.response = fault.status, {"ok": False, "error": fault.error}
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
        self._signal.notify()
        if fault is not None and fault.html:
            page = f"<html><head><title>{fault.status}</title></head><body>{fault.error}</body></html>"
            return web.Response(text=page, status=fault.status, content_type="text/html", headers=headers)
        return web.json_response(call.response, status=call.status, headers=headers)

    def _dispatch(self, name: str, token: str | None) -> web_api.Handler:
        if not token:
            raise SlackError("not_authed")
        if token not in (self.bot_token, self.app_token):
            raise SlackError("invalid_auth")
        if (token == self.app_token) != (name in APP_TOKEN_METHODS):
            raise SlackError("not_allowed_token_type")
        if name == "apps.connections.open":
            return lambda ws, args: {"ok": True, "url": self.socket.issue_url(
                self.base_url.replace("http://", "ws://", 1))}
        if name not in web_api.METHODS:
            raise SlackError("unknown_method", req_method=name)
        return web_api.METHODS[name]

    def fail_next(self, method: str, error: str = "ratelimited", *, status: int | None = None,
                  retry_after: int | None = 1, times: int = 1, html: bool = False, applied: bool = False,
                  when: Callable[[dict[str, Any]], bool] | None = None) -> None:
        """Make the next `times` calls of `method` fail. Status defaults to 429 for
        "ratelimited" (with Retry-After) and 200 otherwise (Slack's ok=false answers). ``html``: the body is an
        HTML error page instead of JSON. ``applied``: the call takes effect, but the answer is still the fault.
        ``when``: the fault waits for a call whose arguments it accepts (the checklist's post, not the sections')."""
        status = status if status is not None else (429 if error == "ratelimited" else 200)
        self._faults[method].extend(
            Fault(error, status, retry_after if status == 429 else None, html, applied, when) for _ in range(times))

    def _take_fault(self, method: str, args: dict[str, Any]) -> Fault | None:
        queue = self._faults[method]
        for i, fault in enumerate(queue):
            if fault.when is None or fault.when(args):
                del queue[i]
                return fault
        return None

    def fail_download(self, file_id: str, fault: files.DownloadFault = 404) -> None:
        """Every url_private download of the file fails: an HTTP status (404, 403, 500…), "sign_in" (Slack's
        HTML sign-in page with status 200, as when the token lacks files:read) or "stall" (no answer)."""
        self._download_faults[file_id] = fault

    def hold_next(self, method: str) -> asyncio.Event:
        """Make the next call of `method` wait until the returned event is set; it then lands in `held`."""
        self._holds[method] = asyncio.Event()
        return self._holds[method]

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def expire_streams(self) -> int:
        """Slack ends a stream by itself after a few minutes: every open stream ends, so the next
        chat.appendStream/chat.stopStream on it answers message_not_in_streaming_state. Returns how many ended."""
        return self.workspace.expire_streams()

    def streamed(self, channel: str | None = None) -> list[Stream]:
        """chat.startStream sessions in start order (only ``channel``'s when given): ts, thread_ts, recipients,
        ``pieces`` (each appended text, in arrival order), ``ended`` (None, "stopped", "expired", "updated",
        "deleted"), ``open``, ``stopped``."""
        cid = self.workspace.channel(channel).id if channel is not None else None
        return [s for s in self.workspace.streams if cid is None or s.channel == cid]

    def live_mentions(self) -> list[tuple[str, str]]:
        """(method, mention) for every mention that would notify someone in what the bot sent: messages,
        updates, ephemerals, streamed text, upload comments and response_url posts."""
        sent: list[tuple[str, str]] = []
        for call in self.calls:
            if call.method in _WRITES:
                blocks = web_api.json_arg(call.args, "blocks", "invalid_blocks_format") or []
                texts = [str(call.args.get(k) or "") for k in ("text", "initial_comment", "markdown_text")]
                texts += web_api.block_texts(blocks) + web_api.block_texts(_chunks(call.args))
                sent += [(call.method, t) for t in texts]
        sent += [("response_url", t) for r in self.responses
                 for t in [str(r["body"].get("text") or ""), *web_api.block_texts(r["body"].get("blocks") or [])]]
        return [(where, m) for where, text in sent for m in live_mentions(text)]

    # ---- response_url -----------------------------------------------------------
    def _new_response_url(self, channel: str, user: str) -> str:
        key = secrets.token_urlsafe(16)
        self._response_urls[key] = {"channel": self.workspace.channel(channel).id,
                                    "user": self.workspace.user(user)["id"]}
        return f"{self.base_url}/respond/{key}"

    async def _respond(self, request: web.Request) -> web.Response:
        origin = self._response_urls.get(request.match_info["key"])
        if origin is None:
            return web.Response(status=404, text="no_service")
        body = await request.json()
        response_type = body.get("response_type") or "ephemeral"  # Slack's default
        if response_type == "in_channel":  # visible to everyone, posted as the app
            self.workspace.post(origin["channel"], self.workspace.bot_user_id, body.get("text", ""),
                                thread_ts=body.get("thread_ts"), blocks=web_api.stored_blocks(body.get("blocks")))
        self.workspace.record(self.workspace.responses, {
            **origin, "url": str(request.url), "response_type": response_type, "body": body,
            "text": body.get("text", "")})
        return web.Response(text="ok", content_type="text/plain")

    # ---- Socket Mode triggers -------------------------------------------------
    def slash_command(self, user: str, channel: str, command: str = "/postmortem", text: str = "") -> str:
        payload = payloads.slash_command(self.workspace, user, channel, command, text,
                                         self._new_response_url(channel, user))
        return self.socket.enqueue("slash_commands", payload, accepts_response_payload=True)

    def reaction_added(self, user: str, channel: str, ts: str, reaction: str) -> str:
        ws = self.workspace
        ch, uid = ws.channel(channel), ws.user(user)["id"]
        ws.react(ch, ts, reaction, uid)  # the reaction is real state, as in Slack
        author = ws.message(ch, ts)
        event = {"type": "reaction_added", "user": uid, "reaction": reaction,
                 "item": {"type": "message", "channel": ch.id, "ts": ts},
                 "item_user": author.get("user") or author.get("bot_id", ""), "event_ts": ws.next_ts()}
        return self.socket.enqueue("events_api", payloads.event_callback(ws, event),
                                   accepts_response_payload=False)

    def app_mention(self, user: str, channel: str, text: str, thread_ts: str | None = None) -> str:
        """Store the mentioning message (as Slack would) and deliver its app_mention event."""
        ws = self.workspace
        mention = f"<@{ws.bot_user_id}>"
        text = text if mention in text else f"{mention} {text}"
        ch, uid, msg_id = ws.channel(channel), ws.user(user)["id"], secrets.token_hex(16)
        ts = ws.post(ch.id, uid, text, thread_ts=thread_ts, client_msg_id=msg_id)
        event = {"type": "app_mention", "user": uid, "text": text, "ts": ts, "channel": ch.id,
                 "event_ts": ts, "team": ws.team["id"], "client_msg_id": msg_id}
        if thread_ts:
            event["thread_ts"] = thread_ts
        return self.socket.enqueue("events_api", payloads.event_callback(ws, event),
                                   accepts_response_payload=False)

    def message_shortcut(self, user: str, channel: str, ts: str, callback_id: str) -> str:
        payload = payloads.message_action(self.workspace, user, channel, ts, callback_id,
                                          self._new_response_url(channel, user))
        return self.socket.enqueue("interactive", payload, accepts_response_payload=False)

    def click(self, user: str, channel: str, ts: str, action_id: str, value: str | None = None) -> str:
        """``user`` clicks the button ``action_id`` (and ``value``, when several share it) on the message at ``ts``.
        Only what the message shows can be clicked: a button that is not (or no longer) there raises LookupError."""
        ch = self.workspace.channel(channel)
        blocks = self.workspace.message(ch, ts).get("blocks") or []
        hits = [(bid, e) for bid, e in payloads.interactive_elements(blocks)
                if e["action_id"] == action_id and (value is None or e.get("value") == value)]
        if not hits:
            raise LookupError(f"no {action_id!r} element (value {value!r}) on message {ts} in {channel}")
        payload = payloads.block_actions(self.workspace, user, ch.id, ts, *hits[0], self._new_response_url(ch.id, user))
        return self.socket.enqueue("interactive", payload, accepts_response_payload=False)

    def app_home_opened(self, user: str, tab: str = "home") -> str:
        """``user`` opens the app's Home tab (or its Messages tab)."""
        ws = self.workspace
        uid = ws.user(user)["id"]
        event = {"type": "app_home_opened", "user": uid, "channel": f"D{uid[1:]}", "tab": tab, "event_ts": ws.next_ts()}
        if uid in ws.home_views:
            event["view"] = ws.home_views[uid]
        return self.socket.enqueue("events_api", payloads.event_callback(ws, event), accepts_response_payload=False)

    def home_input(self, user: str, action_id: str, text: str) -> str:
        """``user`` types ``text`` in the input ``action_id`` of their Home tab and presses Enter. Only an input the
        published tab shows, with ``dispatch_action`` on and Enter among its triggers, sends anything (LookupError
        otherwise); text beyond the element's ``max_length`` cannot be typed (ValueError)."""
        ws = self.workspace
        uid = ws.user(user)["id"]
        view = ws.home_views.get(uid)
        hits = [(b.get("block_id", ""), b["element"]) for b in (view or {}).get("blocks", [])
                if b.get("type") == "input" and b.get("dispatch_action") and b["element"].get("action_id") == action_id
                and "on_enter_pressed" in (b["element"].get("dispatch_action_config") or {}).get("trigger_actions_on", ["on_enter_pressed"])]
        if view is None or not hits:
            raise LookupError(f"no input {action_id!r} that sends on Enter in the Home tab of {user}")
        block_id, element = hits[0]
        if len(text) > int(element.get("max_length", 3000)):
            raise ValueError(f"the input {action_id!r} takes at most {element.get('max_length', 3000)} characters")
        view.setdefault("state", {}).setdefault("values", {})[block_id] = {action_id: {"type": element["type"], "value": text}}
        payload = payloads.home_input_action(ws, uid, view, block_id, element, text)
        return self.socket.enqueue("interactive", payload, accepts_response_payload=False)

    def redeliver(self, envelope_id: str, reason: str = "timeout") -> str:
        return self.socket.redeliver(envelope_id, reason)

    async def disconnect(self, reason: str = "refresh_requested") -> None:
        await self.socket.disconnect(reason)

    async def drop_connection(self) -> None:
        await self.socket.drop()

    async def outage(self) -> None:
        """Drop every Socket Mode connection and hold reconnections until ``restore_connections``."""
        await self.socket.outage()

    def restore_connections(self) -> None:
        self.socket.restore()

    # ---- waiting ----------------------------------------------------------------
    async def wait_for(self, predicate: Callable[[SlackEmulator], Any], timeout: float = 10) -> Any:
        """Return predicate(self)'s first truthy value; re-checked on every state change."""
        try:
            return await self._signal.wait_until(lambda: predicate(self), timeout)
        except TimeoutError:
            raise TimeoutError(f"condition not met within {timeout}s\n{self.dump()}") from None

    async def wait_ack(self, envelope_id: str, timeout: float = 5) -> Ack:
        return await self.wait_for(lambda s: next(
            (a for a in reversed(s.acks) if a.envelope_id == envelope_id), None), timeout)

    async def wait_connected(self, n: int = 1, timeout: float = 10) -> None:
        await self.wait_for(lambda s: s.socket.connections >= n, timeout)

    def dump(self, last: int = 15) -> str:
        lines = [f"socket: {self.socket.connections} connection(s), {self.socket.pending} queued, "
                 f"{len(self.acks)} ack(s) of {len(self.socket.envelopes)} envelope(s)",
                 f"last {min(last, len(self.calls))} of {len(self.calls)} API call(s):"]
        for c in self.calls[-last:]:
            args = json.dumps(c.args, default=str)
            lines.append(f"  {c.method} {args[:200]} -> {c.status} {json.dumps(c.response, default=str)[:200]}")
        return "\n".join(lines)

    # ---- builders and views (delegating to the workspace) --------------------------
    def add_user(self, name: str, *, display_name: str | None = None, real_name: str | None = None,
                 is_bot: bool = False) -> str:
        return self.workspace.add_user(name, display_name=display_name, real_name=real_name, is_bot=is_bot)

    def add_channel(self, name: str, *, private: bool = False, members: Iterable[str] = (),
                    bot_member: bool = True) -> str:
        return self.workspace.add_channel(name, private=private, members=members, bot_member=bot_member)

    def post(self, channel: str, user_or_bot: str, text: str = "", *, thread_ts: str | None = None,
             files: Iterable[dict[str, Any] | str] = (), attachments: list[dict[str, Any]] | None = None,
             blocks: list[dict[str, Any]] | None = None, ts: str | None = None) -> str:
        return self.workspace.post(channel, user_or_bot, text, thread_ts=thread_ts, files=files,
                                   attachments=attachments, blocks=blocks, ts=ts)

    def add_file(self, name: str, content: bytes, mimetype: str | None = None,
                 *, user: str | None = None, title: str | None = None) -> dict[str, Any]:
        return self.workspace.add_file(name, content, mimetype, user=user, title=title)

    def permalink(self, channel: str, ts: str, thread_ts: str | None = None) -> str:
        return self.workspace.permalink(channel, ts, thread_ts)

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        return self.workspace.thread(channel, ts)

    def message(self, channel: str, ts: str) -> dict[str, Any]:
        """The message as it stands now (text, blocks after any chat.update), in Slack's response shape."""
        ch = self.workspace.channel(channel)
        return self.workspace.render(ch, self.workspace.message(ch, ts))

    def reactions_on(self, channel: str, ts: str) -> set[str]:
        return self.workspace.reactions_on(channel, ts)

    @property
    def bot_user_id(self) -> str:
        return self.workspace.bot_user_id

    @property
    def acks(self) -> list[Ack]:
        return self.socket.acks

    @property
    def ephemerals(self) -> list[dict[str, Any]]:
        return self.workspace.ephemerals

    @property
    def responses(self) -> list[dict[str, Any]]:
        return self.workspace.responses

    @property
    def uploaded_files(self) -> list[dict[str, Any]]:
        return self.workspace.uploaded_files
