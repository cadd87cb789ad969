"""Several LLM servers behind one client: ``LLM_BASE_URL=http://gpu1:11434/v1,http://gpu2:11434/v1``.

Each server is an LLMClient of its own (its own preflight, model list, context and LLM_CONCURRENCY slots). A request
goes to the least busy healthy server that has the model. A server that refuses, times out, stays busy or lacks the
model is benched for LLM_BENCH_S and the request is sent to the next one, as long as no text has reached the reader
yet (after that, another server would start the answer over: the run fails and a new trigger retries it).

Replicas of the bot each hold a pool; with ``slots`` (the shared run store) "least busy" and LLM_CONCURRENCY count
every replica's requests, not only this one's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from bot.core.llm.client import LLMClient
from bot.core.llm.models import ModelInfo, StreamResult
from bot.core.llm.retry import Sleep
from bot.core.llm.sink import OnText
from bot.errors import LLMTimeout, LLMUnavailable, ModelNotFound, PostmortemError
from bot.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")
# What benches a server: it is down, refuses, stays busy, stalls, or does not have the model.
_SERVER_FAULTS = (LLMUnavailable, LLMTimeout)
# Every server is at LLM_CONCURRENCY (on some replica): look again this often. Runs are bounded by the same total,
# so a slot frees as soon as another request ends.
SLOT_WAIT_S = 0.2


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
    in_flight: int = 0  # requests sent or waiting for one of its slots
    benched_until: float = 0.0
    fault: str | None = None  # why it was last benched, for logs and doctor
    info: ModelInfo | None = None  # from its last preflight; None = not known to have the model

    @property
    def url(self) -> str:
        return self.llm.shown_url


class LLMPool:
    def __init__(self, settings: Settings, *, retry_attempts: int = 5, retry_base_delay_s: float = 1.0,
                 sleep: Sleep = asyncio.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        self.bench_s = settings.llm_bench_s
        self._clock = clock
        self.slots: CallSlots | None = None
        self.servers = [
            Server(LLMClient(settings.model_copy(update={"llm_base_url": url}), retry_attempts=retry_attempts,
                             retry_base_delay_s=retry_base_delay_s, sleep=sleep))
            for url in server_urls(settings)
        ]

    @property
    def shown_url(self) -> str:
        return ", ".join(s.url for s in self.servers)

    def _benched(self, server: Server) -> bool:
        return server.benched_until > self._clock()

    def _bench(self, server: Server, exc: PostmortemError) -> None:
        server.benched_until = self._clock() + self.bench_s
        server.fault = exc.message
        if isinstance(exc, ModelNotFound):
            server.info = None
        log.warning("LLM server %s benched for %.0f s: %s", server.url, self.bench_s, exc.message)

    async def preflight(self) -> ModelInfo:
        """Probe every server not benched (all of them when every one is); the smallest context among those that can
        serve the model is returned, so a prompt sized for it fits whichever server runs it."""
        candidates = [s for s in self.servers if not self._benched(s)] or self.servers
        results = await asyncio.gather(*(s.llm.preflight() for s in candidates), return_exceptions=True)
        usable: list[ModelInfo] = []
        faults: list[tuple[Server, PostmortemError]] = []
        for server, result in zip(candidates, results, strict=True):
            if isinstance(result, ModelInfo):
                server.info, server.fault = result, None
                usable.append(result)
            elif isinstance(result, PostmortemError):
                self._bench(server, result)
                faults.append((server, result))
            else:
                raise result
        if not usable:
            raise self._none_usable(faults)
        smallest = min(usable, key=lambda info: info.context_tokens)
        warnings = list(dict.fromkeys(w for info in usable for w in info.warnings))
        warnings += [f"LLM server {s.url} left out for now: {exc.message}" for s, exc in faults]
        return replace(smallest, warnings=warnings)

    def _none_usable(self, faults: list[tuple[Server, PostmortemError]]) -> PostmortemError:
        if len(faults) == 1:
            return faults[0][1]
        detail = "; ".join(f"{s.url}: {exc.message}" for s, exc in faults) or "every server is benched after failing"
        fix = faults[0][1].fix if faults else "wait a minute, or check the servers in LLM_BASE_URL"
        return LLMUnavailable(f"no LLM server can serve the model ({detail})", fix)

    def _healthy(self, tried: set[Server]) -> list[Server]:
        """Servers that can take a request, least busy (here) first; sorted() keeps LLM_BASE_URL's order among equals."""
        healthy = [s for s in self.servers if s not in tried and s.info is not None and not self._benched(s)]
        return sorted(healthy, key=lambda s: s.in_flight)

    async def _reserve(self, healthy: list[Server]) -> tuple[Server, int | None]:
        if self.slots is None:
            return healthy[0], None
        by_url = {s.url: s for s in healthy}
        while (taken := await self.slots.take(list(by_url))) is None:
            await asyncio.sleep(SLOT_WAIT_S)
        slot, url = taken
        return by_url[url], slot

    async def _on_a_server(self, call: Callable[[LLMClient], Awaitable[T]], started: Callable[[], bool] = lambda: False) -> T:
        tried: set[Server] = set()
        faults: list[tuple[Server, PostmortemError]] = []
        while True:
            healthy = self._healthy(tried)
            if not healthy and not faults:  # nothing known to serve the model (first use, or every bench ran out): look again
                await self.preflight()
                healthy = self._healthy(tried)
            if not healthy:
                raise self._none_usable(faults)
            server, slot = await self._reserve(healthy)
            tried.add(server)
            server.in_flight += 1
            try:
                return await call(server.llm)
            except _SERVER_FAULTS as exc:
                self._bench(server, exc)
                if started():
                    raise
                faults.append((server, exc))
                log.info("retrying on another LLM server after %s failed", server.url)
            finally:
                server.in_flight -= 1
                if slot is not None and self.slots is not None:
                    await self.slots.give_back(slot)

    async def stream(self, system: str, user: str, *, on_text: OnText | None = None, temperature: float | None = None,
                     max_tokens: int | None = None, context_tokens: int | None = None) -> StreamResult:
        delivered = False

        async def relay(delta: str) -> None:
            nonlocal delivered
            delivered = True
            if on_text is not None:
                await on_text(delta)

        return await self._on_a_server(
            lambda llm: llm.stream(system, user, on_text=relay, temperature=temperature, max_tokens=max_tokens,
                                         context_tokens=context_tokens),
            lambda: delivered,
        )

    async def complete(self, system: str, user: str, *, temperature: float, max_tokens: int) -> str:
        return await self._on_a_server(lambda llm: llm.complete(system, user, temperature=temperature, max_tokens=max_tokens))

    async def complete_json(self, system: str, user: str, schema: dict[str, Any], *, max_tokens: int | None = None) -> dict[str, Any]:
        return await self._on_a_server(lambda llm: llm.complete_json(system, user, schema, max_tokens=max_tokens))

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

    async def aclose(self) -> None:
        await asyncio.gather(*(s.llm.aclose() for s in self.servers))
