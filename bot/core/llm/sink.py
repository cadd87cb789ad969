"""What a transport hands its deltas to: template-token stripping, the caller's on_text, and the stall timer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.core.llm.template import TemplateTokenFilter

OnText = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class RequestTarget:
    """Who a request goes to, for error messages that fit the server."""

    model: str
    shown_url: str
    backend: str


class Sink:
    """Collects one answer. ``received`` counts content deltas (≈ tokens) for "dropped after N tokens"."""

    def __init__(self, on_text: OnText | None, deadline: asyncio.Timeout, timeout_s: float) -> None:
        self._on_text = on_text
        self._deadline = deadline
        self._timeout_s = timeout_s
        self._filter = TemplateTokenFilter()
        self._parts: list[str] = []
        self.received = 0

    def touch(self) -> None:
        """The server sent something: restart the inactivity timer."""
        self._deadline.reschedule(asyncio.get_running_loop().time() + self._timeout_s)

    async def text(self, delta: str) -> None:
        self.received += 1
        await self._pass_on(self._filter.feed(delta))
        self.touch()

    async def close(self) -> None:
        await self._pass_on(self._filter.close())

    @property
    def joined(self) -> str:
        return "".join(self._parts)

    @property
    def template_tokens(self) -> int:
        return self._filter.count

    async def _pass_on(self, clean: str) -> None:
        if not clean:
            return
        self._parts.append(clean)
        if self._on_text is not None:
            # Time spent in on_text (e.g. posting to Slack) is ours, not the model's.
            self._deadline.reschedule(None)
            await self._on_text(clean)
