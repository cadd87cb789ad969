"""Ctrl-C (SIGINT) and SIGTERM stop `analyze` cleanly: the outputs are closed off and the exit code says which
signal it was (128 + signal number, the shell's convention: 130 for SIGINT, 143 for SIGTERM)."""

from __future__ import annotations

import asyncio
import signal
from types import FrameType
from typing import Any

from bot.errors import PostmortemError

_HANDLED = (signal.SIGINT, signal.SIGTERM)


class Interrupted(PostmortemError):
    def __init__(self, signum: int) -> None:
        name = self.signal_name = signal.Signals(signum).name
        super().__init__(
            f"interrupted by {name}; run.json records it and a partial report.md says where it stops",
            "run the command again for a full report",
        )
        self.exit_code = 128 + signum


class SignalGuard:
    """While synchronous code runs (loading the input), a signal raises Interrupted right there; once attached to
    an event loop, it cancels the main task instead, so ``finally`` blocks and cleanup awaits still run. A second
    signal while the first is being handled is ignored: closing off the outputs takes milliseconds."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.stopping = False  # set while the run writes its final record; signals then wait for the exit
        self._task: asyncio.Task[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._previous = {sig: signal.signal(sig, self._on_signal) for sig in _HANDLED}

    def attach(self) -> None:
        self._loop, self._task = asyncio.get_running_loop(), asyncio.current_task()

    def detach(self) -> None:
        self._loop = self._task = None

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def interrupted(self) -> Interrupted | None:
        return Interrupted(self.signum) if self.signum is not None else None

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None or self.stopping:
            return
        self.signum = signum
        if self._task is not None and self._loop is not None and not self._loop.is_closed():
            # Signal handlers run between bytecodes of the main thread; the thread-safe call wakes the loop.
            self._loop.call_soon_threadsafe(self._task.cancel)
        else:
            raise Interrupted(signum)
