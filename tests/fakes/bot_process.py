"""The real bot as a process (`python -m bot` from the checkout), for tests and benchmarks that kill or multiply it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# A clean stop takes a few seconds (runs interrupted, the store closed); far past that the bot hangs.
STOP_TIMEOUT_S = 60.0


class BotProcess:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", cwd=ROOT, env={**os.environ, **self.env},
                stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out,
            )

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> None:
        """SIGTERM, then the exit; a bot that does not exit is killed and the test fails (a hang, not a slow stop)."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(STOP_TIMEOUT_S):
                    await self.proc.wait()
            except TimeoutError:
                await self.kill()
                raise AssertionError(f"the bot did not exit within {STOP_TIMEOUT_S:.0f} s of SIGTERM (see {self.log})") from None
