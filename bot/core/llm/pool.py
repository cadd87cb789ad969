"""Several LLM servers behind one client: ``LLM_BASE_URL=http://gpu1:11434/v1,http://gpu2:11434/v1``.

Each server is an LLMClient of its own (its own preflight, model list, context and LLM_CONCURRENCY slots). A request
goes to the least busy healthy server that has the model, and waits here (not inside a client) when every one is at
LLM_CONCURRENCY, so it re-picks among the servers healthy when a slot frees. A server that refuses, times out, stays
busy or lacks the model is benched for LLM_BENCH_S and the request is sent to the next one, as long as no text has
reached the reader yet (after that, another server would start the answer over: the run fails and a new trigger
retries it). A server asking for a long wait (429/503 with Retry-After) is benched for that long when another server
is free; when it is the only one, the request waits on it.

A bench ends early on a good answer, or on a good probe when the probe checks what benched it (down, refused, the
model missing): each preflight probes the benched servers again (in the background while others are healthy), so
a pool whose servers all return is used by the next run, not LLM_BENCH_S later. A server benched for stalling or
for asking for a wait serves out its time: its probe would pass while its answers would not.

Replicas of the bot each hold a pool; with ``slots`` (the shared run store) "least busy" and LLM_CONCURRENCY count
every replica's requests, not only this one's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from bot.core.llm.client import LLMClient
from bot.core.llm.models import ModelInfo, ServerState, StreamResult
from bot.core.llm.retry import Elsewhere, Sleep
from bot.core.llm.sink import OnText
from bot.errors import LLMBusy, LLMTimeout, LLMUnavailable, ModelNotFound, PostmortemError
from bot.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")
# What benches a server: it is down, refuses, stays busy, stalls, or does not have the model.
_SERVER_FAULTS = (LLMUnavailable, LLMTimeout)
# Every server is at LLM_CONCURRENCY on some replica (the shared count cannot wake us): look again this often.
SLOT_WAIT_S = 0.2
# A benched server a probe can clear is probed again at most this often (each run's preflight would otherwise).
REPROBE_S = 2.0


class CallSlots(Protocol):
    """Request slots shared by every replica. ``take`` picks among ``servers`` (in order of preference) and returns
    (slot id, server), with slot None when it could not count (the request goes ahead uncounted), or None when
    every server is full."""

    async def take(self, servers: list[str]) -> tuple[int | None, str] | None: ...

    async def give_back(self, slot: int) -> None: ...


class ChatModel(Protocol):
    """What the pipeline needs of a model server: one LLMClient, or a pool of them."""

    async def preflight(self) -> ModelInfo: ...

    async def warm_up(self) -> None: ...

    async def count_tokens(self, text: str) -> int | None: ...

    async def stream(self, system: str, user: str, *, on_text: OnText | None = None, temperature: float | None = None,
                     max_tokens: int | None = None, context_tokens: int | None = None) -> StreamResult: ...

    async def complete(self, system: str, user: str, *, temperature: float, max_tokens: int) -> str: ...

    async def complete_json(self, system: str, user: str, schema: dict[str, Any], *, max_tokens: int | None = None) -> dict[str, Any]: ...

    async def aclose(self) -> None: ...

    def server_states(self) -> list[ServerState]: ...


def server_urls(settings: Settings) -> list[str]:
    return [part.strip() for part in settings.llm_base_url.split(",") if part.strip()]


def make_llm(settings: Settings, **client_options: Any) -> ChatModel:
    """One server: an LLMClient, as before. Several: a pool. ``client_options`` go to each LLMClient."""
    urls = server_urls(settings)
    if len(urls) <= 1:
        return LLMClient(settings, **client_options)
    return LLMPool(settings, **client_options)


@dataclass(eq=False)
class Server:
    llm: LLMClient
    in_flight: int = 0  # requests this replica has sent to it and not yet finished
    benched_until: float = 0.0
    fault: PostmortemError | None = None  # why it was last benched, for logs, doctor and the closing line
    info: ModelInfo | None = None  # from its last good probe; None = not known to have the model
    probed_at: float = float("-inf")

    @property
    def url(self) -> str:
        return self.llm.shown_url

    @property
    def probe_clears(self) -> bool:
        """Whether a good probe ends its bench: not after a stall or a requested wait, which a probe cannot see."""
        return not isinstance(self.fault, (LLMTimeout, LLMBusy))

    @property
    def asked_to_wait(self) -> bool:
        """Benched because it asked for a wait (Retry-After) while another server was free: it will take work again."""
        return isinstance(self.fault, LLMBusy) and self.fault.retry_after_s is not None


class LLMPool:
    def __init__(self, settings: Settings, *, retry_attempts: int = 5, retry_base_delay_s: float = 1.0,
                 sleep: Sleep = asyncio.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        self.bench_s = settings.llm_bench_s
        self.per_server = settings.llm_concurrency
        self._clock = clock
        self.slots: CallSlots | None = None
        self.servers = [
            Server(LLMClient(settings.model_copy(update={"llm_base_url": url}), retry_attempts=retry_attempts,
                             retry_base_delay_s=retry_base_delay_s, sleep=sleep))
            for url in server_urls(settings)
        ]
        self._freed = asyncio.Event()  # set (and replaced) whenever a request ends or a bench is lifted
        self._probes: set[asyncio.Task[list[ModelInfo]]] = set()

    @property
    def shown_url(self) -> str:
        return ", ".join(s.url for s in self.servers)

    def _benched(self, server: Server) -> bool:
        return server.benched_until > self._clock()

    def _bench(self, server: Server, exc: PostmortemError) -> None:
        wait = exc.retry_after_s if isinstance(exc, LLMBusy) and exc.retry_after_s else self.bench_s
        server.benched_until = self._clock() + min(wait, self.bench_s)
        server.fault = exc
        if isinstance(exc, ModelNotFound):
            server.info = None
        log.warning("LLM server %s benched for %.0f s: %s", server.url, min(wait, self.bench_s), exc.message)

    def _lift(self, server: Server) -> None:
        if server.benched_until or server.fault is not None:
            log.info("LLM server %s is back", server.url)
        server.benched_until, server.fault = 0.0, None
        self._wake()

    def _wake(self) -> None:
        self._freed.set()
        self._freed = asyncio.Event()

    async def _probe(self, servers: list[Server]) -> list[ModelInfo]:
        """Preflight ``servers`` at once; a good probe lifts a bench it can clear, a failed one benches."""
        results = await asyncio.gather(*(s.llm.preflight() for s in servers), return_exceptions=True)
        usable: list[ModelInfo] = []
        for server, result in zip(servers, results, strict=True):
            server.probed_at = self._clock()
            if isinstance(result, ModelInfo):
                server.info = result
                if server.probe_clears:
                    self._lift(server)
                if not self._benched(server):
                    usable.append(result)
            elif isinstance(result, PostmortemError):
                self._bench(server, result)
            else:
                raise result
        return usable

    async def preflight(self) -> ModelInfo:
        """Probe the servers not benched (every server when all are) and, in the background, the benched ones a
        probe can clear; the smallest context among those that can serve the model is returned, so a prompt sized
        for it fits whichever server runs it."""
        first = [s for s in self.servers if not self._benched(s)] or list(self.servers)
        rest = [s for s in self.servers if s not in first and s.probe_clears]
        usable = await self._probe(first)
        if not usable:  # none of those: the benched ones may be back, so wait for them before giving up
            usable = await self._probe(rest)
        else:
            self._probe_later([s for s in rest if self._clock() - s.probed_at >= REPROBE_S])
        if not usable:
            raise self._none_usable([])
        smallest = min(usable, key=lambda info: info.context_tokens)
        warnings = list(dict.fromkeys(w for info in usable for w in info.warnings))
        warnings += [f"LLM server {s.url} left out for now: {s.fault.message}" for s in self.servers
                     if s.fault is not None and self._benched(s)]
        return replace(smallest, warnings=warnings)

    def _probe_later(self, servers: list[Server]) -> None:
        if not servers:
            return
        task = asyncio.create_task(self._probe(servers))
        self._probes.add(task)
        task.add_done_callback(self._probes.discard)

    def _none_usable(self, faults: list[tuple[Server, PostmortemError]]) -> PostmortemError:
        """The error for a request no server can take: this request's faults, else each server's last one."""
        faults = faults or [(s, s.fault) for s in self.servers if s.fault is not None]
        if len(faults) == 1:
            return faults[0][1]
        detail = "; ".join(f"{s.url}: {exc.message}" for s, exc in faults) or "every server is benched after failing"
        fix = faults[0][1].fix if faults else "wait a minute, or check the servers in LLM_BASE_URL"
        return LLMUnavailable(f"no LLM server can serve the model ({detail})", fix)

    def _healthy(self, tried: set[Server]) -> list[Server]:
        """Servers that can take a request, least busy (here) first; sorted() keeps LLM_BASE_URL's order among equals."""
        healthy = [s for s in self.servers if s not in tried and s.info is not None and not self._benched(s)]
        return sorted(healthy, key=lambda s: s.in_flight)

    def _free(self, tried: set[Server]) -> list[Server]:
        return [s for s in self._healthy(tried) if s.in_flight < self.per_server]

    async def _pick(self, tried: set[Server], faults: list[tuple[Server, PostmortemError]]) -> tuple[Server, int | None]:
        """A slot on the least busy healthy server, waiting while every one is full; re-picked after each wait, so a
        server benched meanwhile is not used."""
        while True:
            freed = self._freed
            healthy = self._healthy(tried)
            # Servers that only asked for a wait: when no other can take the request, it goes back to them, and the
            # retry loop waits there (nothing else is free to move to).
            waiting = sorted((s for s in self.servers if s not in tried and s.asked_to_wait and self._benched(s)),
                             key=lambda s: s.benched_until)
            if not healthy and not faults and not waiting:  # first use, or every bench ran out: look again
                await self.preflight()
                healthy = self._healthy(tried)
            healthy = healthy or waiting
            if not healthy:
                raise self._none_usable(faults)
            if self.slots is None:
                if free := [s for s in healthy if s.in_flight < self.per_server]:
                    return free[0], None
            elif (taken := await self.slots.take([s.url for s in healthy])) is not None:
                slot, url = taken
                return next(s for s in healthy if s.url == url), slot
            await self._wait_for_a_slot(freed)

    async def _wait_for_a_slot(self, freed: asyncio.Event) -> None:
        """Until a request here ends or a bench lifts; polled when other replicas hold the slots, and when a bench
        runs out (nothing signals that)."""
        now = self._clock()
        ends = [s.benched_until - now for s in self.servers if s.benched_until > now]
        timeout = min([*ends, SLOT_WAIT_S] if self.slots is not None else ends, default=None)
        # asyncio.timeout, not wait_for: 3.11's wait_for can lose a cancellation that lands as the event is set
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await freed.wait()

    async def _on_a_server(self, call: Callable[[LLMClient, Elsewhere], Awaitable[T]],
                           started: Callable[[], bool] = lambda: False) -> T:
        tried: set[Server] = set()
        moved: set[Server] = set()  # left once for asking a long wait: it may take the request back, once
        faults: list[tuple[Server, PostmortemError]] = []
        while True:
            server, slot = await self._pick(tried, faults)
            tried.add(server)
            server.in_flight += 1
            try:
                result = await call(server.llm, lambda: bool(self._free(tried)))
            except _SERVER_FAULTS as exc:
                self._bench(server, exc)
                if started():
                    raise
                faults.append((server, exc))
                if server.asked_to_wait and server not in moved:
                    moved.add(server)
                    tried.discard(server)
                log.info("retrying on another LLM server after %s failed", server.url)
            else:
                self._lift(server)  # a good answer: whatever benched it meanwhile has passed
                return result
            finally:
                server.in_flight -= 1
                if slot is not None and self.slots is not None:
                    await self.slots.give_back(slot)
                self._wake()

    async def stream(self, system: str, user: str, *, on_text: OnText | None = None, temperature: float | None = None,
                     max_tokens: int | None = None, context_tokens: int | None = None) -> StreamResult:
        delivered = False

        async def relay(delta: str) -> None:
            nonlocal delivered
            delivered = True
            if on_text is not None:
                await on_text(delta)

        async def call(llm: LLMClient, elsewhere: Elsewhere) -> StreamResult:
            result = await llm.stream(system, user, on_text=relay, temperature=temperature, max_tokens=max_tokens,
                                      context_tokens=context_tokens, elsewhere=elsewhere)
            result.server = llm.shown_url
            return result

        return await self._on_a_server(call, lambda: delivered)

    async def complete(self, system: str, user: str, *, temperature: float, max_tokens: int) -> str:
        return await self._on_a_server(lambda llm, elsewhere: llm.complete(
            system, user, temperature=temperature, max_tokens=max_tokens, elsewhere=elsewhere))

    async def complete_json(self, system: str, user: str, schema: dict[str, Any], *, max_tokens: int | None = None) -> dict[str, Any]:
        return await self._on_a_server(lambda llm, elsewhere: llm.complete_json(
            system, user, schema, max_tokens=max_tokens, elsewhere=elsewhere))

    async def count_tokens(self, text: str) -> int | None:
        healthy = self._healthy(set())
        return await healthy[0].llm.count_tokens(text) if healthy else None

    async def warm_up(self) -> None:
        """Load the model on every usable server at once; raises only when none can serve it."""
        await self.preflight()
        ready = [s for s in self.servers if s.info is not None and not self._benched(s)]
        results = await asyncio.gather(*(s.llm.warm_up() for s in ready), return_exceptions=True)
        for server, result in zip(ready, results, strict=True):
            if isinstance(result, PostmortemError):
                self._bench(server, result)
            elif isinstance(result, BaseException):
                raise result

    def server_states(self) -> list[ServerState]:
        """Each server as it stands now: ready with its load, or left out with how long and why."""
        now, states = self._clock(), []
        for s in self.servers:
            fix = s.fault.fix if s.fault is not None else None
            if s.benched_until > now and s.fault is not None:
                states.append(ServerState(s.url, False, f"for {s.benched_until - now:.0f} s more: {s.fault.message}", fix))
            elif s.info is None:
                states.append(ServerState(s.url, False, "not checked yet" if s.fault is None else s.fault.message, fix))
            else:
                states.append(ServerState(s.url, True, f"{s.info.backend}, {s.in_flight}/{self.per_server} requests in flight"))
        return states

    async def probes_done(self) -> None:
        """Until the background probes started so far have finished (doctor and tests read their outcome)."""
        await asyncio.gather(*self._probes, return_exceptions=True)

    async def aclose(self) -> None:
        for task in self._probes:
            task.cancel()
        await self.probes_done()
        await asyncio.gather(*(s.llm.aclose() for s in self.servers))
