"""Socket Mode server side: tickets, hello, envelope delivery, acks, disconnects.

Envelopes go into an outbox that only the newest live connection drains, so
envelopes created while no client is connected (or while a client is
reconnecting after a `disconnect`) are delivered, in order, on the next hello.
With ``round_robin`` (several replicas of one app, as Slack allows up to 10
connections) every live connection stays open and each envelope goes to the
next one in turn; an envelope whose send fails goes to the next connection.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web


@dataclass(frozen=True)
class Ack:
    envelope_id: str
    latency: float  # seconds from the (latest) send of the envelope to its ack
    payload: dict[str, Any] | None  # response payload, e.g. a slash command's ack(text)
    retry_attempt: int
    connection: int  # 1-based number of the connection the ack arrived on


class SocketModeHub:
    def __init__(self, app_id: str, on_change: Callable[[], None], *, round_robin: bool = False) -> None:
        self._app_id = app_id
        self.round_robin = round_robin
        self._live: list[web.WebSocketResponse] = []  # round_robin: hello'd connections, in turn order
        self._turn = 0
        self._changed = on_change
        self._tickets: set[str] = set()
        self._outbox: deque[dict[str, Any]] = deque()
        self._wakeup = asyncio.Event()
        self._pump: asyncio.Task[None] | None = None
        self._active: web.WebSocketResponse | None = None
        self._sockets: set[web.WebSocketResponse] = set()
        self._sent_at: dict[str, float] = {}
        self.envelopes: dict[str, dict[str, Any]] = {}  # latest delivery of each envelope
        self.acks: list[Ack] = []
        self.connections = 0  # connections that got a hello, ever
        self._open = asyncio.Event()  # cleared during an outage: new connections wait at the handshake
        self._open.set()
        self.waiting = 0  # connections held by an outage, right now

    @property
    def pending(self) -> int:
        return len(self._outbox)

    def issue_url(self, base_ws_url: str) -> str:
        ticket = secrets.token_hex(16)
        self._tickets.add(ticket)
        return f"{base_ws_url}/socket/link/?ticket={ticket}&app_id={self._app_id}"

    # ---- delivery -----------------------------------------------------------
    def enqueue(self, type_: str, payload: dict[str, Any], *, accepts_response_payload: bool) -> str:
        envelope = {"envelope_id": str(uuid.uuid4()), "type": type_, "payload": payload,
                    "accepts_response_payload": accepts_response_payload}
        if type_ == "events_api":  # only Events API envelopes carry retry fields
            envelope.update(retry_attempt=0, retry_reason="")
        return self._push(envelope)

    def redeliver(self, envelope_id: str, reason: str = "timeout") -> str:
        envelope = dict(self.envelopes[envelope_id])
        envelope.update(retry_attempt=envelope.get("retry_attempt", 0) + 1, retry_reason=reason)
        return self._push(envelope)

    def _push(self, envelope: dict[str, Any]) -> str:
        self.envelopes[envelope["envelope_id"]] = envelope
        self._outbox.append(envelope)
        self._wakeup.set()
        self._changed()
        return envelope["envelope_id"]

    async def _drain(self, ws: web.WebSocketResponse) -> None:
        while True:
            while not self._outbox:
                self._wakeup.clear()
                await self._wakeup.wait()
            envelope = self._outbox.popleft()
            try:
                self._sent_at[envelope["envelope_id"]] = time.monotonic()
                await ws.send_str(json.dumps(envelope))
            except BaseException:  # cancelled or connection lost: keep it for the next connection
                self._outbox.appendleft(envelope)
                raise

    async def _fan_out(self) -> None:
        while True:
            while not (self._outbox and self._live):
                self._wakeup.clear()
                await self._wakeup.wait()
            ws = self._live[self._turn % len(self._live)]
            self._turn += 1
            envelope = self._outbox.popleft()
            try:
                self._sent_at[envelope["envelope_id"]] = time.monotonic()
                await ws.send_str(json.dumps(envelope))
            except (ConnectionError, RuntimeError):  # that replica is gone: the next one gets it
                self._outbox.appendleft(envelope)
                if ws in self._live:
                    self._live.remove(ws)

    async def _retire_pump(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            await asyncio.gather(self._pump, return_exceptions=True)
            self._pump = None
        self._active = None

    # ---- connection handling ------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            raise web.HTTPUnauthorized(text="invalid ticket")
        self._tickets.discard(ticket)  # tickets are single use, like Slack's
        if not self._open.is_set():
            self.waiting += 1
            self._changed()
            try:
                await self._open.wait()
            finally:
                self.waiting -= 1
        ws = web.WebSocketResponse(autoping=True)  # answers slack_sdk's heartbeat pings
        await ws.prepare(request)
        self._sockets.add(ws)
        if not self.round_robin:
            await self._retire_pump()  # newest connection wins
        self.connections += 1
        number = self.connections
        await ws.send_str(json.dumps({
            "type": "hello", "num_connections": 1,
            "debug_info": {"host": "applink-emulator", "build_number": 1,
                           "approximate_connection_time": 18060},
            "connection_info": {"app_id": self._app_id}}))
        self._active = ws
        if self.round_robin:
            self._live.append(ws)
            self._pump = self._pump or asyncio.create_task(self._fan_out())
            self._wakeup.set()
        else:
            self._pump = asyncio.create_task(self._drain(ws))
        self._changed()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_client_frame(json.loads(msg.data), number)
        finally:
            self._sockets.discard(ws)
            if ws in self._live:
                self._live.remove(ws)
            if self._active is ws and not self.round_robin:
                await self._retire_pump()
            self._changed()
        return ws

    def _on_client_frame(self, frame: dict[str, Any], connection: int) -> None:
        eid = frame.get("envelope_id")
        if eid in self.envelopes:
            latency = time.monotonic() - self._sent_at.get(eid, time.monotonic())
            self.acks.append(Ack(eid, latency, frame.get("payload"),
                                 self.envelopes[eid].get("retry_attempt", 0), connection))
        self._changed()

    async def disconnect(self, reason: str) -> None:
        """Ask the client to reconnect; hold new envelopes until the next hello."""
        ws = self._active
        await self._retire_pump()
        if ws is not None and not ws.closed:
            await ws.send_str(json.dumps({"type": "disconnect", "reason": reason,
                                          "debug_info": {"host": "applink-emulator"}}))

    async def drop(self) -> None:
        """Close the live socket abruptly, as a network blip or server restart would."""
        ws = self._active
        await self._retire_pump()
        if ws is not None:
            await ws.close(code=1011, message=b"emulator dropped the connection")

    async def outage(self) -> None:
        """Drop every live connection and hold new ones at the handshake until ``restore``, as a network outage
        between the app and Slack would: the client stays disconnected however often it tries."""
        self._open.clear()
        await self._retire_pump()
        for ws in list(self._sockets):
            await ws.close(code=1011, message=b"emulator outage")
        self._changed()

    def restore(self) -> None:
        """End an outage: held and new connections complete their handshake."""
        self._open.set()

    async def close(self) -> None:
        self._open.set()  # a handshake held by an outage must not outlive the emulator
        await self._retire_pump()
        for ws in list(self._sockets):
            await ws.close()
