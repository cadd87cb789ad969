"""A TCP proxy of our own between the bot and a real PostgreSQL, for the faults an operator's network brings: latency
added to every chunk in each direction, a stall (bytes held, connections kept open, as a hung link or a failover
does), and a cut (every connection dropped and new ones refused for a while, as a restart does). 127.0.0.1 only.

    async with PgProxy(pg.port, delay_s=0.02) as proxy:
        url = proxy.url(dbname)
        proxy.stall(); await proxy.held.wait(); ...; proxy.resume()

Events instead of sleeps: ``held`` is set once a chunk is held by a stall (something is waiting on the database
now), ``connected`` whenever a new connection reaches the server. ``stall(only=…)`` stalls only the connections
opened after ``mark()`` of one client, so one replica's link can stall while another's flows.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from types import TracebackType


class _Link:
    """One client connection and its server connection; data flows in both directions through delayed queues."""

    def __init__(self, proxy: PgProxy, tag: str, client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
                 server: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
        self.proxy, self.tag = proxy, tag
        self.writers = (client[1], server[1])
        self.tasks = [asyncio.create_task(self._pump(client[0], server[1])), asyncio.create_task(self._pump(server[0], client[1]))]

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        sender = asyncio.create_task(self._send(queue, writer))
        try:
            while data := await reader.read(65536):
                queue.put_nowait((time.monotonic() + self.proxy.delay_s, data))
        except (ConnectionError, OSError):
            pass
        finally:
            await queue.put((0.0, b""))
            with contextlib.suppress(Exception):
                await sender
            self.close()

    async def _send(self, queue: asyncio.Queue[tuple[float, bytes]], writer: asyncio.StreamWriter) -> None:
        while True:
            due, data = await queue.get()
            if not data:
                return
            if self.proxy.is_stalled(self.tag):
                self.proxy.held.set()
                await self.proxy.flowing(self.tag)
            # The emulated network's latency: the chunk is delivered delay_s after it was read.
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            try:
                writer.write(data)
                await writer.drain()
            except (ConnectionError, OSError):
                return

    def close(self) -> None:
        for writer in self.writers:
            writer.transport.abort()
        self.proxy.links.discard(self)


class PgProxy:
    def __init__(self, target_port: int, *, delay_s: float = 0.0, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.delay_s = delay_s
        self.port = 0
        self.links: set[_Link] = set()
        self.held = asyncio.Event()
        self.connected = asyncio.Event()
        self._flow: dict[str, asyncio.Event] = {}
        self._stalled: set[str] = set()
        self._refusing = False
        self._tag = "default"
        self._server: asyncio.Server | None = None

    def url(self, dbname: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def url_of(self, database_url: str) -> str:
        """The same database, through this proxy."""
        return self.url(database_url.rsplit("/", 1)[1])

    # -- faults ------------------------------------------------------------------------------------
    def mark(self, tag: str) -> None:
        """Connections opened from now on belong to ``tag`` (one replica's pool, opened right after)."""
        self._tag = tag

    def stall(self, tag: str | None = None) -> None:
        """Hold every byte (of ``tag``'s connections only, when given) until ``resume``; connections stay open."""
        self.held.clear()
        self._stalled.add(tag or "*")
        self._event(tag or "*").clear()

    def resume(self) -> None:
        for tag in list(self._stalled):
            self._event(tag).set()
        self._stalled.clear()

    def is_stalled(self, tag: str) -> bool:
        return "*" in self._stalled or tag in self._stalled

    async def flowing(self, tag: str) -> None:
        while self.is_stalled(tag):
            waits = [asyncio.create_task(self._event(t).wait()) for t in ("*", tag) if t in self._stalled]
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for w in waits:
                w.cancel()

    def cut(self) -> None:
        """A restart: every connection dropped, new ones refused until ``restore``."""
        self._refusing = True
        for link in list(self.links):
            link.close()

    def restore(self) -> None:
        self._refusing = False

    def _event(self, tag: str) -> asyncio.Event:
        return self._flow.setdefault(tag, asyncio.Event())

    # -- plumbing ----------------------------------------------------------------------------------
    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._refusing:
            writer.transport.abort()
            return
        try:
            server = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.links.add(_Link(self, self._tag, (reader, writer), server))
        self.connected.set()

    async def __aenter__(self) -> PgProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.resume()
        for link in list(self.links):
            link.close()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
