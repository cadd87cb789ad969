"""Fault injection shared by the ticket-backend emulators (github_api.py, jira_api.py): per operation, a queue of
faults that each answer one request with a status, or carry the request out and then drop the connection."""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Self

from aiohttp import BasicAuth, web


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


def basic_auth_is(request: web.Request, login: str, password: str) -> bool:
    """Atlassian's basic auth (account email + API token): the request carries exactly these."""
    try:
        auth = BasicAuth.decode(request.headers.get("Authorization", ""))
    except ValueError:
        return False
    return (auth.login, auth.password) == (login, password)


class LoopbackREST:
    """The part every ticket emulator shares: an aiohttp app on a free 127.0.0.1 port behind the subclass's
    ``_auth`` middleware, the requests seen, faults and holds. Subclasses add routes and the error body."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        self.faults = Faults()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    def _routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def _error_body(self, status: int) -> Any:
        raise NotImplementedError

    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        @web.middleware
        async def auth(request: web.Request, handler: Any) -> web.StreamResponse:
            return await self._auth(request, handler)

        app = web.Application(middlewares=[auth])
        self._routes(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def fail_next(self, operation: str, status: int = 500, *, applied: bool = False, drop: bool = False,
                  times: int = 1, headers: dict[str, str] | None = None) -> None:
        """Answer the next ``operation`` with ``status``; ``applied``: carry it out first; ``drop``: no answer."""
        self.faults.add(operation, Fault(status, self._error_body(status), applied, drop, headers), times)

    def hold_next(self, operation: str) -> Hold:
        """The next request of ``operation`` waits (``arrived`` is set) until the test sets ``release``."""
        return self.faults.hold_next(operation)
