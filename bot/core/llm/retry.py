"""Bounded retries of "busy" answers (429/503), honouring the server's Retry-After."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from bot.core.llm.errors import busy, busy_for

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
# Asked by the retry loop before a long wait: is another server free to take the request now?
Elsewhere = Callable[[], bool]

# A server asking for a longer pause than this is treated as asking for this: a run waits, it does not hang.
MAX_RETRY_AFTER_S = 30.0
# A wait up to this long is taken on the same server (a blip); a longer one goes to another free server, if any.
MOVE_AFTER_S = 5.0


class RetryableStatus(Exception):
    """Raised by a transport for 429/503 before any text was passed on, so a retry never repeats text."""

    def __init__(self, status: int, retry_after_s: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after_s = retry_after_s


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None when absent or unreadable."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


async def with_retries(
    attempt: Callable[[], Awaitable[T]], *, attempts: int, base_delay_s: float, sleep: Sleep, backend: str,
    elsewhere: Elsewhere | None = None,
) -> T:
    """Run ``attempt`` until it stops raising RetryableStatus, waiting Retry-After (bounded) or base·2ⁿ between.

    A wait longer than MOVE_AFTER_S is not taken when ``elsewhere()`` says another server is free: LLMBusy carries
    the wait asked for, and the caller sends the request there."""
    for number in range(1, attempts + 1):
        try:
            return await attempt()
        except RetryableStatus as exc:
            delay = exc.retry_after_s if exc.retry_after_s is not None else base_delay_s * 2 ** (number - 1)
            if delay > MOVE_AFTER_S and elsewhere is not None and elsewhere():
                raise busy_for(exc.status, delay, backend) from None
            if number == attempts:
                raise busy(number, exc.status, backend) from None
            await sleep(min(delay, MAX_RETRY_AFTER_S))
    raise AssertionError("unreachable: attempts >= 1")
