"""Fault injection shared by the ticket-backend emulators (github_api.py, jira_api.py): per operation, a queue of
faults that each answer one request with a status, or carry the request out and then drop the connection."""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web


@dataclass
class Fault:
    status: int | None = None  # answer with this status (and ``body``)
    body: Any = None
    applied: bool = False  # carry the request out first: the client cannot know it worked
    drop: bool = False  # close the connection without an answer (after carrying it out when ``applied``)
    headers: dict[str, str] | None = None  # e.g. Retry-After, X-RateLimit-Remaining


@dataclass
class Hold:
    """Parks the next request of an operation: ``arrived`` is set when it is parked, ``release`` lets it go on."""

    arrived: asyncio.Event
    release: asyncio.Event


class Faults:
    def __init__(self) -> None:
        self._queues: dict[str, deque[Fault]] = defaultdict(deque)
        self._holds: dict[str, Hold] = {}

    def hold_next(self, operation: str) -> Hold:
        self._holds[operation] = Hold(asyncio.Event(), asyncio.Event())
        return self._holds[operation]

    def add(self, operation: str, fault: Fault, times: int = 1) -> None:
        self._queues[operation].extend(fault for _ in range(times))

    async def serve(self, operation: str, request: web.Request,
                    handle: Callable[[], Awaitable[web.Response]]) -> web.Response:
        """Run ``handle`` unless the next fault for ``operation`` says otherwise."""
        hold = self._holds.pop(operation, None)
        if hold is not None:
            hold.arrived.set()
            await hold.release.wait()
        queue = self._queues[operation]
        fault = queue.popleft() if queue else None
        if fault is None:
            return await handle()
        if fault.applied:
            await handle()
        if fault.drop:
            assert request.transport is not None
            request.transport.close()  # the client sees the connection end with no answer
            return web.Response(status=500)  # never reaches the client
        return web.json_response(fault.body, status=fault.status or 500, headers=fault.headers)
