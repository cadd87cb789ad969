"""/healthz, /readyz and /metrics on HEALTH_PORT (HEALTH_HOST, loopback by default), served by aiohttp on the
bot's own event loop: an answer from /healthz proves the loop runs.

Ready means this replica can take work: its Socket Mode connection is up and the run store answers. The model
servers are reported but are not part of it: without a model the bot still answers every trigger with the
rule-based digest, so taking a replica out of service would only lose those.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from bot import metrics
from bot.core.run import RunState
from bot.errors import ConfigError
from bot.runs import RunStore
from bot.settings import Settings

log = logging.getLogger(__name__)

# A store that has not answered in this long is unreachable, as far as an orchestrator is concerned.
STORE_PROBE_TIMEOUT_S = 3.0
_QUEUED = f"SELECT COUNT(*) AS n FROM runs WHERE status = '{RunState.QUEUED.value}'"


class Readiness:
    """The checks behind /readyz. The store's probe is one of the store's own calls, which never block the loop (a
    PostgreSQL that hangs must not stall /healthz with it) and end within DATABASE_STATEMENT_TIMEOUT_S; /readyz waits
    for it at most STORE_PROBE_TIMEOUT_S, and while one is still running, the next request does not start another."""

    def __init__(self, socket_connected: Callable[[], Awaitable[bool]], store: RunStore) -> None:
        self.socket_connected = socket_connected
        self.store = store
        self._probe: asyncio.Future[int] | None = None

    async def check(self) -> dict[str, Any]:
        connected = await self.socket_connected()
        store = await self._store()
        ready = connected and store["ok"]
        metrics.SOCKET_CONNECTED.set(connected)
        metrics.READY.set(ready)
        llm = {url: asdict(state) for url, state in sorted(metrics.LLM_STATE.items())}
        return {
            "ready": ready,
            "slack": {"ok": connected, **({} if connected else {"error": "the Socket Mode connection to Slack is down; slack_sdk reconnects"})},
            "store": store,
            # Reported only: without a model the bot still answers with the rule-based digest.
            "llm": {"servers": llm, "note": "the model servers' last answers; not part of readiness"},
        }

    async def _store(self) -> dict[str, Any]:
        if self._probe is None or self._probe.done():
            self._probe = asyncio.ensure_future(self._queued())
        try:
            queued = await asyncio.wait_for(asyncio.shield(self._probe), STORE_PROBE_TIMEOUT_S)
        except TimeoutError:
            error = f"the run store ({self.store.where}) did not answer within {STORE_PROBE_TIMEOUT_S:.0f} s"
        except Exception as exc:  # StoreError names the store; anything else is reported as it is
            error = str(exc)
        else:
            metrics.STORE_REACHABLE.set(1)
            metrics.QUEUE_DEPTH.set(queued)
            return {"ok": True, "where": self.store.where, "queued": queued}
        metrics.STORE_REACHABLE.set(0)
        return {"ok": False, "where": self.store.where, "error": error}

    async def _queued(self) -> int:
        rows, _ = await self.store.execute(_QUEUED)
        return int(rows[0]["n"])


class HealthServer:
    def __init__(self, readiness: Readiness) -> None:
        self.readiness = readiness
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        self.port = 0

    async def start(self, host: str, port: int) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            raise ConfigError(f"cannot serve health checks on {host}:{port} ({exc.strerror or exc})",
                              "choose a free HEALTH_PORT (or unset it), and a HEALTH_HOST this machine has") from None
        self.port = self._runner.addresses[0][1]
        log.info("health checks and metrics on http://%s:%d (/healthz, /readyz, /metrics)", host, self.port)

    async def stop(self) -> None:
        await self._runner.cleanup()

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "time": time.time()})

    async def _readyz(self, request: web.Request) -> web.Response:
        state = await self.readiness.check()
        return web.json_response(state, status=200 if state["ready"] else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        await self.readiness.check()  # the queue depth and the readiness gauges, as of now
        return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def serve_health(settings: Settings, socket_connected: Callable[[], Awaitable[bool]], store: RunStore) -> HealthServer | None:
    """The health server on HEALTH_HOST:HEALTH_PORT, started; None when HEALTH_PORT is unset."""
    if settings.health_port is None:
        return None
    server = HealthServer(Readiness(socket_connected, store))
    await server.start(settings.health_host, settings.health_port)
    return server
