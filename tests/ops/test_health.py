"""/healthz, /readyz and /metrics over HTTP with real run stores: a PostgreSQL that goes down makes the replica
unready and says which store; a store that hangs is reported within the probe's time while /healthz still answers."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot import metrics
from bot.errors import ConfigError, LLMTimeout
from bot.ops.health import HealthServer, Readiness
from bot.runs.postgres import PostgresRunStore
from bot.runs.sqlite import SqliteRunStore
from bot.settings import load_settings
from tests.fakes.ops_client import get_json, sample, scrape
from tests.fakes.postgres import PostgresServer


async def connected() -> bool:
    return True


async def serving(readiness: Readiness) -> HealthServer:
    server = HealthServer(readiness)
    await server.start("127.0.0.1", 0)
    return server


async def test_ready_with_a_connected_socket_and_a_store_that_answers(tmp_path: Path) -> None:
    store = await SqliteRunStore.open(tmp_path / "runs.db")
    await store.create(trigger="reaction", channel="C1", thread_ts="1.0", invoker="U1")
    server = await serving(Readiness(connected, store))
    try:
        assert (await get_json(server.port, "/healthz"))[0] == 200
        status, body = await get_json(server.port, "/readyz")
        assert status == 200 and body["ready"] is True
        assert body["store"] == {"ok": True, "where": store.where, "queued": 1}
        samples = await scrape(server.port)
        assert sample(samples, "postmortem_queue_depth") == 1 and sample(samples, "postmortem_ready") == 1
    finally:
        await server.stop()
        await store.close()


async def test_a_down_model_server_is_reported_but_not_unready(tmp_path: Path) -> None:
    store = await SqliteRunStore.open(tmp_path / "runs.db")
    server = await serving(Readiness(connected, store))
    try:
        with pytest.raises(LLMTimeout), metrics.llm_call("http://gpu9:11434/v1"):
            raise LLMTimeout("the model stopped answering", "check the server")
        status, body = await get_json(server.port, "/readyz")
        assert status == 200 and body["llm"]["servers"]["http://gpu9:11434/v1"]["error"] == "llm_timeout"
        assert body["llm"]["servers"]["http://gpu9:11434/v1"]["ok"] is False
    finally:
        await server.stop()
        await store.close()


async def test_a_postgresql_that_goes_down_makes_the_replica_unready() -> None:
    with PostgresServer() as pg:
        store = await PostgresRunStore.open(pg.new_database(), load_settings())
        server = await serving(Readiness(connected, store))
        try:
            assert (await get_json(server.port, "/readyz"))[0] == 200
            pg.stop()
            status, body = await get_json(server.port, "/readyz")
            assert status == 503 and body["ready"] is False and body["store"]["ok"] is False
            assert "127.0.0.1" in body["store"]["where"] and body["store"]["error"]
            assert sample(await scrape(server.port), "postmortem_store_reachable") == 0
        finally:
            await server.stop()
            await store.close()


class HangingStore:
    """A store whose every call blocks until released (a PostgreSQL that accepts the connection and never answers)."""

    where = "postgresql://db.internal:5432/runs"

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.calls = 0

    async def execute(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[list[dict[str, Any]], int]:
        self.calls += 1
        await self.release.wait()
        return [{"n": 0}], 0


async def test_a_hanging_store_is_unready_within_the_probe_time_and_healthz_still_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.ops.health.STORE_PROBE_TIMEOUT_S", 0.2)
    store = HangingStore()
    server = await serving(Readiness(connected, store))  # type: ignore[arg-type]
    try:
        ready, health = await asyncio.gather(get_json(server.port, "/readyz"), get_json(server.port, "/healthz"))
        assert ready[0] == 503 and "did not answer within" in ready[1]["store"]["error"] and health[0] == 200
        assert (await get_json(server.port, "/readyz"))[0] == 503
        assert store.calls == 1  # the hanging probe is not stacked up by every request
    finally:
        store.release.set()
        await server.stop()


async def test_socket_mode_down_is_unready(tmp_path: Path) -> None:
    async def down() -> bool:
        return False

    store = await SqliteRunStore.open(tmp_path / "runs.db")
    server = await serving(Readiness(down, store))
    try:
        status, body = await get_json(server.port, "/readyz")
        assert status == 503 and body["slack"]["ok"] is False and "Socket Mode" in body["slack"]["error"]
    finally:
        await server.stop()
        await store.close()


async def test_a_port_in_use_is_a_one_line_config_error(tmp_path: Path) -> None:
    store = await SqliteRunStore.open(tmp_path / "runs.db")
    first = await serving(Readiness(connected, store))
    try:
        with pytest.raises(ConfigError, match="HEALTH_PORT"):
            await HealthServer(Readiness(connected, store)).start("127.0.0.1", first.port)
    finally:
        await first.stop()
        await store.close()
